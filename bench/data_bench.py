"""Datasets against the peers, in one run (not a test: prints figures).

Workloads (incompressible content, made once under the work folder):
  W1 = 50,000 files of 4 KiB in 100 folders;  W2 = 20 files of 100 MiB
  (BENCH_W2_MB scales W2's file size down for a quick run).
Operations, each tool on its own copy of the workload where it writes into it:
  add (cold: no tool state and an empty page cache, where the benchmark runs
  as root; the floors are measured both ways), status with nothing changed, re-add after changing 1% of the
  files, get into a fresh folder, upload to a store in another folder.
Tools: rh (against an rh server whose data folder is "the remote"), rh-sdk
(the Python SDK's Dataset doing the same, each step a process), DVC
(PyPI, bench/.venv-data), git, git-lfs, git-annex, restic (Debian), and the
floors: find, reading every file once, one SHA-256 pass, cp -r.
Usage: bench/data.sh [BUILD_DIR]   (make bench-data)
       BENCH_WORKLOADS=W1 BENCH_TOOLS=rh,dvc bench/data.sh   (a subset)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
RH = os.path.join(BUILD, "rh")
VENV = os.path.join(HERE, ".venv-data", "bin")
SDK = os.environ.get("BENCH_SDK", os.path.join(HERE, "..", "python"))  # another SDK tree to compare
W2_MB = int(os.environ.get("BENCH_W2_MB", "100"))
WORKLOADS = os.environ.get("BENCH_WORKLOADS", "W1,W2").split(",")
ONLY = [t for t in os.environ.get("BENCH_TOOLS", "").split(",") if t]  # e.g. rh,dvc,git
TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "900"))  # seconds a peer's command may take


def sh(cmd, cwd=None, env=None, check=True):
    """Runs a shell command; returns (seconds, peak RSS MiB of the command tree via /usr/bin/time)."""
    t0 = time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "bash", "-c", cmd], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=TIMEOUT)
    took = time.time() - t0
    if check and p.returncode != 0:
        raise RuntimeError(f"{cmd}: {p.stdout[-2000:]} {p.stderr[-2000:]}")
    rss = int(p.stderr.strip().splitlines()[-1]) / 1024 if p.stderr.strip() else 0
    return round(took, 3), round(rss, 1), p.stdout


def drop():
    """Flushes dirty pages so one tool's writes do not bill the next."""
    os.sync()


def cold():
    """Flushes and then empties the page cache, so the next command reads
    from the disk ("add (cold)"). Root only; False where it cannot."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def make_w1(root):
    for d in range(100):
        os.makedirs(f"{root}/d{d:03}", exist_ok=True)
        for i in range(500):
            with open(f"{root}/d{d:03}/f{i:04}.bin", "wb") as f:
                f.write(os.urandom(4096))


def make_w2(root):
    os.makedirs(root, exist_ok=True)
    for i in range(20):
        with open(f"{root}/big{i:02}.bin", "wb") as f:
            for _ in range(W2_MB):
                f.write(os.urandom(1 << 20))


def change_one_percent(root, w):
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if "/." not in d)
    step = max(1, len(files) // max(1, len(files) // 100))
    for p in files[::step][: max(1, len(files) // 100)]:
        with open(p, "r+b") as f:
            f.write(os.urandom(16))


def floors(src, work):
    out = {}
    out["find"] = sh(f"find {src} -type f | wc -l")[0]
    out["read_once"] = sh(f"find {src} -type f -print0 | xargs -0 cat > /dev/null")[0]
    out["sha256_pass"] = sh(f"find {src} -type f -print0 | xargs -0 sha256sum > /dev/null")[0]
    dst = os.path.join(work, "cp-copy")
    out["cp_r"] = sh(f"cp -r {src} {dst}")[0]
    # The same from an empty page cache: what a cold add is measured against.
    if cold():
        out["read_once_cold"] = sh(f"find {src} -type f -print0 | xargs -0 cat > /dev/null")[0]
        cold()
        out["sha256_pass_cold"] = sh(f"find {src} -type f -print0 | xargs -0 sha256sum > /dev/null")[0]
        cold()
        out["cp_r_cold"] = sh(f"cp -r {src} {dst}-cold")[0]
    return out


def start_server(remote):
    """An rh server on `remote`: (process, URL)."""
    server = subprocess.Popen([RH, "--data-dir", remote, "server", "--port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    return server, re.search(r"http://\S+", server.stdout.readline()).group(0)


def rh_steps(steps, src, work, env, name):
    """The dataset steps, for the CLI and the SDK alike, against a server of
    their own: steps maps create/add/finalize/sync/get to a command maker."""
    server, env["RH_SERVER"] = start_server(os.path.join(work, f"{name}-remote"))
    r = {}
    try:
        v = sh(steps["create"](""), env=env)[2].strip()
        t, m, _ = sh(steps["add"](v), env=env)
        r["add"], r["add_rss_mib"] = t, m
        drop()
        r["upload"], _, _ = sh(steps["finalize"](v), env=env)  # with the upload
        v2 = sh(steps["create"](v), env=env)[2].strip()
        r["status"], _, _ = sh(steps["sync"](v2), env=env)  # nothing changed
        change_one_percent(src, name)
        r["readd_1pct"], _, _ = sh(steps["sync"](v2), env=env)
        r["get"], _, _ = sh(steps["get"](v), env=env)
    finally:
        server.terminate()
        server.wait()
    return r


def rh_tool(src, work):
    env = dict(os.environ, RH_DATA_DIR=os.path.join(work, "rh-home"))
    return rh_steps({
        "create": lambda parent: f"{RH} data create --project b --name ds" + (f" --parent {parent}" if parent else ""),
        "add": lambda v: f"{RH} data add {v} {src}",
        "finalize": lambda v: f"{RH} data finalize {v} --upload",
        "sync": lambda v: f"{RH} data sync {v} {src}",
        "get": lambda v: f"{RH} data get {v} --output {work}/rh-get",
    }, src, work, env, "rh")


# One step of the SDK's run, each in a process of its own as the CLI's are.
SDK_STEP = """
import sys
from roundhouse import Dataset
op, args = sys.argv[1], sys.argv[2:]
if op == "create":
    print(Dataset.create(dataset_name="ds", dataset_project="b", parent_datasets=args or None).id)
