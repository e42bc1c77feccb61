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

Usage: python3 bench/pipeline_bench.py [BUILD_DIR] [PART...]   (make bench-pipeline)
PART: noop, parallel, changed_param, transfer (default: all).
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


PARTS = {"noop": ("noop_20_stages_50000_files", noop),
         "parallel": ("parallel_8_sleep_1", parallel),
         "changed_param": ("changed_param_4_stage_chain", changed_param),
         "transfer": ("transfer_local_remote", transfer)}


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
