"""The warm interpreter (python/roundhouse/_zygote.py) and its relay
(`rh trial-relay`), driven as the agent drives them: a trial forked from it
behaves as a fresh `python script.py` would (argv, __file__, cwd,
environment, stdout and stderr apart, exit codes, tracebacks, its own
randomness, signals sent to its process group), and without a warm
interpreter the relay runs the command itself."""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import RH, wait_for

SDK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python")

SCRIPT = """
import json, os, random, sys, time
before = "numpy" in sys.modules
import numpy
print(json.dumps({"argv": sys.argv, "file": __file__, "cwd": os.getcwd(), "name": __name__,
                  "env": os.environ.get("TRIAL_VALUE"), "pid": os.getpid(),
                  "random": random.random(), "np": float(numpy.random.rand()),
                  "numpy_loaded_before": before}), flush=True)
print("to stderr", file=sys.stderr, flush=True)
what = sys.argv[1] if len(sys.argv) > 1 else ""
if what == "fail":
    raise ValueError("boom")
if what == "sleep":
    time.sleep(60)
if what.isdigit():
    sys.exit(int(what))
"""


@pytest.fixture
def zygote(tmp_path):
    ctx = tmp_path / "ctx dir é"
    ctx.mkdir()
    (ctx / "train.py").write_text(SCRIPT)
    (ctx / "__init__.py").write_text("")
    sock = str(tmp_path / "z.sock")
    env = dict(os.environ, PYTHONPATH=SDK)
    proc = subprocess.Popen([sys.executable, "-m", "roundhouse._zygote", sock, "train.py", str(ctx)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    ready = proc.stdout.readline()
    assert "ready" in ready and "numpy" in ready, ready
    yield ctx, sock, proc
    proc.kill()
    proc.wait()


def relay(sock, ctx, *args, env=None, **kw):
    e = dict(os.environ, TRIAL_VALUE="v1")
    e.update(env or {})
    return subprocess.run([RH, "trial-relay", sock, "--", "python3", "train.py", *args], cwd=ctx, env=e,
                          capture_output=True, text=True, timeout=30, **kw)


def test_a_forked_trial_behaves_as_a_fresh_interpreter(zygote):
    import json
    ctx, sock, proc = zygote
    runs = []
    for i in range(2):
        p = relay(sock, ctx, "7", env={"TRIAL_VALUE": f"v{i}"})
        assert p.returncode == 7, p.stderr
        assert p.stderr == "to stderr\n"
        runs.append(json.loads(p.stdout))
    for i, r in enumerate(runs):
        assert r["argv"] == ["train.py", "7"]
        assert r["file"] == str(ctx / "train.py") and r["cwd"] == str(ctx) and r["name"] == "__main__"
        assert r["env"] == f"v{i}"
        assert r["numpy_loaded_before"], "numpy was imported by the warm interpreter"
        assert r["pid"] != proc.pid
    # Each child draws its own random numbers, as separate processes do.
    assert runs[0]["random"] != runs[1]["random"] and runs[0]["np"] != runs[1]["np"]
    ok = relay(sock, ctx)
    assert ok.returncode == 0
    failed = relay(sock, ctx, "fail")
    assert failed.returncode == 1
    # The user's frames only, as a fresh interpreter prints them.
    assert "ValueError: boom" in failed.stderr and "_zygote" not in failed.stderr, failed.stderr
    missing = subprocess.run([RH, "trial-relay", sock, "--", "python3", "nope.py"], cwd=ctx,
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2 and "can't open file" in missing.stderr


def test_a_signal_to_the_process_group_reaches_the_trial(zygote):
    ctx, sock, proc = zygote
    p = subprocess.Popen([RH, "trial-relay", sock, "--", "python3", "train.py", "sleep"], cwd=ctx,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, process_group=0)
    line = p.stdout.readline()
    assert '"pid"' in line
    import json
    child = json.loads(line)["pid"]
    assert os.getpgid(child) == p.pid, "the trial joined the relay's process group"
    os.killpg(p.pid, signal.SIGTERM)
    assert p.wait(timeout=10) == -signal.SIGTERM
    wait_for(lambda: not os.path.exists(f"/proc/{child}") or
             open(f"/proc/{child}/stat").read().split()[2] == "Z", timeout=5, what="the trial gone")


def test_a_relay_in_another_session_runs_the_command_itself(zygote):
    # The trial could not join its group there, so no signal would reach it.
    ctx, sock, proc = zygote
    p = subprocess.run([RH, "trial-relay", sock, "--", sys.executable, "train.py", "4"], cwd=ctx,
                       capture_output=True, text=True, timeout=30, start_new_session=True)
    assert p.returncode == 4 and '"numpy_loaded_before": false' in p.stdout, p.stdout + p.stderr


def test_without_a_warm_interpreter_the_relay_runs_the_command_itself(tmp_path):
    (tmp_path / "train.py").write_text(SCRIPT)
    p = subprocess.run([RH, "trial-relay", str(tmp_path / "absent.sock"), "--", sys.executable, "train.py", "3"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert p.returncode == 3 and '"numpy_loaded_before": false' in p.stdout, p.stdout + p.stderr


def test_the_relay_stops_the_trial_when_the_warm_interpreter_dies(zygote):
    ctx, sock, proc = zygote
    p = subprocess.Popen([RH, "trial-relay", sock, "--", "python3", "train.py", "sleep"], cwd=ctx,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert '"pid"' in p.stdout.readline()
    time.sleep(0.2)
    proc.kill()
    assert p.wait(timeout=10) == 1
    assert "went away" in p.stderr.read()
