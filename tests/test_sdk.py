"""The Python SDK (python/roundhouse) against a real rh server: what a
training script records with two lines, end states, agent-side overrides,
and reading tasks back."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import Server, make_task

PYTHON_DIR = os.path.join(os.path.dirname(__file__), "..", "python")
sys.path.insert(0, PYTHON_DIR)


def run_script(tmp_path, server, body, args=(), env=None, check=True):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    e = dict(os.environ, PYTHONPATH=os.path.abspath(PYTHON_DIR), RH_SERVER=server.url,
             RH_DATA_DIR=str(tmp_path / "rh-home"))
    e.pop("RH_TASK_ID", None)
    e.update(env or {})
    p = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=e,
                       cwd=tmp_path, timeout=120)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


def only_task(server, **filters):
    q = "&".join(f"{k}={v}" for k, v in filters.items())
    tasks = server.request("GET", "/api/v1/tasks?" + q)[1]["tasks"]
    assert len(tasks) == 1, tasks
    return server.request("GET", f"/api/v1/tasks/{tasks[0]['id']}")[1]


TRAIN = """
    import argparse, json, os, sys
    import pytest  # a third-party import, to be mapped to its distribution
    import roundhouse

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--name", default="mlp")
    args = parser.parse_args()

    task = roundhouse.init(project="sdk", name="train", tags=["t1"])
    params = task.connect({"batch": 32, "opt": {"momentum": 0.9, "nesterov": True}})
    with open("config.yaml", "w") as f:
        f.write("layers: 3\\n")
    cfg_path = task.connect_configuration("config.yaml", name="model.yaml")
    cfg = task.connect_configuration({"dropout": 0.5}, name="extra")
    logger = task.get_logger()
    for epoch in range(args.epochs):
        logger.report_scalar("loss", "train", 1.0 / (epoch + 1), epoch)
        logger.report_scalar("acc", "val", float("nan") if epoch == 1 else 0.5 + epoch / 10, epoch)
        print(f"epoch {epoch} lr {args.lr} batch {params['batch']} momentum {params['opt']['momentum']}")
    print("to stderr", file=sys.stderr)
    print("progress 50%\\rprogress 100%")
    os.makedirs("outdir/sub", exist_ok=True)
    open("outdir/sub/w.txt", "w").write("weights")
    task.upload_artifact("summary", {"best": 0.7})
    task.upload_artifact("weights", "outdir/sub/w.txt")
    task.upload_artifact("outdir", "outdir")
    print("config", open(cfg_path).read().strip(), cfg["dropout"])
