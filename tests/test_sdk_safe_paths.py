"""Paths that come from the server are never written outside their folder:
crafted folder artifacts (tar members with "..", absolute names, links out,
devices) and dataset rows with such paths are refused with an error naming
the member, on this Python and on Debian's /usr/bin/python3 (whose tarfile
has no extraction filter), and nothing lands outside the cache."""
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from conftest import Server

PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "python"))
sys.path.insert(0, PYTHON_DIR)
import roundhouse  # noqa: E402
from roundhouse import artifact as artifact_module  # noqa: E402

INTERPRETERS = [sys.executable] + (["/usr/bin/python3"] if os.path.exists("/usr/bin/python3") else [])


def _tar(path, members):
    """members: (TarInfo fields, data) pairs."""
    with tarfile.open(path, "w:gz") as tar:
        for fields, data in members:
            info = tarfile.TarInfo(fields.pop("name"))
            for k, v in fields.items():
                setattr(info, k, v)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


CRAFTED = {
    "dotdot": [({"name": "../../../../escaped-dotdot"}, b"x")],
    "absolute": [({"name": "ESCAPE_ABS"}, b"x")],  # name filled in per test
    "symlink-out": [({"name": "link", "type": tarfile.SYMTYPE, "linkname": "ESCAPE_DIR"}, None),
                    ({"name": "link/escaped-through-link"}, b"x")],
    "symlink-dotdot": [({"name": "up", "type": tarfile.SYMTYPE, "linkname": "../../.."}, None)],
    "hardlink-out": [({"name": "hard", "type": tarfile.LNKTYPE, "linkname": "/etc/passwd"}, None)],
    "device": [({"name": "dev", "type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}, None)],
    # Each link stays inside on its own; followed one after the other they leave.
    "chain": [({"name": "s", "type": tarfile.DIRTYPE, "mode": 0o755}, None),
              ({"name": "s/l", "type": tarfile.SYMTYPE, "linkname": ".."}, None),
              ({"name": "t", "type": tarfile.SYMTYPE, "linkname": "s/l/.."}, None)],
    "chain-write": [({"name": "s", "type": tarfile.DIRTYPE, "mode": 0o755}, None),
                    ({"name": "s/l", "type": tarfile.SYMTYPE, "linkname": ".."}, None),
                    ({"name": "t", "type": tarfile.SYMTYPE, "linkname": "s/l/.."}, None),
                    ({"name": "t/escaped-chain"}, b"x")],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(str(tmp_path_factory.mktemp("safe-server")))
    yield s
    s.stop()


def test_crafted_folder_artifacts_are_refused_and_write_nothing_outside(tmp_path, server, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    t = roundhouse.init(project="safe", name="crafted", server=server.url, capture_console=False)
    made = {}
    for name, members in CRAFTED.items():
        members = [(dict(f, **({"name": str(outside / "escaped-abs")} if f["name"] == "ESCAPE_ABS" else {}),
                         **({"linkname": str(outside)} if f.get("linkname") == "ESCAPE_DIR" else {})), d)
                   for f, d in members]
        path = tmp_path / f"{name}.tar.gz"
        _tar(path, members)
        made[name] = path
    good = tmp_path / "good.tar.gz"
    _tar(good, [({"name": "./sub", "type": tarfile.DIRTYPE, "mode": 0o755}, None),
                ({"name": "./sub/w.txt", "mode": 0o644}, b"weights"),
                ({"name": "./rel", "type": tarfile.SYMTYPE, "linkname": "sub/w.txt"}, None)])
    made["good"] = good
    for name, path in made.items():
        monkeypatch.setattr(artifact_module, "encode",
                            lambda obj, p=path: ("folder", "application/gzip", str(p), None))
        t.upload_artifact(name, "ignored")
    t.close()

    check = (
        "import json, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import roundhouse\n"
        "t = roundhouse.Task.get_task(task_id=sys.argv[2], server=sys.argv[3])\n"
        "out = {}\n"
        "for name, a in t.artifacts.items():\n"
        "    try:\n"
        "        out[name] = 'ok ' + a.get_local_copy()\n"
        "    except roundhouse.RoundhouseError as e:\n"
        "        out[name] = 'refused ' + str(e)\n"
        "print(json.dumps(out))\n")
    for python in INTERPRETERS:
        data = tmp_path / ("data-" + os.path.basename(python))
        p = subprocess.run([python, "-c", check, PYTHON_DIR, t.id, server.url], capture_output=True, text=True,
                           env=dict(os.environ, RH_DATA_DIR=str(data), HOME=str(tmp_path / "home")), timeout=60)
        assert p.returncode == 0, (python, p.stderr)
        got = json.loads(p.stdout)
        assert got["good"].startswith("ok "), (python, got["good"])
        folder = got["good"][3:]
        assert open(os.path.join(folder, "sub", "w.txt")).read() == "weights"
        assert os.readlink(os.path.join(folder, "rel")) == "sub/w.txt"
        for name in CRAFTED:
            assert got[name].startswith("refused invalid_argument: folder artifact " + name), (python, name, got[name])
        assert "'../../../../escaped-dotdot'" in got["dotdot"]
        # Nothing escaped, and no half-extracted folder stayed in the cache.
        escaped = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path) for f in fs if f.startswith("escaped")]
        assert escaped == [], (python, escaped)
        cache = data / "cache" / "artifacts"
        assert [n for n in os.listdir(cache) if ".d" in n] == [os.path.basename(folder)], os.listdir(cache)


def test_dataset_rows_with_paths_leaving_the_target_are_refused(tmp_path):
    from roundhouse import _safe_paths
    for bad in ["../x", "/etc/passwd", "a/../../b", "a//b", "./a", "a\\b", ""]:
        with pytest.raises(roundhouse.RoundhouseError, match="dataset path"):
            _safe_paths.relative_path("dataset path", bad)
    assert _safe_paths.relative_path("dataset path", "a b/ü.txt") == "a b/ü.txt"
