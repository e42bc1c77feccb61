"""Remote execution figures (not a test: prints figures).

- enqueue -> process started on an idle agent: a script task is enqueued
  while one agent waits in its long-poll; the figure is the child process's
  fork time (runtime.process_started, recorded by the agent) minus the time
  just before the enqueue request. Median of N.
- agent overhead per task with the workspace source and venv cached:
  (completed - started) - the process's own wall time, for a script task and
  for a task checked out from a git repository with a diff.
- dispatch rate: 200 trivial tasks enqueued at once, 4 agents; tasks/s from
  the first enqueue to the last completion.

Usage: python3 bench/agent_bench.py [BUILD_DIR]   (make bench-agent)
"""
import json
import os
import shutil
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
N = int(os.environ.get("BENCH_N", "30"))
BURST = int(os.environ.get("BENCH_BURST", "200"))


def call(url, method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def script_task(url, name, repo=None):
    body = {"project": "bench", "name": name, "script": {"entry_point": "job.py", "argv": ["python", "job.py"],
                                                          "content": "pass\n"}}
    if repo:
        body["script"] = repo
    return call(url, "POST", "/api/v1/tasks", body)["id"]


def wait_done(url, ids, timeout=600):
    deadline = time.time() + timeout
    pending = set(ids)
    while pending and time.time() < deadline:
        for tid in list(pending):
            if call(url, "GET", f"/api/v1/tasks/{tid}")["status"] in ("completed", "failed", "aborted"):
                pending.discard(tid)
        time.sleep(0.01)
    assert not pending, f"{len(pending)} tasks did not finish"


def agent(url, name, workdir):
    return subprocess.Popen([RH, "agent", "--queue", "bench", "--name", name, "--workdir", workdir,
                             "--python", sys.executable, "--no-tee"],
                            env=dict(os.environ, RH_SERVER=url, RH_SDK_PATH=SDK),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_repo(root):
    repo = os.path.join(root, "repo")
    os.makedirs(repo)
    run = lambda *a: subprocess.run(["git", "-C", repo, *a], check=True, capture_output=True)
    run("init", "-q")
    run("config", "user.email", "b@example.com")
    run("config", "user.name", "b")
    with open(os.path.join(repo, "job.py"), "w") as f:
        f.write("x = 1\n")
    run("add", ".")
    run("commit", "-qm", "c")
    commit = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    diff = "diff --git a/job.py b/job.py\n--- a/job.py\n+++ b/job.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    return {"repository": repo, "commit": commit, "diff": diff, "entry_point": "job.py", "working_dir": ".",
            "argv": ["python", "job.py"]}


def overheads(url, ids):
    out = []
    for tid in ids:
        t = call(url, "GET", f"/api/v1/tasks/{tid}")
        out.append(((t["completed"] - t["started"]) - float(t["runtime"]["wall_time_s"])) * 1000)
    return out


def main():
    work = tempfile.mkdtemp(prefix="rh-bench-agent-")
    res = {"n": N, "burst": BURST}
    procs = []
    try:
        s = RhServer(os.path.join(work, "data"))
        call(s.url, "POST", "/api/v1/queues", {"name": "bench"})
        wd = os.path.join(work, "agent")
        procs.append(agent(s.url, "a0", wd))
        time.sleep(1)
        warm = script_task(s.url, "warm")
        call(s.url, "POST", f"/api/v1/tasks/{warm}/enqueue", {"queue": "bench"})
        wait_done(s.url, [warm], timeout=120)
        # Latency, one at a time on an idle agent.
        lat, ids = [], []
        for i in range(N):
            tid = script_task(s.url, f"lat{i}")
            time.sleep(0.2)  # the agent is back in its long-poll
            t0 = time.time()
            call(s.url, "POST", f"/api/v1/tasks/{tid}/enqueue", {"queue": "bench"})
            wait_done(s.url, [tid])
            t = call(s.url, "GET", f"/api/v1/tasks/{tid}")
            lat.append((float(t["runtime"]["process_started"]) - t0) * 1000)
            ids.append(tid)
        res["enqueue_to_process_ms"] = {"median": round(statistics.median(lat), 1), "min": round(min(lat), 1),
                                        "max": round(max(lat), 1)}
        ov = overheads(s.url, ids)
        res["overhead_script_ms"] = {"median": round(statistics.median(ov), 1), "max": round(max(ov), 1)}
        setup = [float(call(s.url, "GET", f"/api/v1/tasks/{t}")["runtime"]["agent_setup_ms"]) for t in ids]
        res["setup_script_ms"] = round(statistics.median(setup), 1)
        # Git tasks: mirror cached after the first.
        repo = make_repo(work)
        gids = []
        for i in range(N // 2 + 1):
            tid = script_task(s.url, f"git{i}", repo)
            call(s.url, "POST", f"/api/v1/tasks/{tid}/enqueue", {"queue": "bench"})
            wait_done(s.url, [tid])
            gids.append(tid)
        gov = overheads(s.url, gids[1:])
        res["overhead_git_ms"] = {"median": round(statistics.median(gov), 1), "max": round(max(gov), 1)}
        # Dispatch rate with 4 agents.
        for i in range(1, 4):
            procs.append(agent(s.url, f"a{i}", wd))
        time.sleep(1.5)
        burst = [script_task(s.url, f"b{i}") for i in range(BURST)]
        t0 = time.time()
        for tid in burst:
            call(s.url, "POST", f"/api/v1/tasks/{tid}/enqueue", {"queue": "bench"})
        wait_done(s.url, burst)
        took = time.time() - t0
        res["burst_seconds"] = round(took, 2)
        res["tasks_per_second_4_agents"] = round(BURST / took, 1)
        by = {}
        for tid in burst:
            w = call(s.url, "GET", f"/api/v1/tasks/{tid}")["runtime"]["worker"]
            by[w] = by.get(w, 0) + 1
        res["tasks_by_agent"] = by
        res["loadavg"] = open("/proc/loadavg").read().split()[:3]
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        s.stop()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
