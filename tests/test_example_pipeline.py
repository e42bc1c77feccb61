"""examples/pipeline as a user runs it: run.sh --on-agent in a fresh
repository (every stage, then nothing, then only what a changed param
reaches, the diffs and the plots page, then a change run on a real agent
through a real server); and the same stages as a dvc.yaml, run by real DVC
(PyPI), which rh then finds up to date."""
import os
import shutil
import subprocess

import pytest

from conftest import RH, rh
from test_pipeline import DVC, dvc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
EXAMPLE = os.path.join(ROOT, "examples", "pipeline")
VENV_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".venv", "bin")


def env():
    return dict(os.environ, RH_BIN=os.path.abspath(RH), PATH=VENV_BIN + os.pathsep + os.environ["PATH"])


def test_the_tour_runs_what_changed(tmp_path):
    repo = tmp_path / "digits pipeline"
    p = subprocess.run([os.path.join(EXAMPLE, "run.sh"), "--on-agent", str(repo)], env=env(), capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    parts = p.stdout.split("\n== ")
    first, again, changed = parts[1], parts[2], parts[3]
    for stage in ("prepare", "featurize", "train", "evaluate"):
        assert f"Running stage '{stage}'" in first
    assert "Running stage" not in again and "Data and pipelines are up to date." in again
    assert "Running stage 'prepare'" not in changed and "Running stage 'featurize'" not in changed
    assert "Running stage 'train'" in changed and "Running stage 'evaluate'" in changed
    assert "params.yaml  train.C  0.05    1.0" in p.stdout
    assert "metrics.json  accuracy" in p.stdout
    page = repo / "rh_plots" / "index.html"
    assert f"file://{page}" in p.stdout and page.stat().st_size > 50_000
    # On the agent: featurize, train and evaluate (prepare is unchanged), the
    # lock and metrics back here.
    agent = parts[-1]
    assert "Submitted 3 stages to queue 'pipeline'" in agent, agent
    for stage in ("featurize", "train", "evaluate"):
        assert f"Stage '{stage}' completed on example-agent" in agent
    assert "Updated rh.lock." in agent and "metrics.json  accuracy" in agent, agent
    assert "up to date" in rh("status", cwd=repo, env={"PATH": env()["PATH"]}).stdout
    # The commit holds the code and the lock, not the data: the cached outs
    # are in .gitignore files.
    tracked = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.split()
    assert "rh.lock" in tracked and "src/train.py" in tracked
    assert "data/.gitignore" in tracked
    assert not any((t.startswith("data/") and not t.endswith(".gitignore")) or t == "model.pkl"
                   for t in tracked), tracked


@pytest.mark.skipif(not os.path.exists(DVC), reason="scripts/test-venv.sh installs DVC")
def test_the_same_stages_as_a_dvc_yaml(tmp_path):
    repo = tmp_path / "as dvc"
    shutil.copytree(os.path.join(EXAMPLE, "src"), repo / "src")
    shutil.copy(os.path.join(EXAMPLE, "params.yaml"), repo)
    shutil.copy(os.path.join(EXAMPLE, "rh.yaml"), repo / "dvc.yaml")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc("init", "-q", cwd=repo)
    e = env()
    subprocess.run([DVC, "repro", "-q"], cwd=repo, check=True, env=dict(e, DVC_NO_ANALYTICS="1"),
                   capture_output=True)
    r = rh("status", cwd=repo, env={"PATH": e["PATH"]})
    assert "up to date" in r.stdout, r.stdout
    assert "Running stage" not in rh("repro", cwd=repo, env={"PATH": e["PATH"]}).stdout
