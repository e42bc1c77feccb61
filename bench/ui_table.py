"""What the web UI asks of the server, at scale (not a test: prints figures).

- The task table over 100,000 tasks: the first page as the UI requests it
  (50 rows, a parameter column and a metric column), sorted by created and by
  the metric, with value filters, and a page deep in the list.
- Many open live pages: N parked long-polls on /api/v1/changes; the server's
  RSS before and after, and the latency of other requests meanwhile.

Usage: python3 bench/ui_table.py [BUILD_DIR]   (make bench-ui)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH, RhServer, rss_tree_kib  # noqa: E402

TASKS = int(os.environ.get("BENCH_TASKS", "100000"))
POLLS = int(os.environ.get("BENCH_POLLS", "500"))


def query(url, qs, reps=30):
    out = subprocess.run([BENCH, "query", url, qs, str(reps)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    work = tempfile.mkdtemp(prefix="rh-bench-ui-")
    res = {"tasks": TASKS}
    try:
        data = os.path.join(work, "data")
        os.makedirs(data)
        subprocess.run([BENCH, "populate", data, str(TASKS)], check=True)
        s = RhServer(data)
        cols = "project=bench&limit=50&param=Args/lr&metric=acc/val"
        cases = {
            "first_page_by_created": cols + "&order_by=created",
            "first_page_by_metric": cols + "&order_by=metric:acc/val&order=desc",
            "filter_param_ge": cols + "&order_by=created&filter=param:Args/lr%3E%3D0.05",
            "filter_metric_gt": cols + "&order_by=created&filter=metric:acc/val%3E0.5",
            "filter_both_rare": cols + "&order_by=created&filter=param:Args/lr=0.099&filter=metric:acc/val%3E0.99",
            "page_at_50000_by_created": cols + "&order_by=created&cursor=o:50000",
            "status_and_name": cols + "&order_by=created&status=created&name=task%209999",
        }
        for k, qs in cases.items():
            res[k] = query(s.url, qs)
            print(k, res[k], flush=True)
        t0 = time.time()
        with urllib.request.urlopen(s.url + "/api/v1/keys?project=bench") as r:
            json.loads(r.read())
        res["keys_ms"] = round((time.time() - t0) * 1000, 2)

        # Many open live pages: parked long-polls.
        tid = json.loads(urllib.request.urlopen(s.url + "/api/v1/tasks?limit=1").read())["tasks"][0]["id"]
        v = json.loads(urllib.request.urlopen(f"{s.url}/api/v1/changes?task={tid}").read())["version"]
        rss_before = rss_tree_kib(s.proc.pid)
        woke = []

        def poll():
            with urllib.request.urlopen(f"{s.url}/api/v1/changes?task={tid}&since={v}&timeout=60", timeout=90) as r:
                woke.append(json.loads(r.read())["version"])

        threads = [threading.Thread(target=poll, daemon=True) for _ in range(POLLS)]
        for t in threads:
            t.start()
        time.sleep(2)
        res["parked_polls"] = POLLS
        res["rss_mib_before_polls"] = round(rss_before / 1024, 1)
        res["rss_mib_with_polls"] = round(rss_tree_kib(s.proc.pid) / 1024, 1)
        res["first_page_with_polls_parked"] = query(s.url, cases["first_page_by_created"])
        # One write wakes them all; time until every poll has its answer.
        t0 = time.time()
        req = urllib.request.Request(f"{s.url}/api/v1/tasks/{tid}/console", method="POST",
                                     data=json.dumps({"lines": [{"text": "wake"}]}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req).read()
        for t in threads:
            t.join(timeout=30)
        res["all_polls_answered_ms"] = round((time.time() - t0) * 1000, 1)
        res["polls_answered"] = len(woke)
        s.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
