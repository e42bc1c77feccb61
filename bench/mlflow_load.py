"""The MLflow side of bench/run.sh, through MLflow's REST API (the same
requests its client library sends), with the same workloads as rh_bench.

  mlflow_load.py ingest URL CLIENTS SECONDS      log-batch, 1000 metrics per request (MLflow's limit)
  mlflow_load.py series URL POINTS REPS          log POINTS points, time get-history
  mlflow_load.py list URL RUNS REPS              create RUNS runs with a metric, time search ordered by it
Prints one JSON object.
"""
import json
import multiprocessing
import statistics
import sys
import time
import urllib.request


def call(url, path, body=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method or ("POST" if data else "GET"))
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.read()


def new_run(url, exp_id, name):
    r = json.loads(call(url, "/api/2.0/mlflow/runs/create",
                        {"experiment_id": exp_id, "run_name": name, "start_time": int(time.time() * 1000)}))
    return r["run"]["info"]["run_id"]


def experiment(url, name):
    try:
        return json.loads(call(url, "/api/2.0/mlflow/experiments/create", {"name": name}))["experiment_id"]
    except Exception:
        r = json.loads(call(url, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=" + name))
        return r["experiment"]["experiment_id"]


def ingest_worker(args):
    url, run_id, key, seconds = args
    t0 = time.time()
    step = 0
    points = 0
    while time.time() - t0 < seconds:
        ts = int(time.time() * 1000)
        metrics = [{"key": key, "value": (step + i) * 0.001, "timestamp": ts, "step": step + i} for i in range(1000)]
        call(url, "/api/2.0/mlflow/runs/log-batch", {"run_id": run_id, "metrics": metrics})
        step += 1000
        points += 1000
    return points, time.time() - t0


def ingest(url, clients, seconds):
    exp = experiment(url, "ingest")
    run_id = new_run(url, exp, "ingest")
    with multiprocessing.Pool(clients) as pool:
        res = pool.map(ingest_worker, [(url, run_id, f"loss_{c}", seconds) for c in range(clients)])
    points = sum(p for p, _ in res)
    el = max(e for _, e in res)
    return {"points_per_s": points / el, "points": points, "seconds": el}


def series(url, n, reps):
    exp = experiment(url, "series")
    run_id = new_run(url, exp, "series")
    ts = int(time.time() * 1000)
    for base in range(0, n, 1000):
        metrics = [{"key": "big", "value": float(i), "timestamp": ts, "step": i} for i in range(base, min(n, base + 1000))]
        call(url, "/api/2.0/mlflow/runs/log-batch", {"run_id": run_id, "metrics": metrics})
    times, size = [], 0
    for _ in range(reps):
        t0 = time.time()
        body = call(url, f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=big&max_results={n}")
        times.append(time.time() - t0)
        size = len(body)
    return {"full_ms": statistics.median(times) * 1000, "full_bytes": size,
            "points": len(json.loads(body)["metrics"])}


def listing(url, runs, reps):
    exp = experiment(url, "list")
    for i in range(runs):
        run_id = new_run(url, exp, f"r{i}")
        call(url, "/api/2.0/mlflow/runs/log-metric",
             {"run_id": run_id, "key": "acc", "value": (i * 0.618) % 1.0, "timestamp": 0, "step": 0})
    times, count = [], 0
    for _ in range(reps):
        t0 = time.time()
        body = json.loads(call(url, "/api/2.0/mlflow/runs/search",
                               {"experiment_ids": [exp], "max_results": 1000, "order_by": ["metrics.acc DESC"]}))
        times.append(time.time() - t0)
        count = len(body.get("runs", []))
    return {"list_ms": statistics.median(times) * 1000, "runs": count}


if __name__ == "__main__":
    cmd, url = sys.argv[1], sys.argv[2]
    if cmd == "ingest":
        out = ingest(url, int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "series":
        out = series(url, int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "list":
        out = listing(url, int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
    print(json.dumps(out))
