"""Finding the rh server: RH_SERVER, the config file's `server`, the
discovery file a running `rh server` writes in the data folder, or — with
`rh` installed — a server started in the background on the embedded store."""
import json
import os
import shutil
import subprocess
import time
import urllib.request

from ._http import HttpClient, RoundhouseError


def data_dir():
    return os.environ.get("RH_DATA_DIR") or os.path.join(os.path.expanduser("~"), ".roundhouse")


def read_config():
    """The flat `key: value` config file (the same keys as rh's)."""
    path = os.environ.get("RH_CONFIG") or os.path.join(data_dir(), "config.yaml")
    cfg = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if ":" in line:
                    k, v = line.split(":", 1)
                    cfg[k.strip()] = v.strip().strip("'\"")
    except OSError:
        pass
    return cfg


def _healthy(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/api/v1/health", timeout=timeout) as r:
            return r.status == 200
    except Exception:
        return False


def _discovered():
    try:
        with open(os.path.join(data_dir(), "server.json")) as f:
            info = json.load(f)
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info["url"] if _healthy(info["url"]) else None


def _start_server(timeout=15.0):
    rh = os.environ.get("RH_BIN") or shutil.which("rh")
    if not rh:
        return None
    d = data_dir()
    os.makedirs(d, exist_ok=True)
    log = open(os.path.join(d, "server.log"), "ab")
    subprocess.Popen([rh, "--data-dir", d, "server", "--port", "0"], stdin=subprocess.DEVNULL,
                     stdout=log, stderr=log, start_new_session=True)
    deadline = time.time() + timeout
    while time.time() < deadline:
        url = _discovered()
        if url:
            return url
        time.sleep(0.05)
    return None


def server_url(explicit=None, start=True):
    cfg = read_config()
    url = explicit or os.environ.get("RH_SERVER") or cfg.get("server")
    if url:
        return url
    return _discovered() or (_start_server() if start else None)


def connect(server=None, token=None, start=True):
    """An HttpClient for the server, or None when there is none to be had."""
    url = server_url(server, start)
    if not url:
        return None
    token = token or os.environ.get("RH_API_TOKEN") or read_config().get("api_token")
    return HttpClient(url, token)


__all__ = ["connect", "server_url", "data_dir", "RoundhouseError"]
