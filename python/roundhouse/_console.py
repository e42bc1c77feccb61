"""Tees sys.stdout and sys.stderr: the user still sees everything; complete
lines go to the reporter (a carriage return keeps the text after it, as a
progress bar's last state)."""
import sys
import threading


class Tee:
    def __init__(self, original, stream, reporter):
        self._original = original
        self._stream = stream
        self._reporter = reporter
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, s):
        n = self._original.write(s)
        if not isinstance(s, str):
            return n
        with self._lock:
            text = self._partial + s
            lines = text.split("\n")
            self._partial = lines.pop()
            for line in lines:
                if "\r" in line.rstrip("\r"):
                    line = line.rstrip("\r").rsplit("\r", 1)[-1]
                self._reporter.line(self._stream, line.rstrip("\r"))
            if len(self._partial) > 65536:
                self._reporter.line(self._stream, self._partial)
                self._partial = ""
        return n

    def flush_partial(self):
        with self._lock:
            if self._partial:
                self._reporter.line(self._stream, self._partial)
                self._partial = ""

    def flush(self):
        return self._original.flush()

    def __getattr__(self, name):
        return getattr(self._original, name)


def install(reporter):
    out = Tee(sys.stdout, "stdout", reporter)
    err = Tee(sys.stderr, "stderr", reporter)
    sys.stdout, sys.stderr = out, err
    return out, err


def uninstall(tees):
    for t in tees:
        t.flush_partial()
    out, err = tees
    if sys.stdout is out:
        sys.stdout = out._original
    if sys.stderr is err:
        sys.stderr = err._original
