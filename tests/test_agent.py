"""Remote execution end to end: a real rh server and real `rh agent`
processes on loopback, a real git repository made here (commit + uncommitted
diff), clone -> edit -> enqueue, overrides reaching argparse, dicts and
config files, aborts, killed agents and killed processes."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import RH, Server, rh, wait_for

PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "python"))

TRAIN = '''
import argparse, json, os, sys, time
import roundhouse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--epochs", type=int, default=3)
a = p.parse_args()
task = roundhouse.init(project="remote", name="train")
params = task.connect({"batch": 32, "opt": "sgd"})
cfg = json.load(open(task.connect_configuration("config.json", name="config")))
log = task.get_logger()
for e in range(a.epochs):
    log.report_scalar("loss", "train", a.lr / (e + 1), e)
print(f"RESULT lr={a.lr} epochs={a.epochs} batch={params['batch']} opt={params['opt']} layers={cfg['layers']}")
print("MARKER")
'''


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_repo(tmp_path, body=TRAIN):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "train.py").write_text(body)
    (repo / "config.json").write_text('{"layers": 2}\n')
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    # The uncommitted change the agent must reproduce.
    (repo / "train.py").write_text(body.replace('print("MARKER")', 'print("uncommitted change applied")'))
    return repo


def run_local(repo, server, *args, env=None):
    e = dict(os.environ, RH_SERVER=server.url, PYTHONPATH=PYTHON_DIR)
    e.update(env or {})
    p = subprocess.run([sys.executable, "train.py", *args], cwd=repo, env=e, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


class Agent:
    def __init__(self, server, name, workdir, queues=("q",), extra=(), env=None):
        self.name = name
        args = [RH, "agent", "--name", name, "--workdir", str(workdir), "--heartbeat", "0.3",
                "--kill-grace", "2", "--python", sys.executable, "--no-tee", *extra]
        for q in queues:
            args += ["--queue", q]
        self.log = open(os.path.join(str(workdir), f"{name}.log"), "w")
        env = dict(os.environ, RH_SERVER=server.url, RH_SDK_PATH=PYTHON_DIR, **(env or {}))
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_for(lambda: any(w["name"] == name for w in server.request("GET", "/api/v1/workers")[1]["workers"]),
                 timeout=15)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.log.close()
        return self.proc.returncode

    def output(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    # Shared by the tests here, as agents on one machine share repos and venvs.
    return tmp_path_factory.mktemp("agent-work")


def task_of(server, tid):
    return server.request("GET", f"/api/v1/tasks/{tid}")[1]


def console(server, tid):
    return [l["text"] for l in server.request("GET", f"/api/v1/tasks/{tid}/console?limit=10000")[1]["lines"]]


def wait_status(server, tid, statuses, timeout=60):
    wait_for(lambda: task_of(server, tid)["status"] in statuses, timeout=timeout)
    return task_of(server, tid)


def test_clone_edit_enqueue_runs_on_an_agent_with_the_edited_values(tmp_path, server, workdir):
    repo = make_repo(tmp_path)
    run_local(repo, server, "--lr", "0.1")
    src = server.request("GET", "/api/v1/tasks?project=remote")[1]["tasks"][0]
    assert src["status"] == "completed"
    env = {"RH_SERVER": server.url}
    rh("queues", "create", "q", env=env)
    (tmp_path / "config.json").write_text('{"layers": 7}\n')
    out = rh("tasks", "clone", src["id"][:12], "--set", "Args/lr=0.5", "--set", "General/batch=64",
             "--config", f"config=@{tmp_path / 'config.json'}", env=env)
    clone = out.stdout.strip()
    draft = task_of(server, clone)
    assert draft["status"] == "created" and draft["parent"] == src["id"]
    full = task_of(server, src["id"])
    assert draft["script"] == full["script"] and draft["environment"] == full["environment"]
    assert draft["hyperparameters"]["Args"]["lr"]["value"] == "0.5"
    assert draft["hyperparameters"]["Args"]["lr"]["type"] == src_type(server, src["id"])
    # A draft stays editable until enqueued.
    rh("tasks", "edit", clone, "--set", "General/opt=adam", env=env)
    rh("tasks", "enqueue", clone, "--queue", "q", env=env)
    assert task_of(server, clone)["status"] == "queued"
    refused = rh("tasks", "edit", clone, "--set", "General/opt=x", env=env, check=False)
    assert refused.returncode != 0 and "queued" in refused.stderr, refused.stderr
    listing = rh("queues", "list", env=env).stdout
    assert "q" in listing and clone[:12] in listing

    a1 = Agent(server, "a1", workdir)
    try:
        t = wait_status(server, clone, ("completed", "failed"))
        assert t["status"] == "completed", (t["status_message"], console(server, clone), a1.output())
        lines = console(server, clone)
        assert "RESULT lr=0.5 epochs=3 batch=64 opt=adam layers=7" in lines, lines
        assert "uncommitted change applied" in lines and "MARKER" not in lines
        assert t["runtime"]["worker"] == "a1" and t["runtime"]["exit_code"] == "0"
        s = server.request("GET", f"/api/v1/tasks/{clone}/scalars/series?title=loss&series=train")[1]
        assert s["values"] == [0.5, 0.25, pytest.approx(0.5 / 3)]
        # Each console line once: the agent records it, the SDK inside does not.
        assert lines.count("RESULT lr=0.5 epochs=3 batch=64 opt=adam layers=7") == 1
        # The original is untouched.
        assert task_of(server, src["id"])["hyperparameters"]["Args"]["lr"]["value"] == "0.1"
        # After the wrap-up the worker reports itself idle.
        wait_for(lambda: server.request("GET", "/api/v1/workers")[1]["workers"][0]["task_id"] == "")
        assert [w["name"] for w in server.request("GET", "/api/v1/workers")[1]["workers"]] == ["a1"]
    finally:
        assert a1.stop() == 0
    assert server.request("GET", "/api/v1/workers")[1]["workers"] == [], "a stopped agent unregisters"


def src_type(server, tid):
    return task_of(server, tid)["hyperparameters"]["Args"]["lr"]["type"]


SCRIPT_TASK = {"project": "remote", "name": "script",
               "script": {"entry_point": "job.py", "argv": ["python", "job.py"],
                          "content": "import os, sys, time\nprint('worker', os.environ['RH_TASK_ID'][:6], flush=True)\n"}}


def make_script_task(server, content, name="script", requirements=""):
    body = json.loads(json.dumps(SCRIPT_TASK))
    body["name"] = name
    body["script"]["content"] = content
    body["environment"] = {"requirements": requirements}
    s, t, _ = server.request("POST", "/api/v1/tasks", body)
    assert s == 201, t
    return t["id"]


def enqueue(server, tid, queue="q", priority=0):
    s, t, _ = server.request("POST", f"/api/v1/tasks/{tid}/enqueue", {"queue": queue, "priority": priority})
    assert s == 200, t
    return t


def test_two_agents_share_a_queue_and_never_run_the_same_task(server, workdir):
    server.request("POST", "/api/v1/queues", {"name": "q"})
    agents = [Agent(server, "b1", workdir), Agent(server, "b2", workdir)]
    try:
        ids = [make_script_task(server, "import time\ntime.sleep(0.3)\nprint('done')\n", name=f"t{i}") for i in range(8)]
        for tid in ids:
            enqueue(server, tid)
        for tid in ids:
            assert wait_status(server, tid, ("completed", "failed"))["status"] == "completed"
        by_worker = {}
        for tid in ids:
            t = task_of(server, tid)
            assert console(server, tid).count("done") == 1
            by_worker.setdefault(t["runtime"]["worker"], []).append(tid)
        assert set(by_worker) == {"b1", "b2"}, by_worker
        assert sum(len(v) for v in by_worker.values()) == 8
    finally:
        for a in agents:
            a.stop()


def test_abort_stops_the_process_within_a_second(server, workdir):
    server.request("POST", "/api/v1/queues", {"name": "q"})
    a = Agent(server, "c1", workdir)
    try:
        tid = make_script_task(server, "import time\nprint('started', flush=True)\ntime.sleep(60)\nprint('not reached')\n")
        enqueue(server, tid)
        wait_for(lambda: "started" in console(server, tid), timeout=30)
        start = time.monotonic()
        rh("tasks", "abort", tid[:12], env={"RH_SERVER": server.url})
        # The agent notices and the process is gone: the worker is idle again.
        wait_for(lambda: server.request("GET", "/api/v1/workers")[1]["workers"][0]["task_id"] == "", timeout=10)
        took = time.monotonic() - start
        t = task_of(server, tid)
        assert t["status"] == "aborted" and t["status_message"] == "aborted by the user"
        assert t["runtime"].get("signal") == str(int(signal.SIGTERM)), t["runtime"]
        assert took < 2.5, took
        assert "not reached" not in console(server, tid)
    finally:
        a.stop()


def test_a_task_killed_by_a_signal_fails_with_that_reason(server, workdir):
    server.request("POST", "/api/v1/queues", {"name": "q"})
    a = Agent(server, "d1", workdir)
    try:
        tid = make_script_task(server, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
        enqueue(server, tid)
        t = wait_status(server, tid, ("failed", "completed"))
        assert t["status"] == "failed"
        assert "killed by signal 9" in t["status_message"] and "OOM" in t["status_message"]
        # A script that ends with an error fails with its exit code.
        tid2 = make_script_task(server, "raise SystemExit(3)\n")
        enqueue(server, tid2)
        t2 = wait_status(server, tid2, ("failed", "completed"))
        assert t2["status"] == "failed" and t2["status_message"] == "exit code 3"
    finally:
        a.stop()


def test_a_diff_that_no_longer_applies_fails_the_task_clearly(tmp_path, server, workdir):
    repo = make_repo(tmp_path)
    run_local(repo, server)
    src = server.request("GET", "/api/v1/tasks?project=remote")[1]["tasks"][0]
    clone = server.request("POST", f"/api/v1/tasks/{src['id']}/clone", {})[1]
    script = task_of(server, clone["id"])["script"]
    script["diff"] = script["diff"].replace('-print("MARKER")', '-print("SOMETHING ELSE")')
    assert server.request("PATCH", f"/api/v1/tasks/{clone['id']}", {"script": script})[0] == 200
    server.request("POST", "/api/v1/queues", {"name": "q"})
    enqueue(server, clone["id"])
    a = Agent(server, "e1", workdir)
    try:
        t = wait_status(server, clone["id"], ("failed", "completed"))
        assert t["status"] == "failed"
        assert "the recorded uncommitted changes no longer apply to commit" in t["status_message"], t["status_message"]
    finally:
        a.stop()


def test_requirements_are_installed_into_a_reused_venv_and_failures_recorded(server, workdir):
    # tabulate: a small real PyPI package this machine does not have.
    assert subprocess.run([sys.executable, "-c", "import tabulate"], capture_output=True).returncode != 0
    server.request("POST", "/api/v1/queues", {"name": "q"})
    a = Agent(server, "f1", workdir)
    try:
        code = "import tabulate, json\nprint('TABLE', tabulate.tabulate([[1, 2]]).splitlines()[1])\nimport roundhouse\n"
        reqs = "tabulate\nrh-no-such-package-for-tests==9.9.9\nroundhouse==0.1.0\n"
        tid = make_script_task(server, code, requirements=reqs)
        enqueue(server, tid)
        t = wait_status(server, tid, ("failed", "completed"), timeout=180)
        assert t["status"] == "completed", (t["status_message"], console(server, tid))
        assert any(l.startswith("TABLE") for l in console(server, tid))
        assert t["runtime"]["requirements_failed"] == "rh-no-such-package-for-tests==9.9.9"
        assert any("could not install: rh-no-such-package-for-tests==9.9.9" in l for l in console(server, tid))
        # Same requirements again: the venv is reused, not rebuilt.
        tid2 = make_script_task(server, code, requirements=reqs)
        enqueue(server, tid2)
        t2 = wait_status(server, tid2, ("failed", "completed"), timeout=60)
        assert t2["status"] == "completed"
        assert any("reused" in l for l in console(server, tid2))
        assert float(t2["runtime"]["agent_setup_ms"]) < 3000
    finally:
        a.stop()


def test_a_killed_agents_task_is_failed_or_requeued_never_left_running(tmp_path, workdir):
    server = Server(str(tmp_path / "d"), args=("--worker-timeout", "2"))
    try:
        server.request("POST", "/api/v1/queues", {"name": "q"})
        server.request("POST", "/api/v1/queues", {"name": "rq", "requeue_on_lost": True})
        a = Agent(server, "g1", workdir, queues=("q", "rq"))
        code = "import time, os\nprint('pid', os.getpid(), flush=True)\ntime.sleep(120)\n"
        lost = make_script_task(server, code, name="lost")
        enqueue(server, lost, "q")
        wait_for(lambda: any(l.startswith("pid") for l in console(server, lost)), timeout=30)
        child = int([l for l in console(server, lost) if l.startswith("pid")][0].split()[1])
        a.stop(signal.SIGKILL)  # the machine is gone: no goodbye
        os.kill(child, signal.SIGKILL)  # (its orphaned process too)
        t = wait_status(server, lost, ("failed",), timeout=15)
        assert "agent g1 stopped sending heartbeats" in t["status_message"], t["status_message"]

        # A requeue queue: the task goes back and the next agent runs it.
        again = make_script_task(server, "import time, os\nprint('pid', os.getpid(), flush=True)\n"
                                         "time.sleep(120 if os.environ.get('FIRST') else 0)\nprint('finished')\n",
                                 name="again")
        first = Agent(server, "g3", workdir, queues=("rq",), env={"FIRST": "1"})
        enqueue(server, again, "rq")
        wait_for(lambda: any(l.startswith("pid") for l in console(server, again)), timeout=30)
        child = int([l for l in console(server, again) if l.startswith("pid")][0].split()[1])
        first.stop(signal.SIGKILL)
        os.kill(child, signal.SIGKILL)
        wait_for(lambda: task_of(server, again)["status"] == "queued", timeout=15)
        assert "requeued" in task_of(server, again)["status_message"]
        a3 = Agent(server, "g4", workdir, queues=("rq",))
        try:
            t = wait_status(server, again, ("completed", "failed"), timeout=30)
            assert t["status"] == "completed" and t["runtime"]["worker"] == "g4"
            assert "finished" in console(server, again)
        finally:
            a3.stop()
    finally:
        server.stop()


def test_queued_tasks_and_their_order_survive_a_server_restart(tmp_path):
    data = str(tmp_path / "d")
    server = Server(data)
    server.request("POST", "/api/v1/queues", {"name": "q"})
    ids = [make_script_task(server, "print(1)\n", name=f"r{i}") for i in range(4)]
    for tid, prio in zip(ids, (0, 5, 0, 1)):
        enqueue(server, tid, priority=prio)
    before = server.request("GET", "/api/v1/queues/q/entries")[1]["entries"]
    assert [e["task_id"] for e in before] == [ids[1], ids[3], ids[0], ids[2]]
    assert server.stop() == 0
    server = Server(data)
    try:
        after = server.request("GET", "/api/v1/queues/q/entries")[1]["entries"]
        assert after == before
        s, body, _ = server.request("DELETE", "/api/v1/queues/q")
        assert s == 409 and "waiting" in body["error"]["message"]
    finally:
        server.stop()


def test_bad_queue_requests_are_refused_clearly(server):
    for body, where in (({"name": "a/b"}, "letters, digits"), ({}, "body.name")):
        s, r, _ = server.request("POST", "/api/v1/queues", body)
        assert s == 400 and where in r["error"]["message"], r
    tid = make_script_task(server, "print(1)\n")
    s, r, _ = server.request("POST", f"/api/v1/tasks/{tid}/enqueue", {"queue": "missing"})
    assert s == 404 and "no queue named" in r["error"]["message"]
    s, r, _ = server.request("POST", "/api/v1/queues/take", {"queues": [], "worker": "w"})
    assert s == 400
    s, r, _ = server.request("POST", "/api/v1/queues/take", {"queues": ["missing"], "worker": "w"})
    assert s == 404
    s, r, _ = server.request("POST", f"/api/v1/tasks/{tid}/status", {"status": "queued"})
    assert s == 409 and "enqueue" in r["error"]["message"]
    out = rh("agent", "--queue", "missing", env={"RH_SERVER": server.url}, check=False, timeout=30)
    assert out.returncode != 0 and "rh queues create missing" in out.stderr


def test_sdk_clone_set_parameters_enqueue(tmp_path, server, workdir):
    repo = make_repo(tmp_path)
    run_local(repo, server, "--epochs", "2")
    sys.path.insert(0, PYTHON_DIR)
    import roundhouse
    src = roundhouse.Task.get_task(project_name="remote", task_name="train", server=server.url)
    draft = roundhouse.Task.clone(source_task=src, name="train-sdk-clone")
    assert draft.id != src.id and draft.status == "created"
    draft.set_parameters({"Args/epochs": "4", "General/opt": "rmsprop"})
    hp = task_of(server, draft.id)["hyperparameters"]
    assert hp["Args"]["epochs"] == {"value": "4", "type": "int", "description": hp["Args"]["epochs"]["description"]}
    server.request("POST", "/api/v1/queues", {"name": "q"})
    rec = roundhouse.Task.enqueue(draft, queue_name="q")
    assert rec["status"] == "queued"
    a = Agent(server, "h1", workdir)
    try:
        t = wait_status(server, draft.id, ("completed", "failed"))
        assert t["status"] == "completed" and t["name"] == "train-sdk-clone"
        assert "RESULT lr=0.1 epochs=4 batch=32 opt=rmsprop layers=2" in console(server, draft.id)
    finally:
        a.stop()
    # Aborting from the SDK: a queued task leaves its queue.
    again = roundhouse.Task.clone(source_task=src.id, server=server.url)
    roundhouse.Task.enqueue(again, queue_name="q")
    assert again.mark_stopped()["status"] == "aborted"
    assert server.request("GET", "/api/v1/queues/q/entries")[1]["entries"] == []


def test_the_remote_example_runs_end_to_end(tmp_path):
    env = dict(os.environ, RH_BIN=RH, RH_DATA_DIR=str(tmp_path / "home"), PYTHON=sys.executable)
    env.pop("RH_SERVER", None)
    p = subprocess.run(["bash", os.path.join(os.path.dirname(__file__), "..", "examples", "remote.sh")],
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    out = p.stdout + p.stderr
    assert "final test accuracy" in out
    assert "completed (setup" in out, out[-3000:]
    lr_row = [l for l in p.stdout.splitlines() if "Args/lr" in l]
    assert lr_row and lr_row[0].startswith("*") and "0.1" in lr_row[0] and "0.5" in lr_row[0], p.stdout
    assert "/compare?ids=" in p.stdout


def test_gpus_option_sets_cuda_visible_devices_for_tasks(server, workdir):
    server.request("POST", "/api/v1/queues", {"name": "q"})
    code = "import os\nprint('CVD=' + repr(os.environ.get('CUDA_VISIBLE_DEVICES')))\n"
    for gpus, expected in (("1,3", "CVD='1,3'"), ("none", "CVD=''")):
        a = Agent(server, "gpu-" + gpus.replace(",", "-"), workdir, extra=("--gpus", gpus))
        try:
            tid = make_script_task(server, code)
            enqueue(server, tid)
            assert wait_status(server, tid, ("completed", "failed"))["status"] == "completed"
            assert expected in console(server, tid)
            w = [w for w in server.request("GET", "/api/v1/workers")[1]["workers"] if w["name"] == a.name][0]
            assert w["gpus"] == ("1,3" if gpus == "1,3" else "")
        finally:
            a.stop()


PKG_TRAIN = '''
import hashlib, os
import roundhouse
import pkg
task = roundhouse.init(project="replay", name="pkg")
here = os.path.dirname(os.path.abspath(__file__))
for name in ("pkg/__init__.py", "weights.bin", "no newline.txt", "ünï code.txt"):
    p = os.path.join(here, name)
    print("HAVE", name, os.path.exists(p) and hashlib.sha256(open(p, "rb").read()).hexdigest())
print("LINK", os.readlink(os.path.join(here, "latest")))
print("BIG", os.path.exists(os.path.join(here, "big.bin")))
'''


def test_an_sdk_run_with_untracked_empty_binary_and_linked_files_replays_on_an_agent(tmp_path, server, workdir):
    # The new user's repository: train.py committed, a package whose __init__.py
    # is empty and untracked, an untracked binary, a symlink, a file without a
    # final newline, a non-ASCII name, a log the script redirects into the tree,
    # and a file over the size limit that must be named on the task.
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "train.py").write_text(PKG_TRAIN)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "__init__.py").write_bytes(b"")
    (repo / "weights.bin").write_bytes(bytes(range(256)) * 8)
    (repo / "no newline.txt").write_text("tail")
    (repo / "ünï code.txt").write_text("ü\n")
    os.symlink("weights.bin", repo / "latest")
    (repo / "big.bin").write_bytes(os.urandom(2 << 20))
    local = run_local(repo, server)
    src = server.request("GET", "/api/v1/tasks?project=replay")[1]["tasks"][0]
    assert src["status"] == "completed", local.stdout + local.stderr
    script = task_of(server, src["id"])["script"]
    assert script["diff"].startswith("# not recorded: big.bin (")
    git(repo, "status", "--porcelain")  # the user's repository is as it was
    expected = [l for l in local.stdout.splitlines() if l.startswith(("HAVE", "LINK"))]
    assert len(expected) == 5 and all("False" not in l for l in expected), local.stdout

    env = {"RH_SERVER": server.url}
    # The `default` queue is there on a fresh server; an agent with no --queue serves it.
    draft = rh("tasks", "clone", src["id"][:12], env=env).stdout.strip()
    rh("tasks", "enqueue", draft, env=env)
    clone = draft
    agent = subprocess.run([RH, "agent", "--once", "--workdir", str(workdir),
                            "--python", sys.executable, "--no-tee"],
                           env=dict(os.environ, RH_SERVER=server.url, RH_SDK_PATH=PYTHON_DIR),
                           capture_output=True, text=True, timeout=120)
    t = task_of(server, clone)
    lines = console(server, clone)
    assert t["status"] == "completed", (t["status_message"], lines, agent.stdout, agent.stderr)
    for line in expected:
        assert line in lines, (line, lines)
    assert "BIG False" in lines
    # What the recording left out is visible on the task that runs without it.
    assert any("not recorded: big.bin (" in l for l in lines), lines
