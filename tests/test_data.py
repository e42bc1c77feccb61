"""Datasets from the command line: versions as parent + delta, the local
cache and its stat cache, upload to a server (resumable), get into a fresh
machine's folder with digests checked, damaged cache objects repaired, and
every kind of bad input refused with nothing half-written."""
import hashlib
import json
import os
import subprocess
import threading


from conftest import RH, rh


def write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(content)


def make_tree(root, n=20):
    for i in range(n):
        write(os.path.join(root, f"d{i % 3}", f"f{i}.txt"), f"content {i}\n")
    write(os.path.join(root, "table.csv"), "a,b\n1,2\n")


def objects(root):
    """The objects of a blob folder (its tmp/ left out)."""
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
                  if os.path.relpath(d, root).split(os.sep)[0] != "tmp")


def data(*args, home, env=None, check=True):
    return rh("data", *args, data_dir=home, env=env, check=check)


def create(home, *extra, env=None):
    return data("create", "--project", "p", "--name", "ds", *extra, home=home, env=env).stdout.strip()


def test_versions_are_parents_plus_deltas_and_get_links_the_cache(tmp_path):
    home, src = tmp_path / "home", tmp_path / "src"
    make_tree(src)
    v1 = create(home, "--tag", "raw")
    data("add", v1, str(src), home=home)
    out = data("finalize", v1, home=home)
    assert "21 files" in out.stderr and "+21" in out.stderr
    # Change 1 file, add 1, remove 1; the new version stores only the delta's content.
    write(src / "d0" / "f0.txt", "changed\n")
    write(src / "new.txt", "new\n")
    os.remove(src / "d1" / "f1.txt")
    v2 = create(home, "--parent", v1[:10])
    sync = data("sync", v2, str(src), home=home)
    assert "1 added, 1 modified, 1 removed, 19 unchanged" in sync.stderr
    fin = data("finalize", v2, home=home)
    assert "+1 (4 B) ~1 (8 B) -1 (10 B)" in fin.stderr, fin.stderr  # "content 1\\n" is 10 bytes
    diff = data("diff", v1, v2, home=home).stdout.splitlines()
    assert diff == ["~ d0/f0.txt", "- d1/f1.txt", "+ new.txt"]  # in path order
    listing = json.loads(data("list", "--json", home=home).stdout)["datasets"]
    assert [v["version"] for v in listing] == ["1.0.1", "1.0.0"]
    assert listing[0]["parents"] == [v1] and listing[1]["tags"] == ["raw"]
    # The newest final version by name; files are read-only links into the cache.
    got = data("get", "--project", "p", "--name", "ds", home=home)
    folder = got.stdout.strip()
    assert "21 files (0 downloaded, 21 linked" in got.stderr
    assert open(os.path.join(folder, "d0", "f0.txt")).read() == "changed\n"
    assert not os.path.exists(os.path.join(folder, "d1", "f1.txt"))
    st = os.stat(os.path.join(folder, "new.txt"))
    assert st.st_nlink >= 2 and (st.st_mode & 0o222) == 0
    # By tag: the first version; --mutable gives writable copies.
    mut = data("get", "--project", "p", "--name", "ds", "--tag", "raw", "--mutable", "--output",
               str(tmp_path / "mine"), home=home)
    assert "21 copied" in mut.stderr
    assert open(tmp_path / "mine" / "d1" / "f1.txt").read() == "content 1\n"
    assert os.stat(tmp_path / "mine" / "table.csv").st_mode & 0o200
    # Same content once in the blob store, however many versions hold it.
    assert len(objects(home / "blobs")) == 21 + 2 + 2  # 21 + new + changed contents, 2 manifests


def test_unchanged_files_are_not_hashed_again(tmp_path):
    home, src = tmp_path / "home", tmp_path / "src"
    make_tree(src, n=50)
    v1 = create(home)
    first = data("add", v1, str(src), home=home)
    assert "51 file(s) added (51 read and hashed" in first.stderr, first.stderr
    assert os.path.exists(home / "statcache.bin")
    # A second add of the same tree finds every file in the stat cache: the
    # cache objects are not rewritten (their mtimes stay).
    objs = objects(home / "blobs")
    assert len(objs) == 51
    before = {p: os.stat(p).st_mtime_ns for p in objs}
    v2 = create(home, "--version", "2")
    again = data("add", v2, str(src), home=home)
    assert "51 file(s) added (0 read and hashed" in again.stderr, again.stderr
    # A touched file is read again (its mtime changed), the rest are not.
    os.utime(src / "table.csv", ns=(1, 1))
    v3 = create(home, "--version", "3")
    third = data("add", v3, str(src), home=home)
    assert "51 file(s) added (1 read and hashed" in third.stderr, third.stderr
    assert {p: os.stat(p).st_mtime_ns for p in objs} == before


