"""The SDK where the code is not a plain script: a notebook run by a real
Jupyter kernel (nbclient + ipykernel from PyPI), and torch.save registering
output models (Debian's python3-torch, run with /usr/bin/python3)."""
import hashlib
import json
import os
import subprocess
import sys



PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "python"))
DEBIAN_PYTHON = "/usr/bin/python3"

RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def notebook(cells):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "cells": [{"cell_type": kind, "metadata": {}, "source": src, **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                      for kind, src in cells]}


CELLS = [
    ("markdown", "# Digits, interactively\nA notebook recorded by the SDK."),
    ("code", "import roundhouse\nimport pytest\ntask = roundhouse.init(project='nb', name='notebook')"),
    ("code", "%time x = 41 + 1\nprint('hello from a notebook', x)"),
    ("code", "task.get_logger().report_scalar('m', 's', 1.0, 0)\ntask.close()"),
]


def run_notebook(tmp_path, server, session_name):
    path = tmp_path / "analysis.ipynb"
    path.write_text(json.dumps(notebook(CELLS)))
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, RH_SERVER=server.url, RH_DATA_DIR=str(tmp_path / "home"))
    env.pop("JPY_SESSION_NAME", None)
    if session_name:
        env["JPY_SESSION_NAME"] = str(path)  # what Jupyter Server sets for the kernels it starts
    p = subprocess.run([sys.executable, "-c", RUNNER, str(path), str(tmp_path)], env=env, capture_output=True,
                       text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    tasks = server.request("GET", "/api/v1/tasks?project=nb")[1]["tasks"]
    assert len(tasks) == 1
    return server.request("GET", f"/api/v1/tasks/{tasks[0]['id']}")[1]


def test_notebook_is_recorded_as_a_script(tmp_path, server):
    t = run_notebook(tmp_path, server, session_name=True)
    assert t["status"] == "completed"
    s = t["script"]
    assert s["entry_point"] == "analysis.ipynb" and s["argv"] == []
    content = s["content"]
    assert content.startswith("# %% [markdown]\n# # Digits, interactively")
    assert "# %%\nimport roundhouse\nimport pytest\n" in content
    assert "# %time x = 41 + 1\nprint('hello from a notebook', x)" in content, "magics commented out"
    compile(content, "analysis.py", "exec")  # the converted notebook is valid Python
    lines = [l["text"] for l in server.request("GET", f"/api/v1/tasks/{t['id']}/console")[1]["lines"]]
    assert "hello from a notebook 42" in lines
    assert any(l.lower().startswith("pytest==") for l in t["environment"]["requirements"].splitlines())
    assert server.request("GET", f"/api/v1/tasks/{t['id']}/scalars")[1]["scalars"][0]["title"] == "m"


def test_notebook_without_its_file_records_the_cells_run_so_far(tmp_path, server):
    t = run_notebook(tmp_path, server, session_name=False)
    content = t["script"]["content"]
    assert "task = roundhouse.init(project='nb', name='notebook')" in content
    assert "%time" not in content, "cells after init() had not run yet"
    assert any(l.lower().startswith("pytest==") for l in t["environment"]["requirements"].splitlines())


def debian_torch():
    try:
        return subprocess.run([DEBIAN_PYTHON, "-c", "import torch"], capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


TORCH = """
import torch
import roundhouse
task = roundhouse.init(project="torch", name="save")
model = torch.nn.Linear(4, 2)
torch.save(model.state_dict(), "model.pt")
with open("other.bin", "wb") as f:
    torch.save({"step": 3}, f)   # a file object: named after the file
task.close()
print("SAVED", task.id)
"""


def test_torch_save_registers_output_models(tmp_path, server):
    assert debian_torch(), "python3-torch is installed by scripts/install-deps.sh --test"
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, RH_SERVER=server.url, RH_DATA_DIR=str(tmp_path / "home"))
    p = subprocess.run([DEBIAN_PYTHON, "-c", TORCH], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    tid = p.stdout.split("SAVED ")[1].split()[0]
    models = {m["name"]: m for m in server.request("GET", f"/api/v1/tasks/{tid}/models")[1]["models"]}
    assert set(models) == {"model.pt", "other.bin"}, models
    m = models["model.pt"]
    assert m["direction"] == "output" and m["framework"] == "pytorch"
    data = (tmp_path / "model.pt").read_bytes()
    assert m["digest"] == "sha256:" + hashlib.sha256(data).hexdigest() and m["size"] == len(data)
    status, blob, _ = server.request("GET", f"/api/v1/blobs/{m['digest']}")
    assert status == 200 and blob == data
