"""Pipeline figures (issue 16), rh against DVC (PyPI, tests/.venv-dvc) in the
same run on the same repositories (not a test: prints figures).

1. no-op: a 20-stage pipeline whose deps total 50,000 files of 4 KiB random
   bytes (W1: each stage depends on its own folder of 2,500), already up to
   date: `status` and `repro` wall seconds, median of 5 (each tool's caches
   warm: one untimed run first).
2. parallel: 8 independent stages each `sleep 1`, then one stage needing
   them all: `rh repro -j 8` against `dvc repro` (it runs stages one by one).
3. a changed param in a 4-stage chain with OUT_MIB (default 1024) MiB of outs
   in all: the first stage's param changes, every stage reruns; seconds
   until up to date again (outs written, hashed, cached, lock written).

4. data transfer: TRANSFER_FILES (default 10,000) files of 4 KiB random bytes
   in one folder: `add`, `push` to a local-folder remote, a no-op `push`,
   then (cache and folder deleted) `pull`; each tool in its own repository
   and remote, seconds.

5. queue: `rh repro --queue` on a real server and two real agents (no peer
   does this without a CI system): QUEUE_MIB (default 256) MiB of tracked
   raw data, split -> left, right -> total; the first run and, after a
   change to left's own small dep, the second: seconds, and the bytes the
   submitter pushed and the agents fetched and pushed (task runtime).

Usage: python3 bench/pipeline_bench.py [BUILD_DIR] [PART...]   (make bench-pipeline)
PART: noop, parallel, changed_param, transfer, queue (default: all).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
RH = os.path.join(BUILD, "rh")
DVC = os.path.join(HERE, "..", "tests", ".venv-dvc", "bin", "dvc")
OUT_MIB = int(os.environ.get("OUT_MIB", "1024"))
TRANSFER_FILES = int(os.environ.get("TRANSFER_FILES", "10000"))
QUEUE_MIB = int(os.environ.get("QUEUE_MIB", "256"))
ENV = dict(os.environ, DVC_NO_ANALYTICS="1")


def run(args, cwd):
    t = time.perf_counter()
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=ENV)
    if p.returncode != 0:
        raise SystemExit(f"{args} failed: {p.stdout}{p.stderr}")
    return time.perf_counter() - t


def repo(root, name):
    d = os.path.join(root, name)
    os.makedirs(d)
    subprocess.run(["git", "init", "-q"], cwd=d, check=True)
    subprocess.run([DVC, "init", "-q"], cwd=d, check=True, env=ENV)
    return d


def noop(root):
    d = repo(root, "noop")
    stages = ["stages:"]
    for s in range(20):
        folder = os.path.join(d, "data", f"part{s:02d}")
        os.makedirs(folder)
        for i in range(2500):
            with open(os.path.join(folder, f"f{i:04d}.bin"), "wb") as f:
                f.write(os.urandom(4096))
        stages += [f"  s{s:02d}:", f"    cmd: ls data/part{s:02d} | wc -l > out{s:02d}.txt",
                   f"    deps: [data/part{s:02d}]", f"    outs: [out{s:02d}.txt]"]
    open(os.path.join(d, "dvc.yaml"), "w").write("\n".join(stages) + "\n")
    run([DVC, "repro", "-q"], d)
    out = {}
    for tool, cmd in (("dvc", [DVC]), ("rh", [RH])):
        for verb in ("status", "repro"):
            run(cmd + [verb], d)  # caches warm
            out[f"{tool}_{verb}_s"] = round(statistics.median(run(cmd + [verb], d) for _ in range(5)), 3)
    return out


def parallel(root):
    out = {}
    for tool, cmd in (("dvc", [DVC, "repro"]), ("rh", [RH, "repro", "-j", "8"])):
        d = repo(root, "par-" + tool)
        lines = ["stages:"]
        for i in range(8):
            lines += [f"  s{i}:", f"    cmd: sleep 1 && echo {i} > o{i}", f"    outs: [o{i}]"]
        lines += ["  final:", "    cmd: cat " + " ".join(f"o{i}" for i in range(8)) + " > final",
                  "    deps: [" + ", ".join(f"o{i}" for i in range(8)) + "]", "    outs: [final]"]
        open(os.path.join(d, "dvc.yaml"), "w").write("\n".join(lines) + "\n")
        out[f"{tool}_s"] = round(run(cmd, d), 2)
    return out


def changed_param(root):
    out = {}
    each = OUT_MIB // 4
    for tool, cmd in (("dvc", [DVC, "repro"]), ("rh", [RH, "repro"])):
        d = repo(root, "chain-" + tool)
        open(os.path.join(d, "params.yaml"), "w").write("seed: 1\n")
        lines = ["stages:",
                 "  s0:", f"    cmd: head -c {each}M /dev/urandom > o0 && echo ${{seed}} >> o0",
                 "    params: [seed]", "    outs: [o0]"]
        for i in range(1, 4):
            lines += [f"  s{i}:", f"    cmd: cat o{i - 1} | head -c {each}M > o{i} && echo {i} >> o{i}",
                      f"    deps: [o{i - 1}]", f"    outs: [o{i}]"]
        open(os.path.join(d, "dvc.yaml"), "w").write("\n".join(lines) + "\n")
        run(cmd, d)
        open(os.path.join(d, "params.yaml"), "w").write("seed: 2\n")
        out[f"{tool}_s"] = round(run(cmd, d), 2)
        shutil.rmtree(d)
    out["out_mib"] = OUT_MIB
    return out


def transfer(root):
    out = {"files": TRANSFER_FILES}
    for tool, cmd in (("dvc", [DVC]), ("rh", [RH])):
        d = repo(root, "xfer-" + tool)
        folder = os.path.join(d, "data")
        os.makedirs(folder)
        for i in range(TRANSFER_FILES):
            with open(os.path.join(folder, f"f{i:05d}.bin"), "wb") as f:
                f.write(os.urandom(4096))
        remote = os.path.join(root, "remote-" + tool)
        run(cmd + ["remote", "add", "-d", "r", remote], d)
        out[f"{tool}_add_s"] = round(run(cmd + ["add", "data"], d), 2)
        out[f"{tool}_push_s"] = round(run(cmd + ["push"], d), 2)
        out[f"{tool}_noop_push_s"] = round(run(cmd + ["push"], d), 2)
        shutil.rmtree(os.path.join(d, ".dvc", "cache"))
        shutil.rmtree(folder)
        out[f"{tool}_pull_s"] = round(run(cmd + ["pull"], d), 2)
        assert len(os.listdir(folder)) == TRANSFER_FILES
        shutil.rmtree(d)
    return out


QUEUE_YAML = """\
stages:
  split:
    cmd: mkdir -p part && head -c {half} raw/data.bin > part/a.bin
    deps: [raw]
    outs: [part]
  left:
    cmd: cat left.txt part/a.bin | md5sum > left.out
    deps: [part, left.txt]
    outs: [left.out]
  right:
    cmd: cat right.txt part/a.bin | md5sum > right.out
    deps: [part, right.txt]
    outs: [right.out]
  total:
    cmd: cat left.out right.out > total.out
    deps: [left.out, right.out]
    outs: [total.out]