def test_bad_input_is_refused_and_nothing_half_written(tmp_path):
    home, src = tmp_path / "home", tmp_path / "src"
    make_tree(src, n=3)
    v = create(home)
    r = data("add", v, str(tmp_path / "missing"), home=home, check=False)
    assert r.returncode != 0 and "cannot add" in r.stderr and "missing" in r.stderr
    outside = tmp_path / "secret.txt"
    write(outside, "secret\n")
    os.symlink(outside, src / "link.txt")
    r = data("add", v, str(src), home=home, check=False)
    assert r.returncode != 0 and "points to" in r.stderr and "outside" in r.stderr
    # Nothing was added by the refused call.
    assert json.loads(data("show", v, "--json", home=home).stdout)["files"] == []
    os.remove(src / "link.txt")
    os.symlink(src / "table.csv", src / "inside.csv")  # inside the folder: followed
    data("add", v, str(src), home=home)
    files = {f["path"] for f in json.loads(data("show", v, "--json", home=home).stdout)["files"]}
    assert "inside.csv" in files
    r = data("add", v, str(src / "table.csv"), "--dataset-path", "../up", home=home, check=False)
    assert r.returncode != 0 and 'dataset path "../up/table.csv"' in r.stderr and ".." in r.stderr, r.stderr
    shown = json.loads(data("show", v, "--json", home=home).stdout)["files"]
    assert {f["path"] for f in shown} == files  # nothing added
    data("finalize", v, home=home)
    for args in (("add", v, str(src)), ("remove", v, "table.csv"), ("sync", v, str(src))):
        r = data(*args, home=home, check=False)
        assert r.returncode != 0 and "final" in r.stderr, args
    r = data("finalize", v, home=home, check=False)
    assert r.returncode != 0 and "already final" in r.stderr
    r = data("create", "--project", "p", "--name", "ds", "--version", "1.0.0", home=home, check=False)
    assert r.returncode != 0 and "already has version 1.0.0" in r.stderr
    child = create(home, "--parent", v)
    r = data("delete", v, home=home, check=False)
    assert r.returncode != 0 and "parent of" in r.stderr
    data("delete", child, home=home)
    data("delete", v, home=home)


def test_two_finalizers_one_wins(tmp_path, server):
    env = {"RH_SERVER": server.url}
    home = tmp_path / "home"
    src = tmp_path / "src"
    make_tree(src, n=5)
    v = create(home, env=env)
    data("add", v, str(src), home=home, env=env)
    data("upload", v, home=home, env=env)
    results = []

    def fin():
        results.append(data("finalize", v, home=home, env=env, check=False))

    threads = [threading.Thread(target=fin) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r.returncode == 0]
    assert len(ok) == 1, [r.stderr for r in results]
    assert all("already final" in r.stderr for r in results if r.returncode != 0)


def test_upload_is_resumable_and_a_fresh_machine_gets_verified_copies(tmp_path, server):
    env = {"RH_SERVER": server.url}
    home, src = tmp_path / "home", tmp_path / "src"
    make_tree(src, n=30)
    v = create(home, env=env)
    data("add", v, str(src), home=home, env=env)
    # Finalizing before the contents are on the server is refused.
    r = data("finalize", v, home=home, env=env, check=False)
    assert r.returncode != 0 and "not on the server yet" in r.stderr
    # An upload interrupted after some objects: simulate by uploading a few by hand.
    cache = home / "cache" / "blobs"
    some = objects(cache)[:10]
    assert len(some) == 10
    for p in some:
        digest = "sha256:" + os.path.basename(os.path.dirname(p)) + os.path.basename(p)
        with open(p, "rb") as f:
            assert server.request("PUT", f"/api/v1/blobs/{digest}", raw=f.read())[0] == 201
    up = data("upload", v, home=home, env=env)
    assert "21 file(s) uploaded" in up.stderr, up.stderr  # 31 contents, 10 already there
    assert "0 file(s) uploaded" in data("upload", v, home=home, env=env).stderr
    data("finalize", v, home=home, env=env)
    # Another machine: an empty cache, everything downloaded and checked.
    other = tmp_path / "other"
    got = data("get", v, "--output", str(tmp_path / "copy"), home=other, env=env)
    assert "31 files (31 downloaded" in got.stderr, got.stderr
    for i in range(30):
        assert open(tmp_path / "copy" / f"d{i % 3}" / f"f{i}.txt").read() == f"content {i}\n"
    # A damaged cache object is noticed (--verify re-hashes), fetched again and reported.
    digest = "sha256:" + hashlib.sha256(b"content 7\n").hexdigest()
    obj = other / "cache" / "blobs" / digest[7:9] / digest[9:]
    os.chmod(obj, 0o644)
    with open(obj, "w") as f:
        f.write("content X\n")  # same size, different bytes
    again = data("get", v, "--verify", "--output", str(tmp_path / "copy2"), home=other, env=env)
    assert f"the cached copy of {digest} was damaged; fetched again" in again.stderr
    assert open(tmp_path / "copy2" / "d1" / "f7.txt").read() == "content 7\n"


