"""Peak RSS of rh's dataset operations as the file count grows (not a test:
prints figures). Trees of N files of 16 bytes, 500 to a folder; each
operation embedded (SQLite + local folder), measured by /usr/bin/time's
maximum resident set size. Flat memory means these stay level as N grows.
Usage: python3 bench/data_memory.py [BUILD_DIR]   (BENCH_DIR: where the trees go;
       BENCH_COUNTS=50000,200000,500000)
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
RH = os.path.join(BUILD, "rh")
COUNTS = [int(n) for n in os.environ.get("BENCH_COUNTS", "50000,200000,500000").split(",")]


def measured(cmd, env):
    p = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd}: {p.stderr[-2000:]}")
    secs, kib = p.stderr.strip().splitlines()[-1].split()
    return float(secs), int(kib) / 1024, p.stdout.strip()


def make_tree(root, n):
    for k in range(n):
        d = os.path.join(root, f"d{k // 500:04}")
        if k % 500 == 0:
            os.makedirs(d)
        with open(os.path.join(d, f"f{k % 500:04}.bin"), "wb") as f:
            f.write(os.urandom(16))


def main():
    work = tempfile.mkdtemp(prefix="rh-mem-", dir=os.environ.get("BENCH_DIR"))
    print("| files | add | no-op sync | finalize | get |")
    print("|---|---|---|---|---|")
    try:
        for n in COUNTS:
            src, home = os.path.join(work, f"src{n}"), os.path.join(work, f"home{n}")
            make_tree(src, n)
            env = dict(os.environ, RH_DATA_DIR=home)
            env.pop("RH_SERVER", None)
            v = measured([RH, "data", "create", "--project", "b", "--name", "mem"], env)[2]
            row = {"add": measured([RH, "data", "add", v, src], env)}
            v2 = None
            row["finalize"] = measured([RH, "data", "finalize", v], env)
            v2 = measured([RH, "data", "create", "--project", "b", "--name", "mem", "--parent", v], env)[2]
            row["sync"] = measured([RH, "data", "sync", v2, src], env)
            row["get"] = measured([RH, "data", "get", v, "--output", os.path.join(work, f"get{n}")], env)
            cell = lambda k: f"{row[k][1]:.0f} MiB ({row[k][0]:.2f} s)"
            print(f"| {n:,} | {cell('add')} | {cell('sync')} | {cell('finalize')} | {cell('get')} |", flush=True)
            for p in (src, home, os.path.join(work, f"get{n}")):
                shutil.rmtree(p, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
