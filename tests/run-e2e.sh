#!/usr/bin/env bash
# End-to-end tests: pytest drives the real `rh` binary, from tests/.venv
# (scripts/test-venv.sh creates it the first time).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rh_bin=$(readlink -f "${1:-$here/../build/rh}")
venv=$("$here/../scripts/test-venv.sh")
RH_BIN="$rh_bin" "$venv/bin/pytest" -q "$here" "${@:2}"
# Browser tests: Debian's chromium driven by playwright-core (installed with
# the web UI's npm packages by the build); screenshots go to tests/screenshots/.
RH_BIN="$rh_bin" RH_TEST_PYTHON="$venv/bin/python" node --test --test-reporter=spec "$here/browser/"
