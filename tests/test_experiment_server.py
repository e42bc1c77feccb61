"""Experiments on a real rh server with real `rh agent` processes: a small
adaptive ASHA search run to the end by two agents (a Determined Core API
script changed only in its import, trials paused at a rung and resumed from
their checkpoints), a pause/activate round trip whose trial goes on from its
checkpoint, a trial process that dies and restarts from its checkpoint,
the commands (list, show, trials, checkpoints, cancel, kill, delete) and the
errors a user must be told about."""
import hashlib
import json
import os
import signal
import textwrap

import time

import pytest

from conftest import Server, rh, wait_for
from test_agent import Agent, console

CORE_API = """
import json, time
from roundhouse import determined as det   # was: import determined as det


def main(core_context, hparams, latest_checkpoint):
    x, steps = 0.0, 0
    if latest_checkpoint is not None:
        with core_context.checkpoint.restore_path(latest_checkpoint) as path:
            state = json.loads((path / "state.json").read_text())
            x, steps = state["x"], state["steps"]
    for op in core_context.searcher.operations():
        while steps < op.length:
            steps += 1
            x += hparams["optimizer"]["lr"]
            time.sleep(0.02)
            core_context.train.report_training_metrics(steps_completed=steps, metrics={"loss": 1 / (1 + x)})
        val = 1 / (1 + x)
        core_context.train.report_validation_metrics(steps_completed=steps, metrics={"validation_loss": val})
        with core_context.checkpoint.store_path({"steps_completed": steps}) as (path, storage_id):
            (path / "state.json").write_text(json.dumps({"x": x, "steps": steps}))
        op.report_completed(val)
        if core_context.preempt.should_preempt():
            return


if __name__ == "__main__":
    info = det.get_cluster_info()
    with det.core.init() as core_context:
        main(core_context, info.trial.hparams, info.latest_checkpoint)
"""

# The native trial API; trains slowly, so a pause lands mid-way. With
# DIE_AT set, the first run (no checkpoint yet restored) dies at that step.
NATIVE = """
import json, os, sys, time
import roundhouse
ctx = roundhouse.trial()
steps, x = 0, 0.0
path = ctx.checkpoint.restore()
if path:
    state = json.load(open(os.path.join(path, "state.json")))
    steps, x = state["steps"], state["x"]
    print("restored at step", steps)
print("pid", os.getpid(), flush=True)
print("devices", os.environ.get("CUDA_VISIBLE_DEVICES"), flush=True)
die_at = int(os.environ.get("DIE_AT", "0"))
while steps < ctx.target():
    steps += 1
    x += ctx.hparams["lr"]
    time.sleep(float(os.environ.get("STEP_S", "0.05")))
    ctx.report(steps, {"loss": 1 / (1 + x)})
    if steps % 5 == 0 or steps == ctx.target() or ctx.should_stop():
        ctx.report(steps, {"validation_loss": 1 / (1 + x)}, validation=True)
        os.makedirs("ckpt", exist_ok=True)
        json.dump({"steps": steps, "x": x}, open("ckpt/state.json", "w"))
        ctx.checkpoint.save("ckpt", {"steps_completed": steps})
        if ctx.should_stop():
            break
    if die_at and steps == die_at and not path:
        print("dying on purpose", flush=True)
        os._exit(3)
"""


def make_context(tmp_path, script, config):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "train.py").write_text(script)
    (ctx / "config.yaml").write_text(textwrap.dedent(config))
    # What a user's folder holds: an empty package file, names with spaces
    # and non-ASCII letters, a binary file, caches that must stay out.
    (ctx / "pkg").mkdir()
    (ctx / "pkg" / "__init__.py").write_text("")
    (ctx / "données d'entrée.bin").write_bytes(bytes(range(256)) * 64)
    (ctx / "__pycache__").mkdir()
    (ctx / "__pycache__" / "x.pyc").write_bytes(b"\0")
    return ctx


