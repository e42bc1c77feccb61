"""`rh repro` with RH_SERVER set records the pipeline run as a task and each
stage it ran as a child task, on a real `rh server`: code (commit, the
stage's command and wdir), params as hyperparameters, the deps' hashes, the
console, the metric files' numbers as scalars, the end status; a failed
stage ends failed with the reason; stages restored from the run cache or up
to date record nothing; a server that goes away never fails the pipeline."""
import json
import subprocess
import sys
import textwrap
import urllib.parse

from conftest import Server, rh


def git(repo, *args):
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo, check=True,
                   capture_output=True)


def make_repo(repo):
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "données.csv").write_text("x\n1\n2\n")
    (repo / "params.yaml").write_text(textwrap.dedent("""\
        prepare: {split: 0.25}
        train: {lr: 0.01, layers: [64, 32], opt: {name: adam, nesterov: true}}
        """))
    (repo / "train.py").write_text(textwrap.dedent("""\
        import json
        print("training on", open("prep/data.csv").read().count("\\n"), "rows")
        json.dump({"acc": 0.75, "loss": {"val": 0.5}, "done": True, "note": "x"}, open("metrics.json", "w"))
        """))
    (repo / "rh.yaml").write_text(textwrap.dedent(f"""\
        stages:
          prepare:
            cmd: mkdir -p prep && cp données.csv prep/data.csv && echo prepared
            deps: [données.csv]
            params: [prepare.split]
            outs: [prep]
          train:
            desc: fits the model
            cmd: {sys.executable} train.py
            deps: [prep, train.py]
            params: [train]
            metrics: [metrics.json]
          broken:
            cmd: echo about to fail && exit 3
        """))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first")


def tasks(server, **q):
    query = urllib.parse.urlencode(q)
    return server.request("GET", f"/api/v1/tasks?{query}&limit=100")[1]["tasks"]


def console(server, tid):
    return [l["text"] for l in server.request("GET", f"/api/v1/tasks/{tid}/console?limit=10000")[1]["lines"]]


def test_stages_recorded_as_tasks(tmp_path, server):
    repo = tmp_path / "my pipeline"
    make_repo(repo)
    env = {"RH_SERVER": server.url}
    r = rh("repro", "-j", "2", "--keep-going", cwd=repo, env=env, check=False)
    assert r.returncode == 1, r.stderr
    assert "recording the pipeline run as task" in r.stderr
    runs = [t for t in tasks(server, project="my pipeline") if t["type"] == "controller"]
    assert len(runs) == 1 and runs[0]["name"] == "rh.yaml"
    run = server.request("GET", f"/api/v1/tasks/{runs[0]['id']}")[1]
    assert run["status"] == "failed" and "broken" in run["status_message"]
    assert run["script"]["commit"] and run["script"]["entry_point"] == "rh repro"
    dag = json.loads(run["configurations"]["dag"]["value"])["stages"]
    assert dag == [{"name": "prepare", "after": []}, {"name": "train", "after": ["prepare"]},
                   {"name": "broken", "after": []}]
    stages = {t["name"]: t for t in tasks(server, parent=run["id"])}
    assert set(stages) == {"prepare", "train", "broken"}

    train = server.request("GET", f"/api/v1/tasks/{stages['train']['id']}")[1]
    assert train["status"] == "completed" and train["type"] == "data_processing"
    assert train["parent"] == run["id"] and train["comment"] == "fits the model"
    assert train["script"]["entry_point"] == f"{sys.executable} train.py"
    assert train["script"]["commit"] == run["script"]["commit"]
    hp = {(sec, name): (h["value"], h["type"]) for sec, names in train["hyperparameters"].items()
          for name, h in names.items()}
    assert hp == {("params.yaml", "train.lr"): ("0.01", "float"),
                  ("params.yaml", "train.layers"): ("[64,32]", "list"),
                  ("params.yaml", "train.opt.name"): ("adam", "str"),
                  ("params.yaml", "train.opt.nesterov"): ("true", "bool")}
    confs = {name: c["value"] for name, c in train["configurations"].items()}
    assert "  prep\n" in confs["deps"] and "  train.py\n" in confs["deps"]
    assert "never run" in confs["why"]
    assert train["runtime"]["stage"] == "train" and float(train["runtime"]["wall_time_s"]) >= 0
    assert "training on 3 rows" in console(server, train["id"])
    sums = {(s["title"], s["series"]): s["last_value"]
            for s in server.request("GET", f"/api/v1/tasks/{train['id']}/scalars")[1]["scalars"]}
    assert sums == {("metrics.json", "acc"): 0.75, ("metrics.json", "loss.val"): 0.5,
                    ("metrics.json", "done"): 1.0}

    prepare = server.request("GET", f"/api/v1/tasks/{stages['prepare']['id']}")[1]
    assert prepare["hyperparameters"]["params.yaml"]["prepare.split"]["value"] == "0.25"
    assert "prepared" in console(server, prepare["id"])

    broken = server.request("GET", f"/api/v1/tasks/{stages['broken']['id']}")[1]
    assert broken["status"] == "failed" and "exited with 3" in broken["status_message"]
    assert "about to fail" in console(server, broken["id"])

    # Up to date: nothing runs, nothing is recorded.
    (repo / "rh.yaml").write_text((repo / "rh.yaml").read_text().split("  broken:")[0])
    before = len(tasks(server, project="my pipeline"))
    r = rh("repro", cwd=repo, env=env)
    assert "recording" not in r.stderr
    assert len(tasks(server, project="my pipeline")) == before
    # A changed param reruns train alone; reverting it restores train's outs
    # from the run cache: no stage runs, no task.
    (repo / "params.yaml").write_text((repo / "params.yaml").read_text().replace("0.01", "0.02"))
    rh("repro", "--project", "other", cwd=repo, env=env)
    names = [t["name"] for t in tasks(server, project="other")]
    assert sorted(names) == ["rh.yaml", "train"]
    (repo / "params.yaml").write_text((repo / "params.yaml").read_text().replace("0.02", "0.01"))
    r = rh("repro", "--project", "other", cwd=repo, env=env)
    assert "cached" in r.stdout and len(tasks(server, project="other")) == 2


def test_a_server_gone_never_fails_the_pipeline(tmp_path):
    repo = tmp_path / "r"
    make_repo(repo)
    s = Server(str(tmp_path / "data"))
    url = s.url
    s.stop()
    r = rh("repro", "train", cwd=repo, env={"RH_SERVER": url}, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("cannot record the pipeline's run as tasks") == 1, r.stderr
    assert (repo / "metrics.json").exists() and (repo / "rh.lock").exists()
