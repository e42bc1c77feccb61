"""`rh run` and the `rh tasks` / `rh artifacts` commands, on the embedded
store and against a server (RH_SERVER), driving the real binary."""
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from conftest import FIXTURES, RH, Server, rh, wait_for

PY = sys.executable


def tasks_json(data_dir, *args, env=None):
    return json.loads(rh("tasks", "list", "--json", *args, data_dir=data_dir, env=env).stdout)["tasks"]


def show_json(data_dir, tid, env=None):
    return json.loads(rh("tasks", "show", tid, "--json", data_dir=data_dir, env=env).stdout)


def write(path, text):
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))


def test_run_records_console_metrics_and_exit(tmp_path):
    d = tmp_path / "data"
    script = tmp_path / "train.py"
    write(script, """
        import json, os, sys
        m = open(os.environ["RH_METRICS_FILE"], "a")
        fd = int(os.environ["RH_METRICS_FD"])
        for epoch in range(3):
            print(f"epoch {epoch}")
            print(f"note {epoch}", file=sys.stderr)
            m.write(json.dumps({"title": "loss", "series": "train", "iteration": epoch, "value": 1.0 / (epoch + 1)}) + "\\n")
            m.flush()
        os.write(fd, b'{"title": "acc", "value": 0.5}\\n{"title": "acc", "value": "NaN"}\\n')
        print("done 10%\\rdone 100%")
        sys.stdout.buffer.write(b"bytes \\xff\\xfe end\\n")
        print("this line is not JSON", file=m)
    """)
    p = rh("run", "--project", "vision", "--name", "mlp", "--tag", "x", "--tag", "y", "--",
           PY, str(script), "--lr", "0.1", data_dir=d)
    assert "epoch 2" in p.stdout and "note 2" in p.stderr, "the user still sees both streams"
    assert "metrics line" in p.stderr and "ignored" in p.stderr
    [t] = tasks_json(d)
    assert (t["name"], t["project"], t["status"], t["tags"]) == ("mlp", "vision", "completed", ["x", "y"])
    full = show_json(d, t["id"][:8])
    assert full["script"]["argv"] == [PY, str(script), "--lr", "0.1"]
    assert "RH_METRICS_FILE" in full["script"]["content"], "outside git the script itself is kept"
    assert full["runtime"]["exit_code"] == "0"
    assert int(full["runtime"]["peak_rss_bytes"]) > 1_000_000
    assert float(full["runtime"]["wall_time_s"]) > 0
    assert full["environment"]["interpreter"].startswith("Python 3")
    assert full["environment"]["host"]
    by = {(s["title"], s["series"]): s for s in full["scalars"]}
    assert by[("loss", "train")]["count"] == 3 and by[("loss", "train")]["last_value"] == pytest.approx(1 / 3)
    assert by[("acc", "acc")]["count"] == 2 and by[("acc", "acc")]["last_value"] == "NaN"
    logs = rh("logs" if False else "tasks", "logs", t["id"], data_dir=d)
    out_lines = logs.stdout.splitlines()
    assert out_lines[:3] == ["epoch 0", "epoch 1", "epoch 2"]
    assert "done 100%" in out_lines, "a progress bar keeps its final state"
    assert "bytes \ufffd\ufffd end" in out_lines, "non-UTF-8 output is kept, not dropped"
    assert "note 0" in logs.stderr
    csv = rh("tasks", "scalars", t["id"], "--csv", data_dir=d).stdout.splitlines()
    assert csv[0] == "title,series,iteration,value,time"
    assert [r.split(",")[:4] for r in csv[1:3]] == [["acc", "acc", "0", "0.5"], ["acc", "acc", "1", "NaN"]]
    js = json.loads(rh("tasks", "scalars", t["id"], "--json", data_dir=d).stdout)
    loss = [s for s in js["scalars"] if s["title"] == "loss"][0]
    assert loss["iterations"] == [0, 1, 2] and loss["values"][1] == 0.5


def test_failed_and_missing_programs(tmp_path):
    d = tmp_path / "data"
    p = rh("run", "--", PY, "-c", "import sys; print('bye'); sys.exit(3)", data_dir=d, check=False)
    assert p.returncode == 3
    [t] = tasks_json(d)
    assert t["status"] == "failed" and t["status_message"] == "exit code 3"
    p = rh("run", "--", "/nonexistent/program", data_dir=d, check=False)
    assert p.returncode == 127 and "cannot run" in p.stderr
    assert tasks_json(d, "--status", "failed")[0]["status_message"].startswith("cannot run")