@pytest.fixture
def cluster(tmp_path):
    server = Server(str(tmp_path / "server-data"), args=("--worker-timeout", "2"))
    agents = []
    env = {"RH_SERVER": server.url}
    rh("queues", "create", "q", env=env)

    def start(n=1, **kw):
        new = [Agent(server, f"a{len(agents) + i}", tmp_path, **kw) for i in range(n)]
        agents.extend(new)
        return new
    yield server, env, start
    for a in agents:
        a.stop()
    assert server.stop() == 0, server.proc.stderr.read()


def experiment(server, eid):
    status, body, _ = server.request("GET", f"/api/v1/experiments/{eid}")
    assert status == 200, body
    return body


def series(server, tid, title, name):
    status, body, _ = server.request("GET", f"/api/v1/tasks/{tid}/scalars/series?title={title}&series={name}")
    if status == 404:
        return {"steps": []}
    assert status == 200, body
    return dict(body, steps=body["iterations"])


def test_adaptive_asha_search_runs_to_the_end_on_two_agents(tmp_path, cluster):
    server, env, start = cluster
    ctx = make_context(tmp_path, CORE_API, """
        name: small-search
        entrypoint: python3 train.py
        hyperparameters:
          optimizer:
            lr: {type: double, minval: 0.01, maxval: 0.5}
        searcher:
          name: adaptive_asha
          metric: validation_loss
          max_length: {batches: 8}
          max_trials: 4
          max_rungs: 2
          divisor: 2
          max_concurrent_trials: 2
        reproducibility:
          experiment_seed: 3
    """)
    start(2)
    p = rh("experiment", "create", str(ctx / "config.yaml"), str(ctx), "--queue", "q", "--follow",
           env=env, timeout=300)
    eid = p.stdout.strip()
    assert len(eid) == 32, p.stdout
    assert "context: 4 files" in p.stderr, p.stderr  # __pycache__ left out
    assert f"experiment {eid} completed" in p.stderr, p.stderr
    e = experiment(server, eid)
    assert e["state"] == "completed"
    trials = e["trials"]
    assert len(trials) == 4
    assert all(t["state"] == "completed" for t in trials), json.dumps(trials, indent=1)
    # Every trial is a task: a child of the experiment with its values in section hparams.
    for t in trials:
        task = server.request("GET", f"/api/v1/tasks/{t['task_id']}")[1]
        assert task["parent"] == eid
        lr = task["hyperparameters"]["hparams"]["optimizer.lr"]
        assert lr["type"] == "float"
        assert float(lr["value"]) == pytest.approx(t["hparams"]["optimizer"]["lr"])
    # Both agents ran trials.
    assert len({t["worker"] for t in trials}) == 2, trials
    # A trial that trained past the first rung (4) went on from its checkpoint:
    # its steps continue, nothing retrained from zero.
    went_on = [t for t in trials if t["reached"] == 8 and t["validations"] >= 2]
    assert went_on, trials
    for t in went_on:
        steps = series(server, t["task_id"], "training", "loss")["steps"]
        assert steps == list(range(1, 9)), steps
        # Promoted at its rung while still running, it went on in the same
        # process (the next operation), not through a pause and a restart.
        lines = [l["text"] for l in server.request("GET", f"/api/v1/tasks/{t['task_id']}/console?limit=10000")[1]["lines"]]
        assert sum(" running " in l and "train.py" in l for l in lines) == 1, lines
    # The best trial is the one with the smallest validation loss.
    best = min((t for t in trials if "best_metric" in t), key=lambda t: t["best_metric"])
    assert e["best"]["trial"] == best["trial"]
    # Listings.
    out = rh("experiment", "list", env=env).stdout
    assert eid[:12] in out and "completed" in out
    j = json.loads(rh("trials", "list", eid[:20], "--json", env=env).stdout)
    assert [t["trial"] for t in j] == [1, 2, 3, 4]
    cps = json.loads(rh("checkpoints", "list", eid[:20], "--json", env=env).stdout)
    assert len(cps) >= 4
    cp = next(c for c in cps if c["trial"] == best["trial"])
    got = tmp_path / "got"
    rh("checkpoints", "get", f"{cp['task_id'][:12]}/{cp['id']}", "-o", str(got), env=env)
    state = json.loads((got / "state.json").read_text())
    assert state["steps"] == json.loads(cp["metadata"])["steps_completed"]
    # Deleting an ended experiment removes its trial tasks too.
    rh("experiment", "delete", eid, env=env)
    assert server.request("GET", f"/api/v1/tasks/{trials[0]['task_id']}")[0] == 404


