"""Logger: what a task reports while it runs."""
import math


class Logger:
    def __init__(self, task):
        self._task = task

    def report_scalar(self, title, series, value, iteration):
        """One point of a chart: title groups series on one chart."""
        self._task._reporter.scalar(title, series, float(value), int(iteration))

    def report_text(self, msg, print_console=True):
        """A line in the task's console."""
        if print_console:
            print(msg)
        else:
            self._task._reporter.line("stdout", str(msg))

    def flush(self):
        return self._task._reporter.flush()
