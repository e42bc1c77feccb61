"""examples/hpo/run.sh as a user runs it: a fresh server and two agents on
this machine, the digits MLP search with the trial API (exp.yaml) and with
the Determined Core API script changed only in its import (core_api.yaml),
shortened by --config so it takes seconds; each must complete with every
trial ended and a best trial named."""
import os
import re
import subprocess

import pytest

from conftest import RH

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


@pytest.mark.parametrize("config", ["exp.yaml", "core_api.yaml"])
def test_hpo_example_runs_to_the_end(config):
    p = subprocess.run([os.path.join(ROOT, "examples", "hpo", "run.sh"), config,
                        "--config", "searcher.max_trials=4", "--config", "searcher.max_length.epochs=3"],
                       env=dict(os.environ, RH_BIN=os.path.abspath(RH)), capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "experiment completed; best: {" in p.stdout, p.stdout
    rows = [l for l in p.stdout.splitlines() if re.match(r"^\d+\s+[0-9a-f]{12}\s", l)]
    assert len(rows) == 4 and all(" completed " in r for r in rows), p.stdout