def single(max_length):
    return f"""
        name: one-trial
        entrypoint: python3 train.py
        hyperparameters:
          lr: 0.1
        searcher:
          name: single
          metric: validation_loss
          max_length: {max_length}
    """


def test_pause_and_activate_continue_the_trial_from_its_checkpoint(tmp_path, cluster):
    server, env, start = cluster
    ctx = make_context(tmp_path, NATIVE, single(60))
    [agent] = start(1)
    eid = rh("experiment", "create", str(ctx / "config.yaml"), "--queue", "q", env=env).stdout.strip()
    wait_for(lambda: experiment(server, eid)["trials"], timeout=20, what="a trial")
    tid = experiment(server, eid)["trials"][0]["task_id"]
    wait_for(lambda: len(series(server, tid, "training", "loss")["steps"]) >= 8, timeout=60,
             what="training under way")
    rh("experiment", "pause", eid[:20], env=env)
    wait_for(lambda: experiment(server, eid)["trials"][0]["state"] == "paused", timeout=30,
             what="the trial paused")
    t = experiment(server, eid)["trials"][0]
    assert t["latest_checkpoint"], t
    assert experiment(server, eid)["state"] == "paused"
    # The agent is free: it records the trial's end, clears its workspace, then
    # says so in its next heartbeat.
    wait_for(lambda: all(not w.get("task_id")
                         for w in server.request("GET", "/api/v1/workers")[1]["workers"]),
             timeout=15, what="the agent free again")
    paused_at = series(server, tid, "training", "loss")["steps"][-1]
    assert paused_at < 60
    rh("experiment", "activate", eid[:20], env=env)
    wait_for(lambda: experiment(server, eid)["state"] == "completed", timeout=60, what="the end")
    steps = series(server, tid, "training", "loss")["steps"]
    # The series continues where it stopped: no step twice, none missing.
    assert steps == list(range(1, 61)), steps
    console = [l["text"] for l in
               server.request("GET", f"/api/v1/tasks/{tid}/console?limit=10000")[1]["lines"]]
    assert any(f"restored at step {paused_at}" in l for l in console), console[-20:]
    assert experiment(server, eid)["trials"][0]["state"] == "completed"


def test_a_trial_that_dies_restarts_from_its_checkpoint(tmp_path, cluster):
    server, env, start = cluster
    ctx = make_context(tmp_path, NATIVE, single(20) + """
        max_restarts: 2
        environment:
          environment_variables:
            - DIE_AT=12
            - STEP_S=0.01
    """)
    start(1)
    p = rh("experiment", "create", str(ctx / "config.yaml"), "--queue", "q", "--follow", env=env,
           timeout=120)
    eid = p.stdout.strip()
    t = experiment(server, eid)["trials"][0]
    assert t["state"] == "completed" and t["restarts"] == 1, t
    steps = series(server, t["task_id"], "training", "loss")["steps"]
    # Died at 12 after the checkpoint at 10: steps 11 and 12 are trained again, nothing before.
    assert steps == list(range(1, 13)) + list(range(11, 21)), steps


