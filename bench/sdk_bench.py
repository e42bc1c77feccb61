"""SDK overhead: what logging N scalars in a tight loop adds to the training
process, for the roundhouse SDK and for MLflow's client (sync, async and
batch modes) against servers started here. Run by `make bench-sdk`
(bench/run.sh sdk). Prints JSON; figures go to docs/benchmarks.md."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as harness  # noqa: E402  (server start/stop helpers)

N = int(os.environ.get("SDK_POINTS", "1000000"))
REPS = int(os.environ.get("BENCH_REPS", "5"))
# MLflow takes about a millisecond a point even when batching, so it logs a
# sample of this size per mode and its time is scaled to N points.
ML_ASYNC, ML_BATCH, ML_SYNC = 1000, 10000, 100

RH_CHILD = r"""
import os, sys, time, json
sys.path.insert(0, os.environ["RH_PY"])
import roundhouse
n = int(sys.argv[1])
task = roundhouse.init(project="bench", name="sdk", capture_console=False)
log = task.get_logger()
t0 = time.perf_counter()
for i in range(n):
    pass
empty = time.perf_counter() - t0
t0 = time.perf_counter()
for i in range(n):
    log.report_scalar("loss", "train", i * 0.001, i)
loop = time.perf_counter() - t0
t0 = time.perf_counter()
task.close()
close = time.perf_counter() - t0
print(json.dumps({"loop_s": loop, "empty_loop_s": empty, "close_s": close, "task": task.id}))
"""

MLFLOW_CHILD = r"""
import os, sys, time, json
import mlflow
from mlflow.entities import Metric
mode, n = sys.argv[1], int(sys.argv[2])
mlflow.set_tracking_uri(os.environ["MLFLOW_URL"])
mlflow.set_experiment("sdk")
with mlflow.start_run() as run:
    t0 = time.perf_counter()
    if mode == "sync":
        for i in range(n):
            mlflow.log_metric("loss", i * 0.001, step=i)
    elif mode == "async":
        for i in range(n):
            mlflow.log_metric("loss", i * 0.001, step=i, synchronous=False)
    else:  # batch: the client's own batching API, 1000 metrics a call
        client = mlflow.MlflowClient()
        ts = int(time.time() * 1000)
        for b in range(0, n, 1000):
            client.log_batch(run.info.run_id, metrics=[Metric("loss", i * 0.001, ts, i) for i in range(b, min(n, b + 1000))])
    loop = time.perf_counter() - t0
t_end = time.perf_counter() - t0 - loop
print(json.dumps({"loop_s": loop, "close_s": t_end}))
"""


def child(code, args, env):
    out = subprocess.run([os.path.join(HERE, ".venv", "bin", "python"), "-c", code, *map(str, args)],
                         capture_output=True, text=True, env=dict(os.environ, **env), check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    work = tempfile.mkdtemp(prefix="rh-sdk-bench-")
    rh = harness.RhServer(os.path.join(work, "rh"))
    ml = harness.MlflowServer(os.path.join(work, "ml"))
    py = os.path.join(HERE, "..", "python")
    res = {"date": time.strftime("%Y-%m-%d %H:%M"), "points": N, "reps": REPS,
           "loadavg_before": open("/proc/loadavg").read().split()[:3]}
    rows = {"rh": [], "rh_close": [], "ml_async": [], "ml_async_close": [], "ml_batch": [], "ml_sync": []}
    for _ in range(REPS):
        r = child(RH_CHILD, [N], {"RH_SERVER": rh.url, "RH_PY": py, "RH_DATA_DIR": os.path.join(work, "home")})
        rows["rh"].append(r["loop_s"] - r["empty_loop_s"])
        rows["rh_close"].append(r["close_s"])
        m = child(MLFLOW_CHILD, ["async", ML_ASYNC], {"MLFLOW_URL": ml.url})
        rows["ml_async"].append(m["loop_s"] * N / ML_ASYNC)
        rows["ml_async_close"].append(m["close_s"] * N / ML_ASYNC)
        m = child(MLFLOW_CHILD, ["batch", ML_BATCH], {"MLFLOW_URL": ml.url})
        rows["ml_batch"].append(m["loop_s"] * N / ML_BATCH)
        m = child(MLFLOW_CHILD, ["sync", ML_SYNC], {"MLFLOW_URL": ml.url})
        rows["ml_sync"].append(m["loop_s"] * N / ML_SYNC)
        print({k: round(v[-1], 3) for k, v in rows.items()}, flush=True)
    res["seconds_for_points"] = {k: {"median": statistics.median(v), "min": min(v), "max": max(v)} for k, v in rows.items()}
    rh.stop()
    ml.stop()
    res["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
