#!/usr/bin/env bash
# Makes sure tests/.venv holds what the tests and the Python lint need (from PyPI):
# pytest, pyflakes, and numpy/pandas/matplotlib/scikit-learn/nbclient/ipykernel for
# the SDK tests, and Determined's wheels for the Core API tests. Installs only when
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
echo "$venv"