def test_a_killed_agents_trial_resumes_from_its_checkpoint_on_another(tmp_path, cluster):
    server, env, start = cluster
    ctx = make_context(tmp_path, NATIVE, single(40))
    [first] = start(1)
    eid = rh("experiment", "create", str(ctx / "config.yaml"), "--queue", "q", env=env).stdout.strip()
    wait_for(lambda: experiment(server, eid)["trials"], timeout=20, what="a trial")
    tid = experiment(server, eid)["trials"][0]["task_id"]
    wait_for(lambda: len(series(server, tid, "training", "loss")["steps"]) >= 12, timeout=60,
             what="past the first checkpoint")

    def console():
        return [l["text"] for l in server.request("GET", f"/api/v1/tasks/{tid}/console?limit=10000")[1]["lines"]]
    child = int([l for l in console() if l.startswith("pid")][0].split()[1])
    first.stop(signal.SIGKILL)  # the machine is gone: no goodbye
    os.kill(child, signal.SIGKILL)
    wait_for(lambda: experiment(server, eid)["trials"][0]["state"] in ("paused", "queued"), timeout=15,
             what="the trial given up by the silent agent")
    [second] = start(1)
    wait_for(lambda: experiment(server, eid)["state"] == "completed", timeout=60, what="the end")
    t = experiment(server, eid)["trials"][0]
    assert t["state"] == "completed" and t["worker"] == second.name, t
    steps = series(server, tid, "training", "loss")["steps"]
    restored = [int(l.split()[-1]) for l in console() if l.startswith("restored at step")]
    assert restored and restored[0] % 5 == 0, console()[-20:]
    # Up to where it was killed, then on from the checkpoint: nothing from zero.
    k = next(i for i in range(1, len(steps)) if steps[i] <= steps[i - 1])
    assert steps[:k] == list(range(1, k + 1)) and steps[k:] == list(range(restored[0] + 1, 41)), steps


def test_cancel_kill_and_errors(tmp_path, cluster):
    server, env, start = cluster
    ctx = make_context(tmp_path, NATIVE, single(1000))
    # No server: a clear error, not the embedded store.
    p = rh("experiment", "create", str(ctx / "config.yaml"), check=False,
           data_dir=tmp_path / "nothing-here")
    assert p.returncode != 0 and "start one (rh server)" in p.stderr, p.stderr
    # An unknown queue is named with how to create it.
    p = rh("experiment", "create", str(ctx / "config.yaml"), "--queue", "nope", env=env, check=False)
    assert p.returncode != 0 and "rh queues create nope" in p.stderr, p.stderr
    # A bad config names the file, the line and the key, and nothing is created.
    bad = tmp_path / "bad.yaml"
    bad.write_text("entrypoint: python3 train.py\nsearcher:\n  name: single\n  metric: m\n  max_length: 1\n"
                   "  nonsense: 1\n")
    p = rh("experiment", "create", str(bad), str(ctx), "--queue", "q", env=env, check=False)
    assert p.returncode != 0 and "bad.yaml:6" in p.stderr and "nonsense" in p.stderr, p.stderr
    assert json.loads(rh("experiment", "list", "--json", env=env).stdout) == []
    # Created paused: nothing runs; cancel ends it, kill of a running one ends its trial.
    eid = rh("experiment", "create", str(ctx / "config.yaml"), "--queue", "q", "--paused",
             env=env).stdout.strip()
    assert experiment(server, eid)["state"] == "paused"
    rh("experiment", "cancel", eid, env=env)
    wait_for(lambda: experiment(server, eid)["state"] == "aborted", timeout=10)
    p = rh("experiment", "pause", eid, env=env, check=False)
    assert p.returncode != 0 and "aborted" in p.stderr, p.stderr
    start(1)
    eid2 = rh("experiment", "create", str(ctx / "config.yaml"), "--queue", "q", env=env).stdout.strip()
    wait_for(lambda: [t for t in experiment(server, eid2)["trials"] if t["state"] == "running"],
             timeout=30, what="a running trial")
    p = rh("experiment", "delete", eid2, env=env, check=False)
    assert p.returncode != 0 and "cancel or kill it" in p.stderr, p.stderr
    rh("experiment", "kill", eid2, env=env)
    wait_for(lambda: experiment(server, eid2)["trials"][0]["state"] == "aborted", timeout=15)
    assert experiment(server, eid2)["state"] == "aborted"


