"""Run a callback when a module is imported (now, if it already is), so the
SDK can patch matplotlib and torch only when the user's code loads them."""
import importlib.abc
import importlib.util
import sys
import threading

_callbacks = {}
_lock = threading.Lock()


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in _callbacks:
            return None
        # Find the real spec with this finder out of the way, then wrap its loader.
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader

        class Loader(importlib.abc.Loader):
            def create_module(self, s):
                return loader.create_module(s)

            def exec_module(self, module):
                loader.exec_module(module)
                _run(name, module)

        spec.loader = Loader()
        return spec


_finder = _Finder()


def _run(name, module):
    with _lock:
        fns = _callbacks.pop(name, [])
    for fn in fns:
        try:
            fn(module)
        except Exception as e:  # a failed patch must not break the user's import
            sys.__stderr__.write(f"roundhouse: could not hook {name}: {e}\n")


def when_imported(name, fn):
    if name in sys.modules:
        fn(sys.modules[name])
        return
    with _lock:
        _callbacks.setdefault(name, []).append(fn)
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
