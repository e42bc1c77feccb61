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


def run(tmp_path, server, body):
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, RH_SERVER=server.url, RH_DATA_DIR=str(tmp_path / "home"))
    p = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


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
    """)
    assert "REFUSED" in out and "not on the server yet" in out
    assert "MISSING" in out and "no such file" in out


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