elif op == "add":
    Dataset.get(dataset_id=args[0]).add_files(args[1])
elif op == "finalize":
    Dataset.get(dataset_id=args[0]).finalize(auto_upload=True)
elif op == "sync":
    Dataset.get(dataset_id=args[0]).sync_folder(args[1])
elif op == "get":
    Dataset.get(dataset_id=args[0]).get_local_copy()
"""


def sdk_tool(src, work):
    """The Python SDK (Dataset, after ClearML Data) doing what rh_tool does
    with the CLI."""
    env = dict(os.environ, RH_DATA_DIR=os.path.join(work, "sdk-home"), PYTHONPATH=SDK)
    step = os.path.join(work, "sdk_step.py")
    with open(step, "w") as f:
        f.write(SDK_STEP)
    py = f"{sys.executable} {step}"
    return rh_steps({
        "create": lambda parent: f"{py} create {parent}",
        "add": lambda v: f"{py} add {v} {src}",
        "finalize": lambda v: f"{py} finalize {v}",
        "sync": lambda v: f"{py} sync {v} {src}",
        "get": lambda v: f"{py} get {v}",
    }, src, work, env, "sdk")


def dvc_tool(src, work):
    repo = os.path.join(work, "dvc-repo")
    os.makedirs(repo)
    shutil.move(src, os.path.join(repo, "data"))
    dvc = os.path.join(VENV, "dvc")
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    r = {}
    sh(f"{dvc} init --no-scm -q && {dvc} config cache.type hardlink,copy && "
       f"{dvc} remote add -d r {work}/dvc-remote", cwd=repo, env=env)
    t, m, _ = sh(f"{dvc} add -q data", cwd=repo, env=env)
    r["add"], r["add_rss_mib"] = t, m
    drop()
    r["status"], _, _ = sh(f"{dvc} status -q", cwd=repo, env=env, check=False)
    r["upload"], _, _ = sh(f"{dvc} push -q", cwd=repo, env=env)
    change_one_percent(os.path.join(repo, "data"), "dvc")
    r["readd_1pct"], _, _ = sh(f"{dvc} add -q data", cwd=repo, env=env)
    shutil.rmtree(os.path.join(repo, "data"))
    r["get"], _, _ = sh(f"{dvc} checkout -q", cwd=repo, env=env)
    return r


def git_tool(src, work):
    repo = os.path.join(work, "git-repo")
    os.makedirs(repo)
    shutil.move(src, os.path.join(repo, "data"))
    g = "git -c user.email=b@example.com -c user.name=b"
    r = {}
    sh("git init -q", cwd=repo)
    t, m, _ = sh(f"{g} add -A && {g} commit -qm v1", cwd=repo)
    r["add"], r["add_rss_mib"] = t, m
    drop()
    r["status"], _, _ = sh("git status --porcelain > /dev/null", cwd=repo)
    sh(f"git init -q --bare {work}/git-remote.git")
    r["upload"], _, _ = sh(f"git push -q {work}/git-remote.git HEAD:refs/heads/main", cwd=repo)
    change_one_percent(os.path.join(repo, "data"), "git")
    r["readd_1pct"], _, _ = sh(f"{g} add -A", cwd=repo)
    r["get"], _, _ = sh(f"git worktree add -q {work}/git-get HEAD", cwd=repo)
    return r


def lfs_tool(src, work):
    repo = os.path.join(work, "lfs-repo")
    os.makedirs(repo)
    shutil.move(src, os.path.join(repo, "data"))
    g = "git -c user.email=b@example.com -c user.name=b"
    r = {}
    sh("git init -q && git lfs install --local > /dev/null && git lfs track 'data/**' > /dev/null", cwd=repo)
    t, m, _ = sh(f"{g} add -A && {g} commit -qm v1", cwd=repo)
    r["add"], r["add_rss_mib"] = t, m
    drop()
    r["status"], _, _ = sh("git status --porcelain > /dev/null", cwd=repo)
    change_one_percent(os.path.join(repo, "data"), "lfs")
    r["readd_1pct"], _, _ = sh(f"{g} add -A", cwd=repo)
    return r


def annex_tool(src, work):
    repo = os.path.join(work, "annex-repo")
    os.makedirs(repo)
    shutil.move(src, os.path.join(repo, "data"))
    g = "git -c user.email=b@example.com -c user.name=b"
    r = {}
    sh(f"git init -q && {g} annex init -q bench", cwd=repo)
    t, m, _ = sh(f"{g} annex add -q data && {g} commit -qm v1", cwd=repo)
    r["add"], r["add_rss_mib"] = t, m
    drop()
    r["status"], _, _ = sh(f"{g} annex status > /dev/null", cwd=repo, check=False)
    os.makedirs(f"{work}/annex-remote")
    sh(f"{g} annex initremote -q r type=directory directory={work}/annex-remote encryption=none", cwd=repo)
    r["upload"], _, _ = sh(f"{g} annex copy -q --to r data", cwd=repo)
    return r


def restic_tool(src, work):
    env = dict(os.environ, RESTIC_PASSWORD="bench", RESTIC_REPOSITORY=f"{work}/restic-repo")
    r = {}
    sh("restic init -q", env=env)
    t, m, _ = sh(f"restic backup -q {src}", env=env)
    r["add"], r["add_rss_mib"] = t, m
    drop()
    change_one_percent(src, "restic")
    r["readd_1pct"], _, _ = sh(f"restic backup -q {src}", env=env)
    r["get"], _, _ = sh(f"restic restore -q latest --target {work}/restic-get", env=env)
    return r


TOOLS = [("rh", rh_tool), ("rh-sdk", sdk_tool), ("dvc", dvc_tool), ("git", git_tool), ("git-lfs", lfs_tool),
         ("git-annex", annex_tool), ("restic", restic_tool)]


def main():
    base = tempfile.mkdtemp(prefix="rh-bench-data-", dir=os.environ.get("BENCH_DIR"))
    res = {"w2_file_mib": W2_MB}
    try:
        for wname in WORKLOADS:
            golden = os.path.join(base, f"{wname}-golden")
            (make_w1 if wname == "W1" else make_w2)(golden)
            drop()
            floor_dir = os.path.join(base, f"{wname}-floors")
            os.makedirs(floor_dir)
            res[wname] = {"floors": floors(golden, floor_dir)}
            print(wname, "floors", res[wname]["floors"], flush=True)
            for name, fn in TOOLS:
                if ONLY and name not in ONLY:
                    continue
                work = os.path.join(base, f"{wname}-{name}")
                os.makedirs(work)
                src = os.path.join(work, "data")
                sh(f"cp -r {golden} {src}")
                res["cold_add"] = cold()  # each tool's add reads its copy from the disk
                try:
                    res[wname][name] = fn(src, work)
                except Exception as e:  # a peer that fails is reported, not fatal
                    res[wname][name] = {"error": str(e)[:300]}
                print(wname, name, res[wname][name], flush=True)
                if wname != "W1":
                    shutil.rmtree(work, ignore_errors=True)  # W2's copies are large
            # W1's copies are removed together at the end: ext4 avoids reusing
            # inodes freed in the last minutes, so deleting 50,000 files just
            # before the next tool's run made every file it created slower
            # (cp -r of W1 went from 1.8 s to 27 s right after such deletions).
            for entry in os.listdir(base):
                if entry.startswith(wname + "-"):
                    shutil.rmtree(os.path.join(base, entry), ignore_errors=True)
        res["loadavg"] = open("/proc/loadavg").read().split()[:3]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