"""


def test_script_records_everything(tmp_path, server):
    p = run_script(tmp_path, server, TRAIN, args=["--lr", "0.05"])
    assert "epoch 2 lr 0.05 batch 32 momentum 0.9" in p.stdout, "the user still sees the console"
    t = only_task(server, project="sdk")
    assert t["status"] == "completed" and t["tags"] == ["t1"] and t["name"] == "train"
    hp = t["hyperparameters"]
    assert hp["Args"]["lr"] == {"value": "0.05", "type": "float", "description": ""}
    assert hp["Args"]["epochs"]["value"] == "3" and hp["Args"]["name"]["value"] == "mlp"
    assert hp["General"]["batch"]["value"] == "32"
    assert hp["General"]["opt/momentum"]["value"] == "0.9"
    assert t["configurations"]["model.yaml"]["value"] == "layers: 3\n"
    assert json.loads(t["configurations"]["extra"]["value"]) == {"dropout": 0.5}
    assert t["script"]["argv"][1:] == [str(tmp_path / "train.py"), "--lr", "0.05"]
    assert "import roundhouse" in t["script"]["content"] or t["script"]["repository"]
    env = t["environment"]
    assert env["interpreter"].startswith("Python 3") and env["host"]
    assert any(l.lower().startswith("pytest==") for l in env["requirements"].splitlines()), (env["requirements"], p.stderr)
    assert "pytest==" in env["freeze"].lower()
    s = server.request("GET", f"/api/v1/tasks/{t['id']}/scalars/series?title=acc&series=val")[1]
    assert s["iterations"] == [0, 1, 2] and s["values"] == [0.5, "NaN", 0.7]
    lines = server.request("GET", f"/api/v1/tasks/{t['id']}/console?limit=1000")[1]["lines"]
    texts = [(l["stream"], l["text"]) for l in lines]
    assert ("stdout", "epoch 0 lr 0.05 batch 32 momentum 0.9") in texts
    assert ("stderr", "to stderr") in texts and ("stdout", "progress 100%") in texts
    assert ("stdout", "config layers: 3 0.5") in texts

    # Reading back, as another process would.
    import roundhouse
    got = roundhouse.Task.get_task(project_name="sdk", task_name="train", server=server.url)
    assert got.id == t["id"]
    assert got.get_parameters()["Args/lr"] == "0.05"
    assert got.get_reported_scalars()["loss"]["train"]["y"] == [1.0, 0.5, pytest.approx(1 / 3)]
    df = got.get_reported_scalars(as_dataframe=True)
    assert list(df.columns) == ["title", "series", "iteration", "value", "time"]
    loss = df[(df.title == "loss") & (df.series == "train")]
    assert loss.iteration.tolist() == [0, 1, 2] and loss.value.tolist() == [1.0, 0.5, pytest.approx(1 / 3)]
    acc = df[df.title == "acc"].set_index("iteration")["value"]
    assert acc[0] == 0.5 and acc[1] != acc[1] and (df.time > 1.7e9).all()
    assert got.get_last_scalar_metrics()["loss"]["train"]["min"] == pytest.approx(1 / 3)
    arts = got.artifacts
    assert set(arts) == {"summary", "weights", "outdir"}
    assert arts["summary"].get() == {"best": 0.7}
    with open(arts["weights"].get_local_copy()) as f:
        assert f.read() == "weights"
    folder = arts["outdir"].get_local_copy()
    with open(os.path.join(folder, "sub", "w.txt")) as f:
        assert f.read() == "weights"
    assert [x.id for x in roundhouse.Task.query(project="sdk", tags=["t1"], server=server.url)] == [t["id"]]
    assert roundhouse.Task.query(project="sdk", status="failed", server=server.url) == []


@pytest.mark.parametrize("ending,status,message", [
    ("raise ValueError('bad shape')", "failed", "ValueError: bad shape"),
    ("raise KeyboardInterrupt", "aborted", "KeyboardInterrupt"),
    ("sys.exit(3)", "failed", "exit code 3"),
    ("task.close()", "completed", ""),
])
def test_end_states(tmp_path, server, ending, status, message):
    p = run_script(tmp_path, server, f"""
        import sys, roundhouse
        task = roundhouse.init(project="ends", name="e")
        print("working")
        {ending}
    """, check=False)
    t = only_task(server, project="ends")
    assert (t["status"], t["status_message"]) == (status, message), p.stderr
    if status == "failed" and "ValueError" in message:
        assert "Traceback" in t["runtime"]["traceback"] and "bad shape" in t["runtime"]["traceback"]
    lines = server.request("GET", f"/api/v1/tasks/{t['id']}/console")[1]["lines"]
    assert lines[0]["text"] == "working"


def test_agent_overrides_reach_the_code(tmp_path, server):
    """Under an agent (RH_TASK_ID), argparse results, connected dicts and
    configurations come from the task, and the run records into it."""
    task = make_task(server, project="remote", name="clone",
                     hyperparameters={"Args": {"lr": {"value": "0.5", "type": "float"}},
                                      "General": {"batch": {"value": "64", "type": "int"}}},
                     configurations={"model.yaml": "layers: 7\n", "extra": '{"dropout": 0.25}'})
    p = run_script(tmp_path, server, """
        import argparse, roundhouse
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        parser.add_argument("--epochs", type=int, default=2)
        args = parser.parse_args()
        task = roundhouse.init(project="ignored", name="ignored")
        params = task.connect({"batch": 32})
        open("model.yaml", "w").write("layers: 3\\n")
        path = task.connect_configuration("model.yaml")
        extra = task.connect_configuration({"dropout": 0.5}, name="extra")
        print("values", args.lr, type(args.lr).__name__, args.epochs, params["batch"],
              type(params["batch"]).__name__, open(path).read().strip(), extra["dropout"])
        task.get_logger().report_scalar("loss", "train", 0.125, 0)
    """, env={"RH_TASK_ID": task["id"]})
    assert "values 0.5 float 2 64 int layers: 7 0.25" in p.stdout, p.stdout + p.stderr
    t = server.request("GET", f"/api/v1/tasks/{task['id']}")[1]
    assert t["status"] == "completed"
    assert t["hyperparameters"]["Args"]["epochs"]["value"] == "2", "values the task lacked are recorded"
    assert server.request("GET", "/api/v1/tasks?project=ignored")[1]["tasks"] == []
    sums = server.request("GET", f"/api/v1/tasks/{task['id']}/scalars")[1]["scalars"]
    assert sums[0]["last_value"] == 0.125


def test_many_scalars_arrive_complete(tmp_path, server):
    run_script(tmp_path, server, """
        import roundhouse
        task = roundhouse.init(project="bulk", name="b")
        log = task.get_logger()
        for i in range(300000):
            log.report_scalar("m", "s%d" % (i % 3), i * 0.5, i)
    """)
    t = only_task(server, project="bulk")
    sums = server.request("GET", f"/api/v1/tasks/{t['id']}/scalars")[1]["scalars"]
    assert sorted(s["count"] for s in sums) == [100000] * 3
    assert max(s["last_iteration"] for s in sums) == 299999


def test_plots_tables_images_and_models(tmp_path, server):
    run_script(tmp_path, server, """
        import numpy as np, pandas as pd
        import roundhouse
        task = roundhouse.init(project="plots", name="p")
        log = task.get_logger()
        log.report_table("metrics", "rows", 1, table_plot=[["name", "value"], ["acc", 0.9], ["loss", 0.1]])
        log.report_table("frame", "df", 2, table_plot=pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
        log.report_scatter2d("pr", "val", [(0.0, 1.0), (0.5, 0.8), (1.0, 0.0)], iteration=3, xaxis="recall")
        log.report_line("lr", "schedule", [0, 1, 2], [0.1, 0.05, 0.01])
        img = np.zeros((4, 6, 3), dtype=np.uint8); img[1, 2] = [255, 0, 0]
        log.report_image("samples", "digit", 5, image=img)
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        plt.plot([1, 2, 3], [3, 1, 2])
        plt.title("training curve")
        plt.savefig("curve.png")
        open("model.bin", "wb").write(b"weights")
        roundhouse.OutputModel(task, framework="custom").update_weights("model.bin")
    """)
    t = only_task(server, project="plots")
    plots = server.request("GET", f"/api/v1/tasks/{t['id']}/plots")[1]["plots"]
    by = {(p["title"], p["series"]): p for p in plots}
    assert by[("metrics", "rows")]["data"] == {"columns": ["name", "value"], "rows": [["acc", 0.9], ["loss", 0.1]]}
    assert by[("frame", "df")]["data"]["columns"] == ["index", "a", "b"]
    assert by[("frame", "df")]["data"]["rows"] == [[0, 1, "x"], [1, 2, "y"]]
    sc = by[("pr", "val")]
    assert (sc["kind"], sc["iteration"], sc["data"]["x"], sc["data"]["xaxis"]) == ("scatter2d", 3, [0.0, 0.5, 1.0], "recall")
    assert by[("lr", "schedule")]["data"]["mode"] == "lines"
    img = by[("samples", "digit")]
    png = server.request("GET", f"/api/v1/blobs/{img['digest']}")[1]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import struct
    assert struct.unpack(">II", png[16:24]) == (6, 4), "width and height from the IHDR chunk"
    import hashlib
    assert img["digest"] == "sha256:" + hashlib.sha256(png).hexdigest()
    fig = [p for p in plots if p["title"] == "training curve"]
    assert fig and fig[0]["kind"] == "image" and fig[0]["data"]["source"] == "matplotlib"
    assert server.request("GET", f"/api/v1/blobs/{fig[0]['digest']}")[1][:4] == b"\x89PNG"
    models = server.request("GET", f"/api/v1/tasks/{t['id']}/models")[1]["models"]
    assert [(m["name"], m["framework"], m["size"]) for m in models] == [("model.bin", "custom", 7)]


def test_requirements_recorded_even_when_the_script_ends_at_once(tmp_path, server):
    run_script(tmp_path, server, """
        import pytest
        import roundhouse
        roundhouse.init(project="quick", name="q")
    """)
    env = only_task(server, project="quick")["environment"]
    assert [l for l in env["requirements"].splitlines() if l.lower().startswith("pytest==")], env


def test_dataframe_and_array_artifacts(tmp_path, server):
    p = run_script(tmp_path, server, """
        import numpy as np, pandas as pd
        import roundhouse
        task = roundhouse.init(project="arts", name="a")
        task.upload_artifact("table", pd.DataFrame({"x": [1, 2], "y": [0.5, 0.25]}))
        task.upload_artifact("matrix", np.arange(6, dtype=np.int32).reshape(2, 3), metadata={"kind": "demo"})
        try:
            task.upload_artifact("bad", lambda: 0)  # what does not pickle cannot be stored
        except roundhouse.RoundhouseError as e:
            print("refused:", e.code, e)
    """)
    assert "refused: invalid_argument" in p.stdout and "does not pickle" in p.stdout, p.stdout
    import numpy as np
    import roundhouse
    t = roundhouse.Task.get_task(project_name="arts", task_name="a", server=server.url)
    arts = t.artifacts
    assert set(arts) == {"table", "matrix"}
    assert (arts["table"].type, arts["matrix"].type, arts["matrix"].metadata) == ("csv", "npy", {"kind": "demo"})
    with open(arts["table"].get_local_copy()) as f:
        assert f.read().splitlines() == [",x,y", "0,1,0.5", "1,2,0.25"]
    assert np.load(arts["matrix"].get_local_copy()).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_starts_a_server_when_none_is_configured(tmp_path):
    """With nothing configured and rh available, init() starts `rh server` on
    the embedded store and records there; later runs find it again."""
    from conftest import RH, rh
    home = tmp_path / "home"
    env = {"RH_BIN": RH, "RH_DATA_DIR": str(home)}
    script = "import roundhouse\nroundhouse.init(project='auto', name='first').get_logger().report_scalar('m', 's', 1.0, 0)\n"
    body_env = dict(os.environ, PYTHONPATH=os.path.abspath(PYTHON_DIR), **env)
    body_env.pop("RH_SERVER", None)
    try:
        for _ in range(2):
            p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=body_env,
                               cwd=tmp_path, timeout=60)
            assert p.returncode == 0, p.stderr
        info = json.loads((home / "server.json").read_text())
        tasks = json.loads(rh("tasks", "list", "--json", data_dir=home).stdout)["tasks"]
        assert [t["name"] for t in tasks] == ["first", "first"] and all(t["status"] == "completed" for t in tasks)
    finally:
        info = json.loads((home / "server.json").read_text())
        os.kill(info["pid"], 15)


def test_digits_example(tmp_path, server):
    """examples/sdk_digits.py trains a real model and records what the UI shows."""
    example = os.path.join(os.path.dirname(__file__), "..", "examples", "sdk_digits.py")
    e = dict(os.environ, PYTHONPATH=os.path.abspath(PYTHON_DIR), RH_SERVER=server.url,
             RH_DATA_DIR=str(tmp_path / "home"), MPLBACKEND="Agg")
    p = subprocess.run([sys.executable, example, "--epochs", "8"], capture_output=True, text=True, env=e,
                       cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stderr
    t = only_task(server, project="examples")
    assert t["status"] == "completed" and t["hyperparameters"]["Args"]["epochs"]["value"] == "8"
    acc = server.request("GET", f"/api/v1/tasks/{t['id']}/scalars/series?title=accuracy&series=test")[1]
    assert acc["iterations"] == list(range(8)) and acc["values"][-1] > 0.85, acc["values"]
    kinds = sorted(p["kind"] for p in server.request("GET", f"/api/v1/tasks/{t['id']}/plots")[1]["plots"])
    assert kinds == ["image", "table"]
    models = server.request("GET", f"/api/v1/tasks/{t['id']}/models")[1]["models"]
    assert models[0]["framework"] == "scikit-learn" and models[0]["size"] > 1000
    arts = server.request("GET", f"/api/v1/tasks/{t['id']}/artifacts")[1]["artifacts"]
    assert [a["name"] for a in arts] == ["evaluation"]


OFFLINE_SCRIPT = """
    import argparse, numpy as np, roundhouse
    p = argparse.ArgumentParser(); p.add_argument("--lr", type=float, default=0.3); args = p.parse_args()
    task = roundhouse.init(project="offline", name="o")
    task.connect({"batch": 8})
    log = task.get_logger()
    for i in range(1000):
        log.report_scalar("loss", "train", 1.0 / (i + 1), i)
    print("offline line")
    log.report_image("img", "s", 0, image=np.zeros((2, 2), dtype=np.uint8))
    task.upload_artifact("summary", {"ok": True})
"""


def check_offline_import(tid, request):
    t = request("GET", f"/api/v1/tasks/{tid}")[1]
    assert (t["project"], t["name"], t["status"]) == ("offline", "o", "completed")
    assert t["hyperparameters"]["Args"]["lr"]["value"] == "0.3"
    assert t["hyperparameters"]["General"]["batch"]["value"] == "8"
    sums = request("GET", f"/api/v1/tasks/{tid}/scalars")[1]["scalars"]
    assert sums[0]["count"] == 1000
    lines = [l["text"] for l in request("GET", f"/api/v1/tasks/{tid}/console")[1]["lines"]]
    assert "offline line" in lines
    plots = request("GET", f"/api/v1/tasks/{tid}/plots")[1]["plots"]
    assert request("GET", f"/api/v1/blobs/{plots[0]['digest']}")[1][:4] == b"\x89PNG"
    assert [a["name"] for a in request("GET", f"/api/v1/tasks/{tid}/artifacts")[1]["artifacts"]] == ["summary"]


def test_offline_run_then_import(tmp_path, server):
    from conftest import rh
    home = tmp_path / "home"
    p = run_script(tmp_path, server, OFFLINE_SCRIPT, env={"RH_SERVER": "http://127.0.0.1:9", "RH_DATA_DIR": str(home)})
    assert "recording offline" in p.stderr
    [d] = [home / "offline" / x for x in os.listdir(home / "offline")]
    out = rh("import", str(d), env={"RH_SERVER": server.url}).stdout
    tid = out.split("as task ")[1].split()[0]
    check_offline_import(tid, server.request)
    again = rh("import", str(d), env={"RH_SERVER": server.url}).stdout
    assert tid in again, "a second import resumes, it does not create the task twice"
    assert len(server.request("GET", "/api/v1/tasks?project=offline")[1]["tasks"]) == 1


def test_import_into_embedded_store(tmp_path, server):
    from conftest import rh
    home = tmp_path / "home"
    run_script(tmp_path, server, OFFLINE_SCRIPT, env={"RH_OFFLINE": "1", "RH_DATA_DIR": str(home)})
    [d] = [home / "offline" / x for x in os.listdir(home / "offline")]
    store = tmp_path / "store"
    out = rh("import", str(d), data_dir=store).stdout
    tid = out.split("as task ")[1].split()[0]
    s = Server(str(store))
    try:
        check_offline_import(tid, s.request)
    finally:
        assert s.stop() == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "journal.jsonl").write_text('{"method": "POST", "path": "/api/v1/tasks", "json": {"project": "p", "name": 1}}\n')
    p = rh("import", str(bad), data_dir=store, check=False)
    assert p.returncode != 0 and "line 1" in p.stderr and "body.name" in p.stderr


def test_import_replays_only_what_offline_mode_writes_for_its_own_task(tmp_path, server):
    # A journal from someone else must not touch any other task, nor read
    # files outside its folder.
    from conftest import rh
    victim = server.request("POST", "/api/v1/tasks", {"project": "victim", "name": "keep me"})[1]["id"]
    d = tmp_path / "offline" / "0123456789abcdef0123456789abcdef"
    d.mkdir(parents=True)
    create = {"method": "POST", "path": "/api/v1/tasks", "json": {"project": "evil", "name": "x"}}
    own = f"/api/v1/tasks/{d.name}"
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", d / "leak")
    hostile = [
        ([{"method": "DELETE", "path": f"/api/v1/tasks/{victim}"}], "is not about the task this journal created"),
        ([create, {"method": "DELETE", "path": f"/api/v1/tasks/{victim}"}], "is not about the task"),
        ([create, {"method": "PATCH", "path": f"/api/v1/tasks/{victim}", "json": {"name": "owned"}}],
         "is not about the task"),
        ([create, {"method": "DELETE", "path": own}], "the SDK's offline mode writes no such request"),
        ([create, {"method": "POST", "path": own + "/enqueue", "json": {"queue": "q"}}], "writes no such request"),
        ([create, create], "only the journal's first request creates its task"),
        ([create, {"method": "POST", "path": "/api/v1/queues", "json": {"name": "evil"}}], "is not about the task"),
        ([create, {"method": "PATCH", "path": own + "/../" + victim, "json": {"name": "owned"}}], '".."'),
        ([create, {"method": "POST", "path": own + "/console", "file": "leak"}], "is a link that leaves the folder"),
        ([create, {"method": "POST", "path": own + "/console", "file": "../secret.txt"}], "leaves the folder"),
    ]
    for entries, why in hostile:
        for f in ("journal.jsonl", "imported.json"):
            if (d / f).exists():
                (d / f).unlink()
        (d / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
        p = rh("import", str(d), env={"RH_SERVER": server.url}, check=False)
        assert p.returncode != 0 and why in p.stderr, (entries, p.stderr)
    t = server.request("GET", f"/api/v1/tasks/{victim}")[1]
    assert t["name"] == "keep me" and t["status"] == "created"
    assert server.request("GET", "/api/v1/queues/evil")[0] == 404
    # A journal linked in from elsewhere is refused too.
    (d / "journal.jsonl").unlink()
    (tmp_path / "elsewhere.jsonl").write_text(json.dumps(create) + "\n")
    os.symlink(tmp_path / "elsewhere.jsonl", d / "journal.jsonl")
    p = rh("import", str(d), env={"RH_SERVER": server.url}, check=False)
    assert p.returncode != 0 and "leaves the folder" in p.stderr, p.stderr


def test_clearml_task_types_exact_names_default_queue_and_dataset_tasks(tmp_path, server):
    import roundhouse
    # Every ClearML task type is accepted.
    for tt in ("training", "testing", "inference", "data_processing", "application", "monitor", "controller",
               "optimizer", "service", "qc", "custom", "other"):
        st, body, _ = server.request("POST", "/api/v1/tasks", {"project": "types", "name": tt, "type": tt})
        assert st == 201 and body["type"] == tt, (tt, st, body)
    st, body, _ = server.request("POST", "/api/v1/tasks", {"project": "types", "name": "x", "type": "nonsense"})
    assert st == 400 and "optimizer" in body["error"]["message"]
    # get_task by name is the newest task of exactly that name, not one containing it.
    first = server.request("POST", "/api/v1/tasks", {"project": "lookup", "name": "lookup"})[1]["id"]
    server.request("POST", "/api/v1/tasks", {"project": "lookup", "name": "lookup v2"})
    assert roundhouse.Task.get_task(project_name="lookup", task_name="lookup", server=server.url).id == first
    newer = server.request("POST", "/api/v1/tasks", {"project": "lookup", "name": "lookup"})[1]["id"]
    assert roundhouse.Task.get_task(project_name="lookup", task_name="lookup", server=server.url).id == newer
    with pytest.raises(roundhouse.RoundhouseError, match="no task named 'look'"):
        roundhouse.Task.get_task(project_name="lookup", task_name="look", server=server.url)
    # A fresh server has a `default` queue; enqueue with no queue name uses it.
    assert "default" in [q["name"] for q in server.request("GET", "/api/v1/queues")[1]["queues"]]
    draft = roundhouse.Task.get_task(task_id=first, server=server.url)
    assert roundhouse.Task.enqueue(draft)["status"] == "queued"
    entries = server.request("GET", "/api/v1/queues/default/entries")[1]["entries"]
    assert [e["task_id"] for e in entries] == [first]
    draft.mark_stopped()
    # A dataset version's own task completes with the version.
    src = tmp_path / "ds"
    src.mkdir()
    (src / "a.txt").write_text("a")
    ds = roundhouse.Dataset.create(dataset_name="occupancy", dataset_project="dsets", server=server.url)
    ds.add_files(str(src))
    ds.upload()
    ds.finalize()
    t = server.request("GET", f"/api/v1/tasks/{ds._record['task_id']}")[1]
    assert t["status"] == "completed" and t["type"] == "data_processing"
