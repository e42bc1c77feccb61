#!/usr/bin/env bash
# The checks `make test` runs besides the tests: the layer rule over #include lines,
# pyflakes over every tracked Python file, and the web UI's TypeScript check.
# Needs the web UI's npm packages (the build installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/test-venv.sh)
"$venv/bin/python" scripts/check-layers.py
git ls-files -z '*.py' | xargs -0 "$venv/bin/python" -m pyflakes
(cd web && npx --no-install tsc --noEmit)