def test_test_mode_on_the_agents(tmp_path, cluster):
    server, env, start = cluster
    start(1)
    ctx = make_context(tmp_path, NATIVE, single(1000))
    p = rh("experiment", "create", str(ctx / "config.yaml"), "--queue", "q", "--test", env=env, timeout=120)
    assert p.stdout.strip().endswith("PASS"), p.stdout + p.stderr
    eid = p.stdout.split()[0]
    e = experiment(server, eid)
    assert e["name"] == "one-trial (test)" and e["state"] == "completed"
    [t] = e["trials"]
    assert t["reached"] == 2 and t["until"] == 2, t
    steps = series(server, t["task_id"], "training", "loss")["steps"]
    assert steps == [1, 2], steps
    # A script that never restores its checkpoint is named as the failing step.
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train.py").write_text(NATIVE.replace("path = ctx.checkpoint.restore()", "path = None"))
    (bad / "config.yaml").write_text(textwrap.dedent(single(1000)))
    p = rh("experiment", "create", str(bad / "config.yaml"), "--queue", "q", "--test", env=env, check=False,
           timeout=120)
    assert p.returncode != 0, p.stdout + p.stderr
    assert 'failed at "restart from the checkpoint"' in p.stderr and "did not restore" in p.stderr, p.stderr


def test_a_higher_priority_experiment_preempts_and_the_other_resumes(tmp_path, cluster):
    server, env, start = cluster
    start(1)
    low = make_context(tmp_path, NATIVE, single(40))
    eid_low = rh("experiment", "create", str(low / "config.yaml"), "--queue", "q", env=env).stdout.strip()
    wait_for(lambda: experiment(server, eid_low)["trials"], timeout=20, what="a trial")
    low_tid = experiment(server, eid_low)["trials"][0]["task_id"]
    wait_for(lambda: len(series(server, low_tid, "training", "loss")["steps"]) >= 7, timeout=60,
             what="the low-priority trial under way")
    high_dir = tmp_path / "high"
    high_dir.mkdir()
    (high_dir / "train.py").write_text(NATIVE)
    (high_dir / "config.yaml").write_text(textwrap.dedent(single(10)).replace("one-trial", "urgent"))
    eid_high = rh("experiment", "create", str(high_dir / "config.yaml"), "--queue", "q",
                  "--config", "resources.priority=10", env=env).stdout.strip()
    # The low one gives way: paused at a checkpoint, the agent runs the urgent trial.
    wait_for(lambda: experiment(server, eid_low)["trials"][0]["state"] in ("paused", "queued"), timeout=30,
             what="the low-priority trial preempted")
    wait_for(lambda: experiment(server, eid_high)["state"] == "completed", timeout=60, what="the urgent one")
    wait_for(lambda: experiment(server, eid_low)["state"] == "completed", timeout=90, what="the low one resumed")
    low_task = server.request("GET", f"/api/v1/tasks/{low_tid}")[1]
    assert low_task["runtime"].get("preempted_by"), low_task["runtime"]
    steps = series(server, low_tid, "training", "loss")["steps"]
    # It went on from its checkpoint: no step repeated.
    assert steps == list(range(1, 41)), steps
    high_t = experiment(server, eid_high)["trials"][0]
    high_task = server.request("GET", f"/api/v1/tasks/{high_t['task_id']}")[1]
    assert high_task["started"] < low_task["completed"]


def state_digest(lr, steps):
    """The digest of the NATIVE script's checkpoint file at `steps`."""
    x = 0.0
    for _ in range(steps):
        x += lr
    return "sha256:" + hashlib.sha256(json.dumps({"steps": steps, "x": x}).encode()).hexdigest()


def blob_stored(server, digest):
    return server.request("GET", f"/api/v1/blobs/{digest}")[0] == 200