def test_a_version_of_thousands_of_files_round_trips(tmp_path):
    home, src = tmp_path / "home", tmp_path / "src"
    for i in range(3000):
        write(os.path.join(src, f"d{i % 30:02}", f"f{i:05}.txt"), f"{i}\n")
    v = create(home)
    data("add", v, str(src), home=home)
    fin = data("finalize", v, home=home)
    assert "3000 files" in fin.stderr
    shown = json.loads(data("show", v, "--json", home=home).stdout)
    assert len(shown["files"]) == 3000 and shown["state"] == "final"
    # The manifest blob lists every file, in path order.
    digest = shown["manifest"]
    with open(home / "blobs" / digest[7:9] / digest[9:]) as f:
        lines = [json.loads(l) for l in f]
    assert [l["path"] for l in lines] == sorted(l["path"] for l in lines) and len(lines) == 3000
    out = data("get", v, "--output", str(tmp_path / "out"), home=home)
    assert "3000 files" in out.stderr
    assert open(tmp_path / "out" / "d07" / "f02407.txt").read() == "2407\n"


def test_blob_batches_are_checked(server):
    import struct
    good = b"hello\n"
    d = "sha256:" + hashlib.sha256(good).hexdigest()
    body = b"RHB1" + d.encode() + struct.pack("<Q", len(good)) + good
    s, r, _ = server.request("POST", "/api/v1/blobs/batch", raw=body)
    assert s == 200 and r["stored"] == 1
    assert server.request("GET", f"/api/v1/blobs/{d}")[1] == good
    wrong = "sha256:" + "0" * 64
    s, r, _ = server.request("POST", "/api/v1/blobs/batch", raw=b"RHB1" + wrong.encode() + struct.pack("<Q", 3) + b"abc")
    assert s == 422 and r["error"]["code"] == "corrupt"
    assert server.request("HEAD", f"/api/v1/blobs/{wrong}")[0] == 404, "nothing stored under a wrong name"
    s, r, _ = server.request("POST", "/api/v1/blobs/batch", raw=b"RHB1" + d.encode() + struct.pack("<Q", 99) + b"x")
    assert s == 400 and "cut short" in r["error"]["message"]
    s, r, _ = server.request("POST", "/api/v1/blobs/batch", raw=b"nope")
    assert s == 400 and "RHB1" in r["error"]["message"]


def test_sync_removes_exactly_the_files_that_went(tmp_path):
    """Removed paths are not patterns: "img[1].png" going does not take "img1.png" with it."""
    home, src = tmp_path / "home", tmp_path / "src"
    write(src / "img[1].png", "bracketed\n")
    write(src / "img1.png", "plain\n")
    write(src / "keep" / "a*b.txt", "star\n")
    write(src / "keep" / "aXb.txt", "x\n")
    v = create(home)
    assert "4 added" in data("sync", v, str(src), home=home).stderr
    os.remove(src / "img[1].png")
    os.remove(src / "keep" / "a*b.txt")
    out = data("sync", v, str(src), home=home)
    assert "0 added, 0 modified, 2 removed, 2 unchanged" in out.stderr, out.stderr
    files = {f["path"] for f in json.loads(data("show", v, "--json", home=home).stdout)["files"]}
    assert files == {"img1.png", "keep/aXb.txt"}