"""


def queue(root):
    sys.path.insert(0, HERE)
    from run import RhServer  # noqa: E402
    work = os.path.join(root, "queue")
    os.makedirs(work)
    server = RhServer(os.path.join(work, "data"))
    env = dict(ENV, RH_SERVER=server.url)
    agents = []
    try:
        subprocess.run([RH, "queues", "create", "q"], env=env, check=True, capture_output=True)
        for i in (1, 2):
            agents.append(subprocess.Popen([RH, "agent", "--queue", "q", "--name", f"a{i}", "--workdir",
                                            os.path.join(work, f"agent{i}"), "--python", sys.executable,
                                            "--no-tee"], env=env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))
        d = os.path.join(work, "repo")
        os.makedirs(os.path.join(d, "raw"))
        subprocess.run(["git", "init", "-q"], cwd=d, check=True)
        with open(os.path.join(d, "raw", "data.bin"), "wb") as f:
            for _ in range(QUEUE_MIB):
                f.write(os.urandom(1 << 20))
        open(os.path.join(d, "left.txt"), "w").write("l\n")
        open(os.path.join(d, "right.txt"), "w").write("rr\n")
        open(os.path.join(d, "rh.yaml"), "w").write(QUEUE_YAML.format(half=QUEUE_MIB << 19))
        subprocess.run([RH, "add", "raw"], cwd=d, check=True, capture_output=True)
        git = ["git", "-c", "user.email=b@b", "-c", "user.name=b"]
        subprocess.run(git + ["add", "-A"], cwd=d, check=True)
        subprocess.run(git + ["commit", "-qm", "1"], cwd=d, check=True)
        time.sleep(1)  # the agents are polling
        out = {"raw_mib": QUEUE_MIB}

        def once(label):
            t = time.perf_counter()
            p = subprocess.run([RH, "repro", "--queue", "q"], cwd=d, env=env, capture_output=True, text=True)
            took = time.perf_counter() - t
            if p.returncode != 0:
                raise SystemExit(p.stdout + p.stderr)
            pushed = [line for line in p.stdout.splitlines() if line.startswith("Pushed ")]
            req = f"{server.url}/api/v1/tasks?limit=20"
            import urllib.request
            tasks = json.load(urllib.request.urlopen(req))["tasks"]
            run_id = next(t["id"] for t in tasks if t["type"] == "controller")
            steps = json.load(urllib.request.urlopen(f"{server.url}/api/v1/tasks?parent={run_id}"))["tasks"]
            fetched = sum(int(x["runtime"].get("fetched_bytes", 0)) for x in steps)
            sent = sum(int(x["runtime"].get("pushed_bytes", 0)) for x in steps)
            out[label] = {"s": round(took, 2), "stages": sorted(x["name"] for x in steps),
                          "submitter_pushed": pushed[0][len("Pushed "):] if pushed else "",
                          "agents_fetched_bytes": fetched, "agents_pushed_bytes": sent}

        once("first_run")
        open(os.path.join(d, "left.txt"), "w").write("left changed\n")
        subprocess.run(git + ["commit", "-qam", "2"], cwd=d, check=True)
        once("second_run")
        return out
    finally:
        for a in agents:
            a.terminate()
            a.wait()
        server.stop()


PARTS = {"noop": ("noop_20_stages_50000_files", noop),
         "parallel": ("parallel_8_sleep_1", parallel),
         "changed_param": ("changed_param_4_stage_chain", changed_param),
         "transfer": ("transfer_local_remote", transfer),
         "queue": ("repro_queue_two_agents", queue)}


def main():
    root = tempfile.mkdtemp(prefix="rh-pipe-bench-")
    picked = sys.argv[2:] or list(PARTS)
    try:
        for part in picked:
            name, fn = PARTS[part]
            print(json.dumps({name: fn(root)}), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