def test_killed_by_signal_is_failed(tmp_path):
    d = tmp_path / "data"
    p = rh("run", "--", "sh", "-c", "kill -9 $$", data_dir=d, check=False)
    assert p.returncode == 128 + 9
    [t] = tasks_json(d)
    assert t["status"] == "failed" and "signal 9" in t["status_message"]


def test_interrupt_marks_aborted(tmp_path):
    d = tmp_path / "data"
    env = dict(os.environ)
    env.pop("RH_SERVER", None)
    proc = subprocess.Popen([RH, "--data-dir", str(d), "run", "--", PY, "-c",
                             "import time\nprint('started', flush=True)\ntime.sleep(60)"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "started"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) != 0
    [t] = tasks_json(d)
    assert t["status"] == "aborted"
    assert "started" in rh("tasks", "logs", t["id"], data_dir=d).stdout


def test_git_commit_and_uncommitted_diff(tmp_path):
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    g = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True)
    g("init", "-q", "-b", "main")
    g("config", "user.email", "t@example.invalid")
    g("config", "user.name", "t")
    write(repo / "src" / "train.py", "print('v1')\n")
    g("add", ".")
    g("commit", "-q", "-m", "first")
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    write(repo / "src" / "train.py", "print('v2')\n")
    write(repo / "src" / "extra.py", "X = 1\n")
    d = tmp_path / "data"
    rh("run", "--", PY, "train.py", data_dir=d, cwd=repo / "src")
    [t] = tasks_json(d)
    full = show_json(d, t["id"])
    s = full["script"]
    assert s["commit"] == commit and s["branch"] == "main"
    assert s["repository"] == str(repo)
    assert s["working_dir"] == "src" and s["entry_point"] == "train.py"
    assert "-print('v1')" in s["diff"] and "+print('v2')" in s["diff"]
    assert "extra.py" in s["diff"] and "+X = 1" in s["diff"], "untracked files are part of the diff"
    # The recorded diff rebuilds the working tree from the commit.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", commit], check=True)
    subprocess.run(["git", "-C", str(clone), "apply"], input=s["diff"].encode(), check=True)
    assert (clone / "src" / "train.py").read_text() == "print('v2')\n"
    assert (clone / "src" / "extra.py").read_text() == "X = 1\n"


TB_CASES = {
    "tf2_scalar_0.5step.tfevents": ("my_metric", "my_metric", 100, 99, 49.5),
    "pytorch_strict_foo.tfevents": ("strict", "foo", 100, 495, 1.212090253829956),
    "tensorboardx_loss_accuracy_5steps.tfevents": ("accuracy", "accuracy", 5, 4, 0.8799999952316284),
    "tf1_lingvo_bleu_dev.tfevents": ("bleu", "dev", 360, 185200, 0.2852171063423157),
}


@pytest.mark.skipif(not os.path.isdir(os.path.join(FIXTURES, "tensorboard")), reason="fixtures absent")
def test_tensorboard_files_written_while_running(tmp_path):
    """The program writes each event file in two pieces, cut inside a record;
    rh must wait for the rest, then record every scalar exactly."""
    d = tmp_path / "data"
    logdir = tmp_path / "tb"
    logdir.mkdir()
    writer = tmp_path / "writer.py"
    write(writer, f"""
        import os, shutil, time, sys
        src, dst = {os.path.join(FIXTURES, "tensorboard")!r}, {str(logdir)!r}
        names = {list(TB_CASES)!r}
        for i, n in enumerate(names):
            data = open(os.path.join(src, n), "rb").read()
            sub = os.path.join(dst, "run%d" % i)
            os.makedirs(sub)
            path = os.path.join(sub, "events.out.tfevents.%d.host" % i)
            with open(path, "wb") as f:
                f.write(data[:len(data) - 7]); f.flush()
                time.sleep(1.2)   # rh polls twice a second: it sees the cut record
                f.write(data[len(data) - 7:])
        print("wrote", len(names))
    """)
    rh("run", "--tensorboard-dir", str(logdir), "--", PY, str(writer), data_dir=d)
    [t] = tasks_json(d)
    by = {(s["title"], s["series"]): s for s in show_json(d, t["id"])["scalars"]}
    for name, (title, series, n, last_step, last_value) in TB_CASES.items():
        s = by[(title, series)]
        assert (s["count"], s["last_iteration"], s["last_value"]) == (n, last_step, last_value), name
    assert by[("runtime/sentence", "sec")]["min_value"] == 7.240866184234619
    assert "tensorboard" not in rh("tasks", "logs", t["id"], data_dir=d).stderr, "no corruption reported"


