"""Fixtures for end-to-end tests: the real `rh` binary, a real `rh server`
on a free port with its own data folder, and a small HTTP helper."""
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

RH = os.environ.get("RH_BIN") or os.path.join(os.path.dirname(__file__), "..", "build", "rh")
# Other tools' files for tests (shared/fixtures): inside the checkout or beside it.
FIXTURES = next((p for p in (os.path.join(os.path.dirname(__file__), "..", "shared", "fixtures"),
                             os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fixtures"))
                 if os.path.isdir(p)), os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fixtures"))


class Server:
    def __init__(self, data_dir, env=None, args=()):
        self.data_dir = data_dir
        self.env = dict(os.environ, **(env or {}))
        self.env.pop("RH_SERVER", None)
        self.proc = subprocess.Popen(
            [RH, "--data-dir", data_dir, "server", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env)
        line = self.proc.stdout.readline()
        m = re.search(r"http://[0-9.]+:\d+", line)
        assert m, f"server did not start: {line!r} {self.proc.stderr.read() if self.proc.poll() is not None else ''}"
        self.url = m.group(0)

    def request(self, method, path, body=None, headers=None, raw=None, token=None):
        """Returns (status, parsed JSON or bytes, headers)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if body is not None or raw is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                payload, status, hdrs = r.read(), r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            payload, status, hdrs = e.read(), e.code, dict(e.headers)
        ctype = hdrs.get("Content-Type", "")
        if ctype.startswith("application/json") and payload:
            return status, json.loads(payload), hdrs
        return status, payload, hdrs

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        return self.proc.returncode


@pytest.fixture
def server(tmp_path):
    s = Server(str(tmp_path / "server-data"))
    yield s
    assert s.stop() == 0, s.proc.stderr.read()


def rh(*args, env=None, data_dir=None, cwd=None, check=True, input=None, timeout=120):
    """Runs the rh binary; returns CompletedProcess (text)."""
    e = dict(os.environ)
    e.pop("RH_SERVER", None)
    e.update(env or {})
    cmd = [RH]
    if data_dir:
        cmd += ["--data-dir", str(data_dir)]
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, errors="replace", env=e,
                       cwd=cwd, input=input, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"rh {' '.join(args)} exited {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


def wait_for(cond, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def make_task(server, **fields):
    body = {"project": "p", "name": "t"}
    body.update(fields)
    status, task, _ = server.request("POST", "/api/v1/tasks", body)
    assert status == 201, task
    return task
