"""Wall clock to T1 on the digits MLP task (shared/bench/hpo-task.md) with two
workers on this machine (not a test: prints figures).

- rh: a real `rh server` and 2 `rh agent` processes running
  examples/hpo/train.py as trials of an async_halving search (divisor 3,
  rungs of 1, 3, 9, 27 epochs, 2 trials at a time; promotion-based: a trial
  paused at a rung resumes from its checkpoint). A one-trial experiment on
  the same context first builds each agent's venv and starts its warm
  interpreter; not timed.
- Optuna: random sampling + SuccessiveHalvingPruner(1, 3), `n_jobs=2` in
  one process (two threads, torch.set_num_threads(1) as the task says).

Time to T1 = from the start of the search until a trial trained to all 27
epochs first has a validation error <= 8/360 (for rh: the time of that
report). Per seed; a search that gets nowhere in LIMIT_S seconds counts as
infinite. Seeds from BENCH_SEEDS (default 0,1,2).

Usage: bench/hpo.sh wallclock [BUILD_DIR]   (make bench-hpo-wallclock)
"""
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hpo_bench  # noqa: E402  (the task: data, Model, T1)
from run import RH, RhServer  # noqa: E402

SEEDS = [int(s) for s in os.environ.get("BENCH_SEEDS", "0,1,2").split(",")]
LIMIT_S = float(os.environ.get("LIMIT_S", "400"))
EXAMPLE = os.path.join(HERE, "..", "examples", "hpo")

CONFIG = """
name: wallclock
entrypoint: python3 train.py
hyperparameters:
  lr: {type: log, minval: -4, maxval: 0}
  log2_hidden: {type: double, minval: 4, maxval: 9}
  wd: {type: log, minval: -6, maxval: -2}
  bs: {type: categorical, vals: [16, 32, 64, 128]}
  dropout: {type: double, minval: 0, maxval: 0.5}
searcher:
  name: %s
  metric: val_error
  divisor: 3
  num_rungs: 4
  max_trials: %d
  max_concurrent_trials: 2
  max_length: {epochs: %d}
reproducibility: {experiment_seed: %d}
"""


def call(url, method, path, body=None):
    req = urllib.request.Request(url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def create(env, ctx, config_path):
    return subprocess.run([RH, "experiment", "create", config_path, ctx, "--queue", "q"], env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def rh_time_to_t1(url, env, ctx, root, seed):
    path = os.path.join(root, f"seed{seed}.yaml")
    open(path, "w").write(CONFIG % ("async_halving", 600, 27, seed + 1))
    t0 = time.time()
    eid = create(env, ctx, path)
    found = None
    while found is None and time.time() - t0 < LIMIT_S:
        time.sleep(0.2)
        exp = call(url, "GET", f"/api/v1/experiments/{eid}")
        for t in exp["trials"]:
            if t.get("reached") == 27 and t.get("last_metric", 1) <= hpo_bench.T1 + 1e-9:
                s = call(url, "GET", f"/api/v1/tasks/{t['task_id']}/scalars/series?title=searcher&series=val_error")
                found = s["times"][s["iterations"].index(27)] - t0
                break
        if exp["state"] != "running":
            break
    call(url, "POST", f"/api/v1/experiments/{eid}/kill", {})
    trials = len(call(url, "GET", f"/api/v1/experiments/{eid}")["trials"])
    return found, trials


def optuna_time_to_t1(seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    lock = threading.Lock()
    state = {"epochs": 0, "t1": None, "trials": 0}
    t0 = time.time()

    def objective(trial):
        h = dict(lr=trial.suggest_float("lr", 1e-4, 1, log=True),
                 hidden=trial.suggest_int("hidden", 16, 512, log=True),
                 wd=trial.suggest_float("wd", 1e-6, 1e-2, log=True),
                 bs=trial.suggest_categorical("bs", [16, 32, 64, 128]),
                 dropout=trial.suggest_float("dropout", 0, 0.5))
        with lock:
            state["trials"] += 1
        m = hpo_bench.Model(**h)
        err = 1.0
        for epoch in range(1, hpo_bench.MAX_EPOCHS + 1):
            if state["t1"] is not None or state["epochs"] >= hpo_bench.BUDGET:
                raise optuna.TrialPruned()
            m.train_epoch()
            with lock:
                state["epochs"] += 1
            err = m.val_error()
            trial.report(err, epoch)
            if epoch < hpo_bench.MAX_EPOCHS and trial.should_prune():
                raise optuna.TrialPruned()
        with lock:
            if err <= hpo_bench.T1 + 1e-9 and state["t1"] is None:
                state["t1"] = time.time() - t0
        return err

    def stop(study, _trial):
        if state["t1"] is not None or state["epochs"] >= hpo_bench.BUDGET or time.time() - t0 > LIMIT_S:
            study.stop()

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed),
                                pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3))
    study.optimize(objective, n_jobs=2, callbacks=[stop])
    return state["t1"], state["trials"]


def median(xs):
    return statistics.median([x if x is not None else math.inf for x in xs])


def main():
    root = tempfile.mkdtemp(prefix="rh-hpo-wall-")
    ctx = os.path.join(root, "ctx")
    shutil.copytree(EXAMPLE, ctx, ignore=shutil.ignore_patterns("*.yaml", "run.sh", "README.md", "__pycache__"))
    server = RhServer(os.path.join(root, "data"))
    url = server.url
    env = dict(os.environ, RH_SERVER=url, RH_SDK_PATH=os.path.abspath(os.path.join(HERE, "..", "python")))
    subprocess.run([RH, "queues", "create", "q"], env=env, check=True, capture_output=True)
    agents = [subprocess.Popen([RH, "agent", "--queue", "q", "--name", f"w{i}", "--workdir", os.path.join(root, "w"),
                                "--python", sys.executable, "--no-tee"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(2)]
    rows = []
    try:
        # Venvs built and warm interpreters started on both agents: 2 one-epoch trials.
        warm = os.path.join(root, "warm.yaml")
        open(warm, "w").write(CONFIG % ("random", 2, 1, 1))
        eid = create(env, ctx, warm)
        deadline = time.time() + 600
        while call(url, "GET", f"/api/v1/experiments/{eid}")["state"] == "running" and time.time() < deadline:
            time.sleep(0.5)
        for seed in SEEDS:
            ours, ours_trials = rh_time_to_t1(url, env, ctx, root, seed)
            theirs, their_trials = optuna_time_to_t1(seed)
            rows.append({"seed": seed, "rh_s": ours and round(ours, 1), "rh_trials": ours_trials,
                         "optuna_s": theirs and round(theirs, 1), "optuna_trials": their_trials})
            print(json.dumps(rows[-1]), flush=True)
        print(json.dumps({"rh_median_s": median([r["rh_s"] for r in rows]),
                          "optuna_n_jobs_2_median_s": median([r["optuna_s"] for r in rows]),
                          "limit_s": LIMIT_S}))
    finally:
        for a in agents:
            a.terminate()
        for a in agents:
            a.wait(timeout=30)
        server.stop()


if __name__ == "__main__":
    main()
