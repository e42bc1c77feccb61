#!/usr/bin/env bash
# Hyperparameter-search benchmark (bench/hpo_bench.py; `wallclock` first:
# bench/hpo_wallclock.py, 2 agents against Optuna n_jobs=2) with Optuna from PyPI in
# bench/.venv-hpo, over Debian's torch (python3-torch, the system site packages).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script=hpo_bench.py
if [[ "${1:-}" == wallclock ]]; then script=hpo_wallclock.py; shift; fi
build=$(readlink -f "${1:-$here/../build}")
if [[ ! -x "$here/.venv-hpo/bin/python" ]] || ! "$here/.venv-hpo/bin/python" -c "import optuna, sklearn, torch; torch.from_numpy(__import__(\"numpy\").zeros(1))" 2>/dev/null; then
  /usr/bin/python3 -m venv --system-site-packages "$here/.venv-hpo"
  # Debian's torch is built against numpy 1.x.
  "$here/.venv-hpo/bin/pip" install -q "numpy<2" optuna scikit-learn
fi
"$here/.venv-hpo/bin/python" "$here/$script" "$build"
