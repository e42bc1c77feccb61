"""Datasets under crashes: a process killed during add, upload or finalize
(at a named step through RH_CRASH_AT, or by a real SIGKILL at an arbitrary
moment) never leaves a partial object under a digest's name, never a row
pointing at contents that are not stored, and a rerun finishes the job doing
only what is left. Also: a file the user cannot read is a clear error."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

from conftest import RH, Server, rh, wait_for


def data(*args, home, env=None, check=True):
    return rh("data", *args, data_dir=home, env=env, check=check)


def create(home, env=None):
    return data("create", "--project", "p", "--name", "ds", home=home, env=env).stdout.strip()


def make_small(root, n):
    for i in range(n):
        d = os.path.join(root, f"d{i % 20:02}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:05}.bin"), "wb") as f:
            f.write(i.to_bytes(4, "little") + os.urandom(60))


def make_big(root, n, mib):
    os.makedirs(root, exist_ok=True)
    for i in range(n):
        with open(os.path.join(root, f"big{i}.bin"), "wb") as f:
            f.write(os.urandom(mib << 20))


def pack_entries(path):
    """The (digest, bytes) of a pack (blob/local/packs.h: "RHB1", then per
    object its 71-byte digest, its size as u64 little-endian, its bytes)."""
    with open(path, "rb") as f:
        b = f.read()
    assert b[:4] == b"RHB1", f"{path} is not a pack"
    at, out = 4, []
    while at < len(b):
        assert at + 79 <= len(b), f"{path}: an entry cut short at {at}"
        digest = b[at:at + 71].decode()
        size = int.from_bytes(b[at + 71:at + 79], "little")
        at += 79
        assert at + size <= len(b), f"{path}: {digest} cut short"
        out.append((digest, b[at:at + size]))
        at += size
    return out


def whole_objects(blob_root):
    """Every object under a blob folder (its tmp/ left out), loose or in a
    pack, holds the content its name says, and every pack is whole; returns
    how many distinct objects there are. (A pack a crash left unindexed
    counts: the store indexes it when it next opens.)"""
    seen = set()
    for d, _, fs in os.walk(blob_root):
        top = os.path.relpath(d, blob_root).split(os.sep)[0]
        if top == "tmp":
            continue
        if top == "packs":
            for f in fs:
                if f.endswith(".pack"):
                    for digest, content in pack_entries(os.path.join(d, f)):
                        assert digest == "sha256:" + hashlib.sha256(content).hexdigest(), \
                            f"partial object {digest} in {d}/{f}"
                        seen.add(digest)
            continue
        for f in fs:
            h = hashlib.sha256()
            with open(os.path.join(d, f), "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            assert os.path.basename(d) + f == h.hexdigest(), f"partial object {d}/{f}"
            seen.add("sha256:" + h.hexdigest())
    return len(seen)


def files_of(home, v, env=None):
    return json.loads(data("show", v, "--json", home=home, env=env).stdout)


def same_tree(a, b):
    def listing(root):
        out = {}
        for d, _, fs in os.walk(root):
            for f in fs:
                p = os.path.join(d, f)
                with open(p, "rb") as fh:
                    out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
        return out
    la, lb = listing(a), listing(b)
    assert la == lb and la


def test_add_killed_between_objects_or_before_its_rows(tmp_path):
    home, src = tmp_path / "home", tmp_path / "src"
    make_small(src, 600)
    make_big(src / "big", 2, 3)
    v = create(home)
    # Killed after 100 of 602 contents went into the store: no rows, whole objects only.
    r = data("add", v, str(src), home=home, env={"RH_CRASH_AT": "add:object@100"}, check=False)
    assert r.returncode == -signal.SIGKILL, r
    assert files_of(home, v)["files"] == []
    assert 100 <= whole_objects(home / "blobs") < 602
    # Killed after every content is stored but before the rows: still no rows.
    r = data("add", v, str(src), home=home, env={"RH_CRASH_AT": "add:stored"}, check=False)
    assert r.returncode == -signal.SIGKILL
    assert files_of(home, v)["files"] == []
    assert whole_objects(home / "blobs") == 602
    # The rerun reads nothing again (the stat cache and the stored objects survived) and finishes.
    again = data("add", v, str(src), home=home)
    assert "602 file(s) added (0 read and hashed" in again.stderr, again.stderr
    data("finalize", v, home=home)
    out = data("get", v, "--verify", "--output", str(tmp_path / "out"), home=home)
    assert "602 files" in out.stderr
    same_tree(src, tmp_path / "out")


def test_add_killed_at_a_random_moment(tmp_path):
    """A real SIGKILL while contents are being written, at whatever point it lands."""
    home, src = tmp_path / "home", tmp_path / "src"
    make_small(src, 3000)
    make_big(src / "big", 4, 8)
    v = create(home)
    env = dict(os.environ)
    env.pop("RH_SERVER", None)
    p = subprocess.Popen([RH, "--data-dir", str(home), "data", "add", v, str(src)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: p.poll() is not None or any(os.scandir(home / "blobs" / "tmp"))
             or whole_objects(home / "blobs") > 0, timeout=20, what="the first object")
    p.kill()
    p.wait()
    stored = whole_objects(home / "blobs")
    rows = files_of(home, v)["files"]
    if p.returncode == -signal.SIGKILL:
        assert rows == [], "rows written by a killed add"
    else:  # it finished first: every row's content is there
        assert len(rows) == 3004 and stored == 3004
    data("add", v, str(src), home=home)
    data("finalize", v, home=home)
    data("get", v, "--verify", "--output", str(tmp_path / "out"), home=home)
    same_tree(src, tmp_path / "out")


def test_upload_killed_after_a_slice_resumes_with_the_rest(tmp_path, server):
    env = {"RH_SERVER": server.url}
    home, src = tmp_path / "home", tmp_path / "src"
    make_small(src, 16500)  # uploads go in slices of 16,000
    v = create(home, env)
    data("add", v, str(src), home=home, env=env)
    r = data("upload", v, home=home, env=dict(env, RH_CRASH_AT="upload:slice"), check=False)
    assert r.returncode == -signal.SIGKILL
    assert whole_objects(os.path.join(server.data_dir, "blobs")) == 16000
    # Finalize refuses while contents are missing; the rerun sends only the rest.
    r = data("finalize", v, home=home, env=env, check=False)
    assert r.returncode != 0 and "500 file(s) of version" in r.stderr, r.stderr
    up = data("upload", v, home=home, env=env)
    assert "500 file(s) uploaded" in up.stderr, up.stderr
    data("finalize", v, home=home, env=env)
    got = data("get", v, "--output", str(tmp_path / "out"), home=tmp_path / "fresh", env=env)
    assert "16500 files (16500 downloaded" in got.stderr, got.stderr
    same_tree(src, tmp_path / "out")


def resume_on_a_restarted_server(tmp_path, remote, home, src, v, left):
    """A new server on the killed one's folder: the rerun of the upload sends
    exactly `left` files, and a fresh machine gets the whole version back."""
    server = Server(str(remote))
    try:
        env = {"RH_SERVER": server.url}
        up = data("upload", v, home=home, env=env)
        assert f"{left} file(s) uploaded" in up.stderr, (left, up.stderr)
        data("finalize", v, home=home, env=env)
        data("get", v, "--verify", "--output", str(tmp_path / "out"), home=tmp_path / "fresh", env=env)
        same_tree(src, tmp_path / "out")
    finally:
        server.stop()


def test_server_killed_during_upload_keeps_what_it_acknowledged(tmp_path):
    remote, home, src = tmp_path / "remote", tmp_path / "home", tmp_path / "src"
    make_big(src, 6, 16)
    server = Server(str(remote))
    try:
        env = {"RH_SERVER": server.url}
        v = create(home, env)
        data("add", v, str(src), home=home, env=env)
        e = dict(os.environ, RH_SERVER=server.url)
        up = subprocess.Popen([RH, "--data-dir", str(home), "data", "upload", v], env=e,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: whole_objects(remote / "blobs") >= 1 or up.poll() is not None,
                 timeout=30, what="the first stored object")
        server.stop(signal.SIGKILL)
        err = up.communicate(timeout=30)[1]
    finally:
        server.stop(signal.SIGKILL)
    stored = whole_objects(remote / "blobs")
    if up.returncode == 0:
        assert stored == 6  # it finished before the kill
    else:
        assert 1 <= stored < 6 and "server" in err.lower(), err
    resume_on_a_restarted_server(tmp_path, remote, home, src, v, 6 - stored)


def test_server_killed_between_a_pack_and_its_index_loses_nothing(tmp_path):
    """Small files arrive in batches, each written as one pack and then
    indexed. A server killed between the two keeps the pack; the restarted
    server indexes it, so the rerun sends only what no pack holds."""
    remote, home, src = tmp_path / "remote", tmp_path / "home", tmp_path / "src"
    # Five batches of at most 2,000. The client has at most three in flight
    # and none is answered before the first pack is written, so at most
    # three packs (6,000 objects) exist when the server dies.
    make_small(src, 9000)
    server = Server(str(remote), env={"RH_CRASH_AT": "pack:written"})
    try:
        env = {"RH_SERVER": server.url}
        v = create(home, env)
        data("add", v, str(src), home=home, env=env)
        r = data("upload", v, home=home, env=env, check=False)
        assert r.returncode != 0 and "server" in r.stderr.lower(), r.stderr
        server.proc.wait(timeout=30)
        assert server.proc.returncode == -signal.SIGKILL
    finally:
        server.stop(signal.SIGKILL)
    stored = whole_objects(remote / "blobs")
    assert 1 <= stored <= 6000
    resume_on_a_restarted_server(tmp_path, remote, home, src, v, 9000 - stored)


def test_a_starting_server_removes_uploads_a_killed_one_left(tmp_path):
    """A killed server's half-received uploads and half-written packs stay
    in blobs/tmp; the next start removes those untouched for an hour and
    leaves younger ones (another writer may be at work on them)."""
    remote = tmp_path / "remote"
    Server(str(remote)).stop()
    tmp = remote / "blobs" / "tmp"
    stale, fresh = tmp / ".tmp-123", tmp / "upload-456"
    stale.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"y" * 1000)
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    server = Server(str(remote))
    try:
        assert not stale.exists() and fresh.exists()
    finally:
        server.stop()


def test_finalize_killed_after_the_manifest_leaves_a_draft(tmp_path, server):
    for env, home in (({}, tmp_path / "embedded"), ({"RH_SERVER": server.url}, tmp_path / "remote")):
        src = tmp_path / "src"
        shutil.rmtree(src, ignore_errors=True)
        make_small(src, 50)
        v = create(home, env)
        data("add", v, str(src), home=home, env=env)
        r = data("finalize", v, "--upload", home=home, env=dict(env, RH_CRASH_AT="finalize:manifest"),
                 check=False)
        assert r.returncode == -signal.SIGKILL
        shown = files_of(home, v, env)
        assert shown["state"] == "draft" and not shown.get("manifest"), shown
        fin = data("finalize", v, home=home, env=env)
        assert "50 files" in fin.stderr
        shown = files_of(home, v, env)
        assert shown["state"] == "final" and shown["manifest"].startswith("sha256:")


def test_an_unreadable_file_is_named_and_nothing_is_added(tmp_path):
    home, src = tmp_path / "home", tmp_path / "src"
    make_small(src, 10)
    secret = src / "d03" / "secret.bin"
    secret.write_bytes(b"no entry")
    os.chmod(secret, 0)
    v = create(home)
    cmd = [RH, "--data-dir", str(home), "data", "add", v, str(src)]
    if os.geteuid() == 0:  # root reads everything: drop the capabilities that allow it
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] + cmd
    env = dict(os.environ)
    env.pop("RH_SERVER", None)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode != 0
    assert f"cannot read {secret}" in r.stderr and "Permission denied" in r.stderr, r.stderr
    assert files_of(home, v)["files"] == []
    os.chmod(secret, 0o644)
    assert "11 file(s) added" in data("add", v, str(src), home=home).stderr
