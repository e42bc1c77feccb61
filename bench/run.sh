#!/usr/bin/env bash
# Runs the benchmarks: creates bench/.venv with MLflow (the peer we compare
# with) when missing, then bench/run.py (tracking core) and bench/sdk_bench.py
# (SDK overhead). Figures go to docs/benchmarks.md by hand.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(readlink -f "${1:-$here/../build}")
if [[ ! -x "$here/.venv/bin/mlflow" ]]; then
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q mlflow
fi
case "${2:-all}" in
  core) "$here/.venv/bin/python" "$here/run.py" "$build" ;;
  sdk) "$here/.venv/bin/python" "$here/sdk_bench.py" "$build" ;;
  all) "$here/.venv/bin/python" "$here/run.py" "$build"
       "$here/.venv/bin/python" "$here/sdk_bench.py" "$build" ;;
  *) echo "usage: bench/run.sh [BUILD_DIR] [core|sdk|all]" >&2; exit 2 ;;
esac
