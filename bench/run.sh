#!/usr/bin/env bash
# Runs the benchmarks: creates bench/.venv with MLflow (the peer we compare
# with) when missing, then bench/run.py. Figures go to docs/benchmarks.md by hand.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(readlink -f "${1:-$here/../build}")
if [[ ! -x "$here/.venv/bin/mlflow" ]]; then
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q mlflow
fi
"$here/.venv/bin/python" "$here/run.py" "$build"
