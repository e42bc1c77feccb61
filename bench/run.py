"""Benchmarks of the tracking core against an MLflow tracking server, in the
same run on the same machine (see docs/benchmarks.md). Usage:
    bench/run.sh [BUILD_DIR]      (creates bench/.venv with mlflow, then runs this)
Prints a markdown table and writes bench/out/results.json."""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
RH = os.path.join(BUILD, "rh")
BENCH = os.path.join(BUILD, "bench", "rh_bench")
VENV = os.path.join(HERE, ".venv", "bin")
REPS = int(os.environ.get("BENCH_REPS", "5"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rss_tree_kib(pid):
    """Resident memory of a process and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                m = re.search(r"VmRSS:\s+(\d+)", f.read())
                total += int(m.group(1)) if m else 0
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return total


def wait_http(url, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.time()
        except Exception:
            time.sleep(0.002)
    raise RuntimeError("no answer from " + url)


class RhServer:
    def __init__(self, data):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        t0 = time.time()
        self.proc = subprocess.Popen([RH, "--data-dir", data, "server", "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.start_s = wait_http(self.url + "/api/v1/health") - t0
        self.idle_rss_kib = rss_tree_kib(self.proc.pid)

    def task(self, name):
        req = urllib.request.Request(self.url + "/api/v1/tasks", method="POST",
                                     data=json.dumps({"project": "bench", "name": name}).encode())
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())["id"]

    def stop(self):
        self.peak_rss_kib = rss_tree_kib(self.proc.pid)
        self.proc.terminate()
        self.proc.wait(timeout=30)


class MlflowServer:
    def __init__(self, data):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        t0 = time.time()
        self.proc = subprocess.Popen(
            [os.path.join(VENV, "mlflow"), "server", "--backend-store-uri", f"sqlite:///{data}/mlflow.db",
             "--default-artifact-root", f"{data}/artifacts", "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.start_s = wait_http(self.url + "/health") - t0
        time.sleep(1.0)  # let every worker finish importing before measuring memory
        self.idle_rss_kib = rss_tree_kib(self.proc.pid)

    def stop(self):
        self.peak_rss_kib = rss_tree_kib(self.proc.pid)
        os.killpg(self.proc.pid, 15)
        self.proc.wait(timeout=30)


def run_json(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def main():
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="rh-bench-")
    res = {"date": time.strftime("%Y-%m-%d %H:%M"), "nproc": os.cpu_count(),
           "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
           "loadavg_before": open("/proc/loadavg").read().split()[:3]}
    mlflow_version = subprocess.run([os.path.join(VENV, "python"), "-c", "import mlflow;print(mlflow.__version__)"],
                                    capture_output=True, text=True).stdout.strip()
    res["mlflow_version"] = mlflow_version

    # Start-up and idle memory, alternating.
    rh_start, ml_start, rh_rss, ml_rss = [], [], [], []
    for i in range(REPS):
        s = RhServer(os.path.join(work, f"rh-start-{i}"))
        rh_start.append(s.start_s)
        rh_rss.append(s.idle_rss_kib / 1024)
        s.stop()
        m = MlflowServer(os.path.join(work, f"ml-start-{i}"))
        ml_start.append(m.start_s)
        ml_rss.append(m.idle_rss_kib / 1024)
        m.stop()
        print(f"start {i}: rh {rh_start[-1]*1000:.1f} ms {rh_rss[-1]:.1f} MiB | mlflow {ml_start[-1]:.2f} s {ml_rss[-1]:.0f} MiB", flush=True)
    res["start_s"] = {"rh": stats(rh_start), "mlflow": stats(ml_start)}
    res["idle_rss_mib"] = {"rh": stats(rh_rss), "mlflow": stats(ml_rss)}

    rh = RhServer(os.path.join(work, "rh"))
    ml = MlflowServer(os.path.join(work, "ml"))
    secs = os.environ.get("BENCH_INGEST_SECONDS", "3")
    ingest = {"rh_binary_10k": [], "rh_json_10k": [], "rh_json_1k": [], "mlflow_1k": []}
    for i in range(REPS):
        t = rh.task(f"ingest{i}")
        ingest["rh_binary_10k"].append(run_json([BENCH, "ingest", rh.url, t, "4", "10000", secs, "binary"])["points_per_s"])
        ingest["rh_json_10k"].append(run_json([BENCH, "ingest", rh.url, t, "4", "10000", secs, "json"])["points_per_s"])
        ingest["rh_json_1k"].append(run_json([BENCH, "ingest", rh.url, t, "4", "1000", secs, "json"])["points_per_s"])
        ingest["mlflow_1k"].append(run_json([os.path.join(VENV, "python"), os.path.join(HERE, "mlflow_load.py"),
                                             "ingest", ml.url, "4", secs])["points_per_s"])
        print("ingest", i, {k: round(v[-1]) for k, v in ingest.items()}, flush=True)
    res["ingest_points_per_s"] = {k: stats(v) for k, v in ingest.items()}

    r = run_json([BENCH, "series", rh.url, rh.task("series1m"), "1000000", "50"])
    res["rh_series_1m"] = r
    r100 = run_json([BENCH, "series", rh.url, rh.task("series100k"), "100000", "25"])
    res["rh_series_100k"] = r100
    res["mlflow_series_100k"] = run_json([os.path.join(VENV, "python"), os.path.join(HERE, "mlflow_load.py"),
                                          "series", ml.url, "100000", "3"])
    print("series", res["rh_series_1m"], res["rh_series_100k"], res["mlflow_series_100k"], flush=True)

    ml_list = run_json([os.path.join(VENV, "python"), os.path.join(HERE, "mlflow_load.py"), "list", ml.url, "1000", "5"])
    res["mlflow_list_1000"] = ml_list
    rh.stop()
    ml.stop()
    res["rh_peak_rss_mib_after_load"] = rh.peak_rss_kib / 1024
    res["mlflow_peak_rss_mib_after_load"] = ml.peak_rss_kib / 1024

    # Task list over 100,000 tasks, sorted by a metric.
    big = os.path.join(work, "rh-100k")
    os.makedirs(big)
    subprocess.run([BENCH, "populate", big, "100000"], check=True)
    s = RhServer(big)
    res["rh_list_100k_by_metric"] = run_json([BENCH, "list", s.url, "metric:acc/val", "50", "50"])
    res["rh_list_100k_by_created"] = run_json([BENCH, "list", s.url, "created", "50", "50"])
    res["rh_list_1000_of_100k_by_metric"] = run_json([BENCH, "list", s.url, "metric:acc/val", "1000", "10"])
    s.stop()
    res["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
    shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(HERE, "out", "results.json"), "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
