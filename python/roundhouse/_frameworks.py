"""What the SDK records from the frameworks the user's code loads, without
the code asking: matplotlib figures saved or shown become debug images,
files written by torch.save become output models, and argparse results
become the "Args" parameters. The patches are installed when the module is
first imported (before or after init) and do nothing while no task runs or
while the task switched that framework off (init's auto_connect_*).

Matplotlib, as the user sees it:
  - a figure saved or shown is reported once; saved and then shown without a
    change, it is not reported again (same PNG);
  - after plt.show() on a non-interactive backend (Agg, in scripts and on
    agents) the shown figures are closed, so the next plot starts on a clean
    figure as it would after an interactive window is closed;
  - Logger.report_matplotlib_figure's own savefig is not reported twice."""
import argparse
import contextlib
import hashlib
import io
import os
import sys
import threading
import weakref

from . import _imports

_local = threading.local()
_last_args = []  # (parser, namespace) parsed before init()
_figure_counter = [0]
_reported = weakref.WeakKeyDictionary()  # figure -> digest of the PNG last reported


_installed = []


def install():
    """Called by Task.init: hooks each framework when it is imported (once
    per process; the hooks find the task that runs at the time)."""
    if _installed:
        return
    _installed.append(True)
    _imports.when_imported("matplotlib.figure", _patch_savefig)
    _imports.when_imported("matplotlib.pyplot", _patch_show)
    _imports.when_imported("torch", _patch_torch)


@contextlib.contextmanager
def quiet():
    """Inside it, figures saved on this thread are not reported."""
    was = getattr(_local, "quiet", False)
    _local.quiet = True
    try:
        yield
    finally:
        _local.quiet = was


def pending_args():
    """The argparse results parsed before init(), taken once."""
    out = list(_last_args)
    _last_args.clear()
    return out


def _running_task(framework):
    from . import task as task_module  # task imports this module
    t = task_module._current
    if t is None or t._closed or not t._framework_enabled(framework):
        return None
    return t


def _title(fig):
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    if not title:
        titles = [ax.get_title() for ax in fig.get_axes() if ax.get_title()]
        title = titles[0] if titles else "matplotlib"
    return title


def _report_figure(fig):
    task = _running_task("matplotlib")
    if task is None or getattr(_local, "quiet", False):
        return
    buf = io.BytesIO()
    with quiet():
        fig.savefig(buf, format="png")
    png = buf.getvalue()
    digest = hashlib.sha256(png).digest()
    if _reported.get(fig) == digest:
        return
    _reported[fig] = digest
    number = getattr(fig, "number", None)
    _figure_counter[0] += 1
    try:
        task.get_logger().report_image_bytes(_title(fig), f"figure {number}" if number is not None else "figure",
                                             _figure_counter[0] - 1, png, source="matplotlib")
    except Exception as e:  # reporting must never break the user's plotting
        sys.__stderr__.write(f"roundhouse: could not record a matplotlib figure: {e}\n")


def _patch_savefig(figure_module):
    Figure = figure_module.Figure
    original = Figure.savefig

    def savefig(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        _report_figure(self)
        return out

    Figure.savefig = savefig


def _patch_show(plt):
    original = plt.show

    def show(*args, **kwargs):
        if _running_task("matplotlib") is None:
            return original(*args, **kwargs)
        from matplotlib import _pylab_helpers
        figures = [m.canvas.figure for m in _pylab_helpers.Gcf.get_all_fig_managers()]
        for fig in figures:
            _report_figure(fig)
        out = original(*args, **kwargs)
        if str(plt.get_backend()).lower() in _non_interactive_backends():
            for fig in figures:
                plt.close(fig)
        return out

    plt.show = show


def _non_interactive_backends():
    try:  # matplotlib >= 3.9
        from matplotlib.backends import BackendFilter, backend_registry
        names = backend_registry.list_builtin(BackendFilter.NON_INTERACTIVE)
    except ImportError:
        from matplotlib import rcsetup
        names = rcsetup.non_interactive_bk
    return {n.lower() for n in names}


def _patch_torch(torch):
    original = torch.save

    def save(obj, f, *args, **kwargs):
        out = original(obj, f, *args, **kwargs)
        task = _running_task("pytorch")
        if task is None:
            return out
        if isinstance(f, (str, os.PathLike)):
            path = os.fspath(f)
        else:  # an open file: registered by its name once what torch wrote is flushed
            path = getattr(f, "name", None)
            if not isinstance(path, str) or not os.path.isfile(path):
                return out
            try:
                f.flush()
            except (OSError, ValueError, AttributeError):
                return out
        from .model import OutputModel
        try:
            OutputModel(task, framework="pytorch").update_weights(path)
        except Exception as e:
            sys.__stderr__.write(f"roundhouse: could not register {path} as a model: {e}\n")
        return out

    torch.save = save


def _patch_argparse():
    original = argparse.ArgumentParser.parse_known_args

    def parse_known_args(self, args=None, namespace=None):
        ns, rest = original(self, args, namespace)
        from . import task as task_module
        t = task_module._current
        if t is not None and not t._closed:
            if t._auto_args:
                t._connect_args(self, ns)
        else:
            _last_args.append((self, ns))
        return ns, rest

    argparse.ArgumentParser.parse_known_args = parse_known_args


_patch_argparse()
