#!/usr/bin/env bash
# End-to-end tests: pytest drives the real `rh` binary. Creates tests/.venv
# (pytest, and numpy/pandas/matplotlib/scikit-learn/nbclient/ipykernel for the SDK tests, from PyPI) the first time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rh_bin=$(readlink -f "${1:-$here/../build/rh}")
venv="$here/.venv"
if [[ ! -x "$venv/bin/pytest" ]] || ! "$venv/bin/python" -c "import numpy, pandas, matplotlib, sklearn, nbclient, ipykernel" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pytest numpy pandas matplotlib scikit-learn nbclient ipykernel
fi
RH_BIN="$rh_bin" "$venv/bin/pytest" -q "$here" "${@:2}"
# Browser tests: Debian's chromium driven by playwright-core (installed with
# the web UI's npm packages by the build); screenshots go to tests/screenshots/.
RH_BIN="$rh_bin" RH_TEST_PYTHON="$venv/bin/python" node --test --test-reporter=spec "$here/browser/"
