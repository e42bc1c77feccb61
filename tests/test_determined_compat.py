"""Determined's Core API, as its own released code defines it, against
roundhouse.determined: every call Determined's signatures accept (the same
positional parameters in the same order, every keyword, defaults where it
has them) must be accepted by ours. Determined's wheels (0.37.0, whose
searcher.operations() 0.38 dropped, and 0.38.1) are read with ast, not
installed (scripts/test-venv.sh downloads them)."""
import ast
import glob
import inspect
import os
import sys
import zipfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from roundhouse.determined import core  # noqa: E402
import roundhouse.determined as det  # noqa: E402

PEERS = os.path.join(os.path.dirname(__file__), ".venv", "peers")

# (file in the wheel, class or "" for a module function, name, our callable)
SURFACE = [
    ("determined/core/_train.py", "TrainContext", "report_training_metrics", core.TrainContext.report_training_metrics),
    ("determined/core/_train.py", "TrainContext", "report_validation_metrics", core.TrainContext.report_validation_metrics),
    ("determined/core/_train.py", "TrainContext", "report_metrics", core.TrainContext.report_metrics),
    ("determined/core/_train.py", "TrainContext", "report_progress", core.TrainContext.report_progress),
    ("determined/core/_train.py", "TrainContext", "report_early_exit", core.TrainContext.report_early_exit),
    ("determined/core/_checkpoint.py", "CheckpointContext", "upload", core.CheckpointContext.upload),
    ("determined/core/_checkpoint.py", "CheckpointContext", "download", core.CheckpointContext.download),
    ("determined/core/_checkpoint.py", "CheckpointContext", "get_metadata", core.CheckpointContext.get_metadata),
    ("determined/core/_checkpoint.py", "CheckpointContext", "store_path", core.CheckpointContext.store_path),
    ("determined/core/_checkpoint.py", "CheckpointContext", "restore_path", core.CheckpointContext.restore_path),
    ("determined/core/_preempt.py", "PreemptContext", "should_preempt", core.PreemptContext.should_preempt),
    ("determined/core/_preempt.py", "PreemptContext", "acknowledge_preemption_signal",
     core.PreemptContext.acknowledge_preemption_signal),
    ("determined/core/_searcher.py", "SearcherContext", "operations", core.SearcherContext.operations),
    ("determined/core/_searcher.py", "SearcherOperation", "report_progress", core.SearcherOperation.report_progress),
    ("determined/core/_searcher.py", "SearcherOperation", "report_completed", core.SearcherOperation.report_completed),
    ("determined/core/_context.py", "", "init", core.init),
    ("determined/_info.py", "", "get_cluster_info", det.get_cluster_info),
]


def wheel(version):
    found = glob.glob(os.path.join(PEERS, f"determined-{version}-*.whl"))
    if not found:
        pytest.fail(f"Determined {version}'s wheel is missing from {PEERS}: run scripts/test-venv.sh")
    return zipfile.ZipFile(found[0])


def their_signature(zf, path, cls, name):
    """(positional names, keyword-only names, names with defaults) or None."""
    try:
        tree = ast.parse(zf.read(path))
    except KeyError:
        return None
    scope = tree.body
    if cls:
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
        if not classes:
            return None
        scope = classes[0].body
    funcs = [n for n in scope if isinstance(n, ast.FunctionDef) and n.name == name]
    if not funcs:
        return None
    a = funcs[0].args
    positional = [x.arg for x in a.posonlyargs + a.args]
    if cls and positional and positional[0] == "self":
        positional = positional[1:]
    defaults = set(positional[len(positional) - len(a.defaults):]) if a.defaults else set()
    kwonly = [x.arg for x in a.kwonlyargs]
    defaults |= {x.arg for x, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None}
    return positional, kwonly, defaults


def our_signature(fn):
    params = list(inspect.signature(fn).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    kwonly = [p.name for p in params if p.kind == p.KEYWORD_ONLY]
    defaults = {p.name for p in params if p.default is not p.empty}
    return positional, kwonly, defaults


@pytest.mark.parametrize("version", ["0.37.0", "0.38.1"])
def test_every_call_determined_accepts_is_accepted_here(version):
    zf = wheel(version)
    checked = 0
    for path, cls, name, ours in SURFACE:
        theirs = their_signature(zf, path, cls, name)
        if theirs is None:
            continue  # not in this release (0.38 dropped searcher.operations)
        t_pos, t_kw, t_def = theirs
        o_pos, o_kw, o_def = our_signature(ours)
        where = f"{cls + '.' if cls else ''}{name} (Determined {version})"
        assert o_pos[:len(t_pos)] == t_pos, f"{where}: positional {o_pos} vs theirs {t_pos}"
        for k in t_kw:
            assert k in o_kw or k in o_pos, f"{where}: keyword {k!r} missing"
        for k in t_def:
            assert k in o_def, f"{where}: {k!r} has a default there, not here"
        for k in set(o_pos[len(t_pos):]) | set(o_kw):
            assert k in o_def, f"{where}: our extra parameter {k!r} needs a default"
        checked += 1
    assert checked >= 14, f"only {checked} of Determined {version}'s calls were found to compare"