def test_checkpoints_collected_slots_per_trial_and_warm_start(tmp_path):
    # Blobs go as soon as nothing refers to them (no grace), to see it here.
    server = Server(str(tmp_path / "server-data"), args=("--worker-timeout", "2", "--blob-grace", "0"))
    env = {"RH_SERVER": server.url}
    agents = []
    try:
        rh("queues", "create", "q", env=env)
        agents.append(Agent(server, "cpu", tmp_path))
        ctx = make_context(tmp_path, NATIVE, """
            name: gc-and-slots
            entrypoint: python3 train.py
            hyperparameters:
              lr: {type: categorical, vals: [0.1, 0.2]}
            searcher: {name: grid, metric: validation_loss, max_length: 20}
            resources: {slots_per_trial: 2}
            checkpoint_storage: {save_trial_latest: 1, save_trial_best: 0, save_experiment_best: 1}
            environment:
              environment_variables: [STEP_S=0.005]
        """)
        p = rh("experiment", "create", str(ctx / "config.yaml"), "--queue", "q", env=env)
        eid = p.stdout.strip()
        # Only a CPU agent (one slot) serves q: the user is told, the trials wait.
        assert "slots_per_trial: 2 slots asked" in p.stderr and "--gpus" in p.stderr, p.stderr
        wait_for(lambda: len(experiment(server, eid)["trials"]) == 2, timeout=20, what="the trials")
        time.sleep(1.5)
        assert all(t["state"] == "queued" for t in experiment(server, eid)["trials"])
        agents.append(Agent(server, "gpu", tmp_path, extra=("--gpus", "0,1,2")))
        wait_for(lambda: experiment(server, eid)["state"] == "completed", timeout=90, what="the end")
        trials = experiment(server, eid)["trials"]
        for t in trials:
            assert t["worker"] == "gpu", t
            assert "devices 0,1" in console(server, t["task_id"]), console(server, t["task_id"])[-10:]
        # Each trial keeps its latest checkpoint (the experiment's best is
        # one of those); the others and their files go.
        def kept(tid):
            arts = server.request("GET", f"/api/v1/tasks/{tid}/artifacts")[1]["artifacts"]
            return sorted(int(a["metadata"]["steps_completed"]) for a in arts if a["type"] == "checkpoint")
        wait_for(lambda: all(kept(t["task_id"]) == [20] for t in trials), timeout=15,
                 what="the checkpoints collected")
        for t in trials:
            lr = t["hparams"]["lr"]
            wait_for(lambda: not blob_stored(server, state_digest(lr, 5)), timeout=10,
                     what="a collected checkpoint's file removed")
            assert not blob_stored(server, state_digest(lr, 15))
            assert blob_stored(server, state_digest(lr, 20))
        best = min(trials, key=lambda t: t["best_metric"])
        assert best["hparams"]["lr"] == 0.2, trials

        # Warm start: every trial of a new experiment starts from that checkpoint.
        (ctx / "warm.yaml").write_text(textwrap.dedent(f"""
            name: warm
            entrypoint: python3 train.py
            hyperparameters: {{lr: 0.1}}
            searcher: {{name: single, metric: validation_loss, max_length: 30,
                        source_trial_id: "{best["task_id"][:12]}"}}
            resources: {{slots_per_trial: 0}}
        """))
        warm = rh("experiment", "create", str(ctx / "warm.yaml"), "--queue", "q", "--follow", env=env,
                  timeout=120).stdout.strip()
        [wt] = experiment(server, warm)["trials"]
        assert wt["state"] == "completed", wt
        assert "restored at step 20" in console(server, wt["task_id"]), console(server, wt["task_id"])[-10:]
        # Zero slots: any agent, and no GPU seen.
        assert not any(l.startswith("devices 0") for l in console(server, wt["task_id"]))
        assert series(server, wt["task_id"], "training", "loss")["steps"] == list(range(21, 31))
        bad = rh("experiment", "create", str(ctx / "warm.yaml"), "--queue", "q", "--config",
                 "searcher.source_trial_id=ffffffffffff", env=env, check=False)
        assert bad.returncode != 0 and "searcher.source_trial_id" in bad.stderr, bad.stderr

        # Deleting the first experiment lets go of what it kept.
        rh("experiment", "delete", eid, env=env)
        wait_for(lambda: not blob_stored(server, state_digest(0.2, 20)), timeout=10,
                 what="the deleted experiment's checkpoint files removed")
    finally:
        for a in agents:
            a.stop()
        assert server.stop() == 0, server.proc.stderr.read()