def make_runs(d, n=3):
    for i in range(n):
        rh("run", "--project", "cmp", "--name", f"r{i}", "--", PY, "-c",
           f"import json,os\nf=open(os.environ['RH_METRICS_FILE'],'a')\n"
           f"[f.write(json.dumps({{'title':'acc','value':{i}/10+k/100}})+'\\n') for k in range(5)]",
           data_dir=d)
    return [t["id"] for t in tasks_json(d)]


def test_list_filter_sort_tag_delete(tmp_path):
    d = tmp_path / "data"
    ids = make_runs(d)
    assert len(ids) == 3
    listing = rh("tasks", "list", data_dir=d).stdout.splitlines()
    assert listing[0].split()[:4] == ["ID", "STATUS", "PROJECT", "NAME"]
    assert len(listing) == 4
    by_metric = tasks_json(d, "--sort", "metric:acc/acc")
    assert [t["name"] for t in by_metric] == ["r2", "r1", "r0"]
    rh("tasks", "tag", ids[0][:10], "+best", "+v1", data_dir=d)
    rh("tasks", "tag", ids[0][:10], "-v1", data_dir=d)
    assert [t["id"] for t in tasks_json(d, "--tag", "best")] == [ids[0]]
    assert show_json(d, ids[0])["tags"] == ["best"]
    cmp = json.loads(rh("tasks", "compare", ids[0], ids[1], "--json", data_dir=d).stdout)
    assert cmp["scalars"]["acc/acc"][0]["last"] != cmp["scalars"]["acc/acc"][1]["last"]
    text = rh("tasks", "compare", ids[0], ids[1], data_dir=d).stdout
    assert "* " in text and "acc/acc" in text
    rh("tasks", "delete", ids[1], data_dir=d)
    assert len(tasks_json(d)) == 2
    p = rh("tasks", "show", ids[1], data_dir=d, check=False)
    assert p.returncode != 0 and "no task ID starts with" in p.stderr


def test_prefix_errors(tmp_path):
    d = tmp_path / "data"
    ids = make_runs(d, 2)
    common = os.path.commonprefix(ids)
    p = rh("tasks", "show", common[:max(4, len(common))], data_dir=d, check=False)
    if len(common) >= 4:
        assert p.returncode != 0 and "ambiguous" in p.stderr
    p = rh("tasks", "show", "ffffffff", data_dir=d, check=False)
    assert p.returncode == 3 and "no task ID starts with ffffffff" in p.stderr
    p = rh("tasks", "show", "xyz!", data_dir=d, check=False)
    assert p.returncode == 2 and "not a task ID" in p.stderr


