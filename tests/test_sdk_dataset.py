"""The SDK's Dataset (python/roundhouse/dataset.py) against a real rh
server, mirroring ClearML Data: create, add, finalize with upload, get by
name, cached read-only copies, writable child versions, deltas, the logger,
and the task that used a version."""
import os
import subprocess
import sys
import textwrap

import pytest

PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "python"))


def run(tmp_path, server, body, home="home", stderr=False, wrap=()):
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, RH_SERVER=server.url, RH_DATA_DIR=str(tmp_path / home))
    p = subprocess.run([*wrap, sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return (p.stdout, p.stderr) if stderr else p.stdout


def test_dataset_round_trip(tmp_path, server):
    src = tmp_path / "src"
    (src / "train").mkdir(parents=True)
    for i in range(12):
        (src / "train" / f"{i}.txt").write_text(f"sample {i}\n")
    (src / "labels.csv").write_text("id,label\n1,cat\n")
    out = run(tmp_path, server, """
        import os, stat
        from roundhouse import Dataset
        ds = Dataset.create(dataset_name="pets", dataset_project="vision", dataset_tags=["raw"])
        assert ds.add_files("src") == 13
        assert ds.add_files("src/labels.csv", dataset_path="meta") == 1
        assert ds.remove_files("train/11.txt") == 1
        ds.get_logger().report_table("preview", "labels", table_plot=[["id", "label"], [1, "cat"]])
        assert ds.finalize(auto_upload=True) and ds.is_final
        print("V1", ds.id, ds.version)

        got = Dataset.get(dataset_project="vision", dataset_name="pets")
        assert got.id == ds.id
        folder = got.get_local_copy()
        assert sorted(os.listdir(folder)) == ["labels.csv", "meta", "train"]
        assert open(os.path.join(folder, "train", "3.txt")).read() == "sample 3\\n"
        assert not os.stat(os.path.join(folder, "labels.csv")).st_mode & stat.S_IWUSR
        assert got.get_local_copy() == folder  # made once
        assert sorted(got.list_files("train/*"))[:2] == ["train/0.txt", "train/1.txt"]

        # A writable child: the parent plus a delta.
        child = Dataset.get(dataset_project="vision", dataset_name="pets", writable_copy=True)
        assert not child.is_final and child.version == "1.0.1"
        open("src/labels.csv", "w").write("id,label\\n1,dog\\n")
        open("src/new.txt", "w").write("new\\n")
        os.remove("src/train/0.txt")
        removed, added, modified = child.sync_folder("src")
        child.finalize(auto_upload=True)
        # The folder is mirrored: train/11.txt (removed from v1 only) comes back,
        # meta/labels.csv (not in the folder) goes.
        assert (removed, added, modified) == (2, 2, 1), (removed, added, modified)
        assert sorted(child.list_added_files()) == ["new.txt", "train/11.txt"]
        assert child.list_modified_files() == ["labels.csv"]
        assert set(child.list_removed_files()) == {"train/0.txt", "meta/labels.csv"}
        mine = child.get_mutable_local_copy("mine")
        assert open(os.path.join(mine, "labels.csv")).read() == "id,label\\n1,dog\\n"
        assert os.stat(os.path.join(mine, "new.txt")).st_mode & stat.S_IWUSR
        names = [d["version"] for d in Dataset.list_datasets(dataset_project="vision", partial_name="pe")]
        assert names == ["1.0.1", "1.0.0"], names
        print("OK", child.id)
    """)
    v1 = out.split("V1 ")[1].split()[0]
    assert "OK" in out
    # The version's task holds the table; the version records it.
    rec = server.request("GET", f"/api/v1/datasets/{v1}")[1]
    plots = server.request("GET", f"/api/v1/tasks/{rec['task_id']}/plots")[1]["plots"]
    assert plots and plots[0]["title"] == "preview" and plots[0]["kind"] == "table"


def test_a_task_records_the_dataset_versions_it_used(tmp_path, server):
    data = tmp_path / "d"
    data.mkdir()
    (data / "x.txt").write_text("x\n")
    out = run(tmp_path, server, """
        import roundhouse
        from roundhouse import Dataset
        ds = Dataset.create(dataset_name="inputs", dataset_project="p")
        ds.add_files("d")
        ds.finalize(auto_upload=True)
        task = roundhouse.init(project="p", name="trainer")
        Dataset.get(dataset_project="p", dataset_name="inputs").get_local_copy()
        task.close()
        print("TASK", task.id, ds.id)
    """)
    tid, did = out.split("TASK ")[1].split()[:2]
    runtime = server.request("GET", f"/api/v1/tasks/{tid}")[1]["runtime"]
    assert runtime["input_dataset:p/inputs"].startswith(did)


def test_finalize_without_upload_is_refused(tmp_path, server):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_text("a")
    out = run(tmp_path, server, """
        from roundhouse import Dataset, RoundhouseError
        ds = Dataset.create(dataset_name="n", dataset_project="p")
        ds.add_files("d")
        try:
            ds.finalize()
        except RoundhouseError as e:
            print("REFUSED", e)
        assert not ds.is_final
        try:
            ds.add_files("missing")
        except RoundhouseError as e:
            print("MISSING", e)
        try:
            ds.add_files("d", dataset_path="../up")
        except RoundhouseError as e:
            print("ESCAPES", e)
        assert ds.list_files() == ["a"], ds.list_files()
    """)
    assert "REFUSED" in out and "not on the server yet" in out
    assert "MISSING" in out and "no such file" in out
    assert 'ESCAPES invalid_argument: dataset path "../up/a" has an empty, "." or ".." path component' in out, out


def test_the_sdk_and_the_cli_share_the_stat_cache(tmp_path, server):
    from conftest import rh
    src = tmp_path / "src"
    src.mkdir()
    for i in range(30):
        (src / f"{i}.txt").write_text(f"row {i}\n")
    out = run(tmp_path, server, """
        from roundhouse import Dataset
        ds = Dataset.create(dataset_name="shared", dataset_project="p")
        assert ds.add_files("src") == 30
        print(ds.id)
    """)
    home = tmp_path / "home"
    v = rh("data", "create", "--project", "p", "--name", "cli", data_dir=home,
           env={"RH_SERVER": server.url}).stdout.strip()
    added = rh("data", "add", v, str(src), data_dir=home, env={"RH_SERVER": server.url})
    assert "30 file(s) added (0 read and hashed" in added.stderr, added.stderr
    # And back: a file the CLI hashed is known to the SDK (nothing read, same digest).
    (src / "new.txt").write_text("new\n")
    rh("data", "add", v, str(src / "new.txt"), data_dir=home, env={"RH_SERVER": server.url})
    out = run(tmp_path, server, f"""
        from roundhouse import Dataset
        import roundhouse.dataset as d
        reads = []
        real = d._Cache.put_file
        d._Cache.put_file = lambda self, p: (reads.append(p), real(self, p))[1]
        ds = Dataset.get(dataset_id="{out.strip()}")
        ds.add_files("src")
        print(len(reads))
    """)
    assert out.strip() == "0"


def test_upload_in_the_background_in_batches(tmp_path, server):
    """upload(wait=False) returns at once; finalize waits for it. Small
    files go many to a request (the server keeps each batch as one pack),
    a large one alone; another machine gets every file back."""
    src = tmp_path / "src"
    (src / "many").mkdir(parents=True)
    for i in range(2500):  # two batches of at most 2,000
        (src / "many" / f"{i:04}.txt").write_text(f"line {i}\n")
    big = os.urandom(5 << 20)
    (src / "big.bin").write_bytes(big)
    (tmp_path / "late.txt").write_text("only in the late version\n")
    out = run(tmp_path, server, """
        import time
        from roundhouse import Dataset
        ds = Dataset.create(dataset_name="bg", dataset_project="p")
        assert ds.add_files("src") == 2501
        t0 = time.monotonic()
        assert ds.upload(wait=False) is None
        print("RETURNED", time.monotonic() - t0)
        assert ds.finalize() and ds.is_final  # waited for the upload
        assert ds.wait_for_upload() == 0      # nothing left running
        print("ID", ds.id)
        # A script may end right after starting one: the upload still completes.
        late = Dataset.create(dataset_name="late", dataset_project="p")
        late.add_files("src/many")
        late.add_files("late.txt")
        late.upload(wait=False)
        print("LATE", late.id)
    """)
    vid = out.split("ID ")[1].split()[0]
    late = out.split("LATE ")[1].split()[0]
    assert float(out.split("RETURNED ")[1].split()[0]) < 1.0, out
    packs = list((tmp_path / "server-data" / "blobs" / "packs").glob("*.pack"))
    assert len(packs) == 3, packs  # two for the first version, one for late.txt
    run(tmp_path, server, f"""
        from roundhouse import Dataset
        assert Dataset.get(dataset_id="{late}").finalize()  # refused if anything was missing
    """, home="fresh")
    got = run(tmp_path, server, f"""
        import hashlib, os
        from roundhouse import Dataset
        folder = Dataset.get(dataset_id="{vid}").get_local_copy()
        names = sorted(os.listdir(os.path.join(folder, "many")))
        assert len(names) == 2500 and open(os.path.join(folder, "many", "0042.txt")).read() == "line 42\\n"
        print("BIG", hashlib.sha256(open(os.path.join(folder, "big.bin"), "rb").read()).hexdigest())
    """, home="fresh")
    import hashlib
    assert got.split("BIG ")[1].split()[0] == hashlib.sha256(big).hexdigest()


def test_a_failed_background_upload_is_raised_where_it_is_awaited(tmp_path, server):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(20):
        (src / f"{i}.txt").write_text(f"row {i}\n")
    out, err = run(tmp_path, server, """
        import os, stat
        from roundhouse import Dataset, RoundhouseError
        ds = Dataset.create(dataset_name="bad", dataset_project="p")
        ds.add_files("src")
        # Damage one cached object (same size): the server refuses it.
        path = ds._cache.path(ds._all_files()[3]["digest"])
        os.chmod(path, 0o644)
        damaged = open(path).read().replace("row", "ROW")
        open(path, "w").write(damaged)
        ds.upload(wait=False)
        try:
            ds.finalize()
        except RoundhouseError as e:
            print("RAISED", e.code, e)
        assert not ds.is_final
        ds.upload(wait=False)  # not awaited: reported when the script ends
    """, stderr=True)
    assert "RAISED corrupt" in out, out + err
    assert err.count("background upload of dataset version") == 1 and "corrupt" in err, err


@pytest.mark.parametrize("unnamed", [True, False])
def test_added_files_are_stored_read_only_under_their_digest(tmp_path, server, unnamed):
    """Small files go into the cache unnamed (O_TMPFILE) and are linked into
    place; where that is not possible, through a named temporary file. Either
    way each object is read-only, holds exactly its digest's content, and a
    damaged one is replaced by the next add."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(40):
        (src / f"{i}.txt").write_bytes(os.urandom(100 + i))
    (src / "large.bin").write_bytes(os.urandom((1 << 20) + 1))  # streamed, not read whole
    out = run(tmp_path, server, f"""
        import hashlib, os, stat
        from roundhouse import Dataset
        from roundhouse import dataset as d
        d._Cache._unnamed = {unnamed}
        ds = Dataset.create(dataset_name="ro", dataset_project="p")
        assert ds.add_files("src") == 41
        try:  # where the file system has O_TMPFILE, the unnamed way was kept
            os.close(os.open(ds._cache.root, os.O_TMPFILE | os.O_WRONLY, 0o444))
            assert d._Cache._unnamed == {unnamed}
        except OSError:
            assert not d._Cache._unnamed
        files = ds._all_files()
        for f in files:
            p = ds._cache.path(f["digest"])
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o444, (p, oct(os.stat(p).st_mode))
            assert "sha256:" + hashlib.sha256(open(p, "rb").read()).hexdigest() == f["digest"]
        assert not os.listdir(os.path.join(ds._cache.root, "tmp"))  # no temporary file left
        victim = ds._cache.path(files[0]["digest"])
        os.chmod(victim, 0o644)
        open(victim, "wb").write(b"cut")
        os.remove(os.path.join(ds._cache.datasets, "..", "statcache.bin"))  # read everything again
        ds.add_files("src")
        assert hashlib.sha256(open(victim, "rb").read()).hexdigest() == files[0]["digest"][7:]
        ds.finalize(auto_upload=True)
        print("ID", ds.id)
    """)
    vid = out.split("ID ")[1].split()[0]
    got = run(tmp_path, server, f"""
        from roundhouse import Dataset
        print("AT", Dataset.get(dataset_id="{vid}").get_local_copy())
    """, home="fresh")
    folder = got.split("AT ")[1].strip()
    for f in src.iterdir():
        assert open(os.path.join(folder, f.name), "rb").read() == f.read_bytes(), f.name


def test_an_unreadable_file_or_an_unwritable_cache_is_named_and_nothing_is_added(tmp_path, server):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(10):
        (src / f"{i}.txt").write_text(f"row {i}\n")
    secret = src / "secret.bin"
    secret.write_bytes(b"no entry")
    os.chmod(secret, 0)
    # root reads and writes everything: drop the capabilities that allow it
    wrap = ("setpriv", "--bounding-set=-dac_override,-dac_read_search") if os.geteuid() == 0 else ()

    def refused(home):
        """What add_files of src raised; it must have added nothing."""
        out = run(tmp_path, server, """
            from roundhouse import Dataset, RoundhouseError
            ds = Dataset.create(dataset_name="refused", dataset_project="p")
            try:
                ds.add_files("src")
            except RoundhouseError as e:
                print("REFUSED", e)
            assert ds.list_files() == []
        """, wrap=wrap, home=home)
        return out

    out = refused("home")
    assert "REFUSED io: cannot read src/secret.bin: Permission denied" in out, out
    os.remove(secret)
    cache = tmp_path / "locked" / "cache" / "blobs"
    (cache / "tmp").mkdir(parents=True)
    os.chmod(cache, 0o555)
    out = refused("locked")
    assert "REFUSED io: cannot add src/" in out and f"{cache}/" in out and "Permission denied" in out, out
