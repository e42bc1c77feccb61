"""Parameters as the task holds them: flat "a/b" names with text values and
the type the code gave them, and the dict that task.connect() hands back,
which records every later write (as ClearML's connected dicts do)."""
import json


class RecordingDict(dict):
    """A connected dict. Every write at any depth (an item set or deleted,
    update, setdefault, pop, popitem, clear, |=) calls `on_change` once after
    the dict has changed; nested dicts, including ones assigned later, are
    RecordingDicts reporting to the same place. Copies and pickles are plain
    dicts, so nothing outside the task is tied to it."""

    def __init__(self, data, on_change):
        super().__init__()
        self._on_change = on_change
        for k, v in data.items():
            super().__setitem__(k, self._adopt(v))

    def _adopt(self, v):
        if isinstance(v, RecordingDict):
            v._on_change = self._changed
            return v
        if isinstance(v, dict):
            return RecordingDict(v, self._changed)
        return v

    def _changed(self):
        self._on_change()

    def __setitem__(self, key, value):
        super().__setitem__(key, self._adopt(value))
        self._changed()

    def __delitem__(self, key):
        super().__delitem__(key)
        self._changed()

    def update(self, *args, **kwargs):
        for k, v in dict(*args, **kwargs).items():
            super().__setitem__(k, self._adopt(v))
        self._changed()

    def __ior__(self, other):
        self.update(other)
        return self

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key, *default):
        had = key in self
        out = super().pop(key, *default)
        if had:
            self._changed()
        return out

    def popitem(self):
        out = super().popitem()
        self._changed()
        return out

    def clear(self):
        super().clear()
        self._changed()

    def __reduce__(self):
        return (dict, (plain(self),))


def plain(d):
    """A RecordingDict (or any dict) as plain nested dicts."""
    return {k: plain(v) if isinstance(v, dict) else v for k, v in d.items()}


def to_text(v):
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, default=str)
    return str(v)


def from_text(text, typ):
    """The text of a parameter as the type the code gave it, when it parses
    as one; else the text."""
    try:
        if typ is bool:
            return text.strip().lower() in ("true", "1", "yes", "on")
        if typ in (int, float):
            return typ(text)
        if typ in (list, tuple, dict):
            return typ(json.loads(text))
        if typ is type(None):
            return None if text in ("None", "") else text
    except (ValueError, TypeError):
        pass
    return text


def flatten(d, prefix=""):
    """{"opt": {"lr": 1}} -> {"opt/lr": 1}; an empty dict is a value."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "/"))
        else:
            out[key] = v
    return out


def unflatten_into(d, flat):
    for key, v in flat.items():
        parts = key.split("/")
        node = d
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v
