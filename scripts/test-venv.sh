#!/usr/bin/env bash
# Makes sure tests/.venv holds what the tests and the Python lint need (from PyPI):
# pytest, pyflakes, and numpy/pandas/matplotlib/scikit-learn/nbclient/ipykernel for
# the SDK tests, Determined's wheels for the Core API tests and ClearML's for the
# HyperParameterOptimizer tests, DVC (tests/.venv-dvc) for the pipeline tests. Installs only when
# something is missing; prints the venv's path.
set -euo pipefail
venv="$(cd "$(dirname "$0")/.." && pwd)/tests/.venv"
if [[ ! -x "$venv/bin/pytest" ]] ||
  ! "$venv/bin/python" -c "import numpy, pandas, matplotlib, sklearn, nbclient, ipykernel, pyflakes" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pytest pyflakes numpy pandas matplotlib scikit-learn nbclient ipykernel >&2
fi
# Determined's wheels, read (not installed: they pull ~50 packages) by the
# Core API compatibility tests.
for v in 0.37.0 0.38.1; do
  if ! ls "$venv/peers/determined-$v-"*.whl >/dev/null 2>&1; then
    "$venv/bin/pip" download -q --no-deps "determined==$v" -d "$venv/peers" >&2
  fi
done
# ClearML's wheel, read by the HyperParameterOptimizer tests (its parameter ranges).
if ! ls "$venv/peers/clearml-1.16.5-"*.whl >/dev/null 2>&1; then
  "$venv/bin/pip" download -q --no-deps "clearml==1.16.5" -d "$venv/peers" >&2
fi
# DVC, in a venv of its own (its dependencies pin what the SDK tests use),
# run beside rh on the same pipelines by tests/test_pipeline.py.
dvc_venv="$(dirname "$venv")/.venv-dvc"
if [[ ! -x "$dvc_venv/bin/dvc" ]]; then
  python3 -m venv "$dvc_venv"
  "$dvc_venv/bin/pip" install -q "dvc>=3,<4" >&2
fi
echo "$venv"
