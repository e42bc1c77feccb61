"""Experiment figures (not a test: prints figures).

A real rh server and 4 rh agents on this machine; an experiment of 4
random-search trials that train until paused (a 10 ms step; a checkpoint
when asked to stop).

- trial start latency: the trial task's enqueue (runtime.enqueued) to the
  time of its first training report, per trial; the trial is a fresh Python
  process forked from the agent's warm interpreter (WARM=0: a fresh
  interpreter each time; with IMPORT=torch the script imports torch first).
  Twice: the first experiment builds the agents' venv (and starts the warm
  interpreters), the second finds them.
- pause: from the pause request until every trial is paused with its
  checkpoint stored and every agent idle.
- activate: from the activate request until every trial reported a training
  step again (restore included: the process start and reading the checkpoint).

Usage: python3 bench/experiment_bench.py [BUILD_DIR]   (make bench-experiment)
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import RH, RhServer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.abspath(os.path.join(HERE, "..", "python"))
IMPORT = os.environ.get("IMPORT", "")
# WARM=0: every trial in a fresh interpreter (rh agent --no-warm), to compare.
WARM = os.environ.get("WARM", "1") != "0"

SCRIPT = """
import json, os, time
%s
import roundhouse
ctx = roundhouse.trial()
steps = 0
path = ctx.checkpoint.restore()
if path:
    steps = json.load(open(os.path.join(path, "s.json")))["steps"]
while steps < ctx.target():
    steps += 1
    time.sleep(0.01)
    ctx.report(steps, {"loss": 1.0 / steps})
    if ctx.should_stop():
        ctx.report(steps, {"val": 1.0 / steps}, validation=True)
        os.makedirs("ck", exist_ok=True)
        json.dump({"steps": steps}, open("ck/s.json", "w"))
        ctx.checkpoint.save("ck", {"steps_completed": steps})
        break
""" % (f"import {IMPORT}" if IMPORT else "")

CONFIG = """
name: bench
entrypoint: python3 train.py
hyperparameters:
  lr: {type: double, minval: 0.01, maxval: 0.5}
searcher:
  name: random
  metric: val
  max_length: 100000000
  max_trials: 4
  max_concurrent_trials: 4
"""


def call(url, method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def series(url, tid):
    try:
        return call(url, "GET", f"/api/v1/tasks/{tid}/scalars/series?title=training&series=loss")
    except urllib.error.HTTPError:
        return {"iterations": [], "times": []}


def wait(cond, timeout=120, step=0.005):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise SystemExit("timed out")


def main():
    root = tempfile.mkdtemp(prefix="rh-exp-bench-")
    server = RhServer(os.path.join(root, "data"))
    url = server.url
    env = dict(os.environ, RH_SERVER=url, RH_SDK_PATH=SDK)
    subprocess.run([RH, "queues", "create", "q"], env=env, check=True, capture_output=True)
    agents = [subprocess.Popen([RH, "agent", "--queue", "q", "--name", f"b{i}", "--workdir", os.path.join(root, "w"),
                                "--python", sys.executable, "--no-tee"] + ([] if WARM else ["--no-warm"]), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(4)]
    wait(lambda: len(call(url, "GET", "/api/v1/workers")["workers"]) == 4)
    ctx = os.path.join(root, "ctx")
    os.makedirs(ctx)
    open(os.path.join(ctx, "train.py"), "w").write(SCRIPT)
    open(os.path.join(ctx, "exp.yaml"), "w").write(CONFIG)
    def start():
        eid = subprocess.run([RH, "experiment", "create", os.path.join(ctx, "exp.yaml"), "--queue", "q"], env=env,
                             check=True, capture_output=True, text=True).stdout.strip()
        trials = wait(lambda: (lambda t: t if len(t) == 4 else None)(call(url, "GET", f"/api/v1/experiments/{eid}")["trials"]))
        ids = [t["task_id"] for t in trials]
        wait(lambda: all(series(url, i)["iterations"] for i in ids))
        starts = []
        for i in ids:
            t = call(url, "GET", f"/api/v1/tasks/{i}")
            starts.append((series(url, i)["times"][0] - float(t["runtime"]["enqueued"])) * 1000)
        return eid, ids, starts
    try:
        # The first experiment builds the agents' venv (once per interpreter); the second finds it.
        eid, ids, cold = start()
        call(url, "POST", f"/api/v1/experiments/{eid}/kill", {})
        wait(lambda: all(not w.get("task_id") for w in call(url, "GET", "/api/v1/workers")["workers"]))
        eid, ids, starts = start()
        time.sleep(1)
        t0 = time.time()
        call(url, "POST", f"/api/v1/experiments/{eid}/pause", {})

        def all_paused():
            ts = call(url, "GET", f"/api/v1/experiments/{eid}")["trials"]
            ws = call(url, "GET", "/api/v1/workers")["workers"]
            return all(t["state"] == "paused" and t["latest_checkpoint"] for t in ts) and \
                all(not w.get("task_id") for w in ws)
        wait(all_paused)
        pause_s = time.time() - t0
        last = {i: series(url, i)["iterations"][-1] for i in ids}
        t0 = time.time()
        call(url, "POST", f"/api/v1/experiments/{eid}/activate", {})
        wait(lambda: all(series(url, i)["iterations"][-1] > last[i] for i in ids))
        activate_s = time.time() - t0
        call(url, "POST", f"/api/v1/experiments/{eid}/kill", {})
        print(json.dumps({
            "import": IMPORT or "(none)",
            "warm_interpreter": WARM,
            "trial_start_ms_cold_venv_median": round(statistics.median(cold), 1),
            "trial_start_ms_median": round(statistics.median(starts), 1),
            "trial_start_ms_max": round(max(starts), 1),
            "pause_4_trials_s": round(pause_s, 3),
            "activate_4_trials_to_training_s": round(activate_s, 3),
        }, indent=1))
    finally:
        for a in agents:
            a.terminate()
        for a in agents:
            a.wait(timeout=30)
        server.stop()


if __name__ == "__main__":
    main()