def test_paths_in_byte_order_later_arguments_win_and_sync_across_slices(tmp_path):
    """The walk emits whole paths in byte order ("a-b" < "a/x" < "a0"), which
    the streamed merge with the version's rows relies on; a file named by a
    later argument replaces the same path from an earlier one; and a sync
    spanning more than one slice of files (16,000) finds exactly what
    changed and what went on both sides of the slice boundary."""
    home, src, extra = tmp_path / "home", tmp_path / "src", tmp_path / "extra"
    for name in ("a-b.txt", "a/x.txt", "a/y/z.txt", "a.txt", "a0", "A", "b/c", "é.txt", "a b/q"):
        write(src / name, f"{name}\n")
    write(extra / "a.txt", "from the later argument\n")
    v = create(home)
    data("add", v, str(src), str(extra / "a.txt"), home=home)
    shown = json.loads(data("show", v, "--json", home=home).stdout)["files"]
    paths = [f["path"] for f in shown]
    assert paths == sorted(
        ["a-b.txt", "a/x.txt", "a/y/z.txt", "a.txt", "a0", "A", "b/c", "é.txt", "a b/q"], key=lambda p: p.encode())
    got = data("get", v, "--output", str(tmp_path / "o1"), home=home)
    assert "9 files" in got.stderr
    assert open(tmp_path / "o1" / "a.txt").read() == "from the later argument\n"
    # The merge with the rows meets every tricky name where the rows have it.
    v0 = create(home)
    assert "9 added" in data("sync", v0, str(src), home=home).stderr
    out = data("sync", v0, str(src), home=home)
    assert "0 added, 0 modified, 0 removed, 9 unchanged" in out.stderr, out.stderr
    # The same path again, the folder last this time: the folder's file wins.
    v1 = create(home)
    data("add", v1, str(extra / "a.txt"), str(src), home=home)
    data("get", v1, "--output", str(tmp_path / "o2"), home=home)
    assert open(tmp_path / "o2" / "a.txt").read() == "a.txt\n"

    big = tmp_path / "big"
    for i in range(17000):
        write(big / f"d{i // 400:03}" / f"f{i:05}", f"{i}\n")
    v2 = create(home)
    assert "17000 added" in data("sync", v2, str(big), home=home).stderr
    for i in (5, 15999, 16000, 16001, 16999):  # both sides of the first slice's end
        write(big / f"d{i // 400:03}" / f"f{i:05}", f"changed {i}\n")
    for i in (0, 15998, 16002):
        os.remove(big / f"d{i // 400:03}" / f"f{i:05}")
    write(big / "d039" / "f15999a", "new\n")
    out = data("sync", v2, str(big), home=home)
    assert "1 added, 5 modified, 3 removed, 16992 unchanged" in out.stderr, out.stderr
    rows = json.loads(data("show", v2, "--json", home=home).stdout)["files"]
    assert len(rows) == 16998
    data("finalize", v2, home=home)
    data("get", v2, "--output", str(tmp_path / "o3"), home=home)
    assert open(tmp_path / "o3" / "d039" / "f15999").read() == "changed 15999\n"
    assert open(tmp_path / "o3" / "d040" / "f16001").read() == "changed 16001\n"
    assert not os.path.exists(tmp_path / "o3" / "d040" / "f16002")


def on_terminal(args, home, env):
    """Runs rh with its stderr on a pseudo-terminal; returns what it drew there."""
    import pty
    master, slave = pty.openpty()
    e = dict(os.environ, **env)
    p = subprocess.Popen([RH, "--data-dir", str(home)] + list(args), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=slave, env=e)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.wait(timeout=60) == 0, out
    return out.decode()


def test_progress_bars_on_a_terminal_and_none_in_a_pipe(tmp_path, server):
    env = {"RH_SERVER": server.url}
    home, src = tmp_path / "home", tmp_path / "src"
    for i in range(3000):
        write(os.path.join(src, f"d{i % 10}", f"f{i:04}.txt"), f"{i}\n")
    v = create(home, env=env)
    drawn = on_terminal(["data", "add", v, str(src)], home, env)
    assert "\rhashing  3000 / 3000 files  100%" in drawn, repr(drawn)
    # The bar's line is ended before the command's own line follows.
    assert "100%\x1b[K\r\nrh: 3000 file(s) added" in drawn, repr(drawn)
    drawn = on_terminal(["data", "upload", v], home, env)
    assert "\ruploading  3000 / 3000 objects  100%" in drawn, repr(drawn)
    assert "rh: 3000 file(s) uploaded" in drawn
    data("finalize", v, home=home, env=env)
    drawn = on_terminal(["data", "get", v, "--output", str(tmp_path / "out")], tmp_path / "fresh", env)
    assert "\rdownloading  3000 / 3000 objects  100%" in drawn, repr(drawn)
    assert "rh: 3000 files (3000 downloaded" in drawn
    # Not a terminal: no bar, only the command's own lines.
    v2 = create(home, env=env)
    piped = data("add", v2, str(src), home=home, env=env)
    assert "\r" not in piped.stderr and "hashing" not in piped.stderr, piped.stderr