def test_logs_follow_until_task_ends(tmp_path):
    d = tmp_path / "data"
    env = dict(os.environ)
    env.pop("RH_SERVER", None)
    proc = subprocess.Popen([RH, "--data-dir", str(d), "run", "--", PY, "-c",
                             "import time\nfor i in range(4):\n  print('tick', i, flush=True)\n  time.sleep(0.4)"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    tid = wait_for(lambda: (tasks_json(d) or [{}])[0].get("id"), what="task to appear")
    follow = rh("tasks", "logs", "--follow", tid, data_dir=d, timeout=30)
    assert follow.stdout.splitlines() == [f"tick {i}" for i in range(4)]
    assert proc.wait(timeout=20) == 0


def test_against_server_with_artifacts(tmp_path):
    s = Server(str(tmp_path / "srv"), env={"RH_API_TOKEN": "tok"})
    try:
        env = {"RH_SERVER": s.url, "RH_API_TOKEN": "tok"}
        local = tmp_path / "unused-local-data"
        rh("run", "--project", "remote", "--", PY, "-c", "print('over http')", env=env, data_dir=local)
        [t] = tasks_json(local, env=env)
        assert t["project"] == "remote" and t["status"] == "completed"
        assert not os.path.exists(local / "rh.db"), "with RH_SERVER nothing is stored locally"
        assert rh("tasks", "logs", t["id"], env=env).stdout.strip() == "over http"
        blob = tmp_path / "model.bin"
        blob.write_bytes(os.urandom(3 * 1024 * 1024 + 5))
        rh("artifacts", "put", t["id"][:12], str(blob), "--name", "models/model.bin", env=env)
        out = tmp_path / "back.bin"
        rh("artifacts", "get", t["id"], "models/model.bin", "-o", str(out), env=env)
        assert out.read_bytes() == blob.read_bytes()
        # An empty artifact (a download with no body) comes back empty.
        empty = tmp_path / "__init__.py"
        empty.write_bytes(b"")
        rh("artifacts", "put", t["id"], str(empty), "--name", "pkg/__init__.py", env=env)
        out_empty = tmp_path / "back-empty.py"
        out_empty.write_bytes(b"stale")
        rh("artifacts", "get", t["id"], "pkg/__init__.py", "-o", str(out_empty), env=env)
        assert out_empty.read_bytes() == b""
        p = rh("artifacts", "get", t["id"], "nope", env=env, check=False)
        assert p.returncode == 3 and "no artifact" in p.stderr
        p = rh("tasks", "list", env={"RH_SERVER": s.url, "RH_API_TOKEN": "bad"}, check=False)
        assert p.returncode != 0 and "token" in p.stderr
    finally:
        assert s.stop() == 0


def test_artifact_put_get_local(tmp_path):
    d = tmp_path / "data"
    [tid] = make_runs(d, 1)
    f = tmp_path / "report.txt"
    f.write_text("accuracy 0.9\n")
    rh("artifacts", "put", tid, str(f), data_dir=d)
    out = tmp_path / "out.txt"
    rh("artifacts", "get", tid, "report.txt", "-o", str(out), data_dir=d)
    assert out.read_text() == "accuracy 0.9\n"
    # A damaged stored object is detected, and nothing is written.
    blobs = d / "blobs"
    [obj] = [os.path.join(r, n) for r, _, ns in os.walk(blobs) for n in ns
             if os.path.relpath(r, blobs) != "tmp"]
    os.chmod(obj, 0o644)
    with open(obj, "w") as fh:
        fh.write("tampered\n")
    out2 = tmp_path / "out2.txt"
    p = rh("artifacts", "get", tid, "report.txt", "-o", str(out2), data_dir=d, check=False)
    assert p.returncode != 0 and "does not match its digest" in p.stderr
    assert not out2.exists()


def test_bad_config_is_reported(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "config.yaml").write_text("port: not-a-number\n")
    p = rh("tasks", "list", data_dir=d, check=False)
    assert p.returncode == 2 and "config.yaml: port must be a port number" in p.stderr
    (d / "config.yaml").write_text("colour: blue\n")
    p = rh("tasks", "list", data_dir=d, check=False)
    assert "unknown key \"colour\"" in p.stderr


def test_global_options_are_accepted_after_the_subcommand(tmp_path):
    # The README writes `rh server --data-dir DIR`; the option works in either place.
    d = tmp_path / "after"
    proc = subprocess.Popen([RH, "server", "--data-dir", str(d), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "http://" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
        assert (d / "rh.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    e = tmp_path / "run"
    subprocess.run([RH, "run", "--data-dir", str(e), "--name", "after", "--", PY, "-c", "pass"], check=True,
                   capture_output=True)
    listing = subprocess.run([RH, "tasks", "list", "--data-dir", str(e), "--json"], check=True,
                             capture_output=True, text=True).stdout
    assert [t["name"] for t in json.loads(listing)["tasks"]] == ["after"]
    # After `--` it belongs to the recorded program, not to rh.
    out = subprocess.run([RH, "--data-dir", str(e), "run", "--", PY, "-c", "import sys; print(sys.argv[1:])",
                          "--data-dir", "x"], check=True, capture_output=True, text=True).stdout
    assert "['--data-dir', 'x']" in out
