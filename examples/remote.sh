#!/usr/bin/env bash
# Remote execution end to end: record the SDK quickstart here, clone it with
# another learning rate, enqueue the clone, let an agent run it, compare.
#   RH_SERVER=http://host:port examples/remote.sh     (or with no RH_SERVER:
#   a server is started on a temporary data folder for the example)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rh=$(readlink -f "${RH_BIN:-$here/build/rh}")
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"
py=${PYTHON:-python3}

if [[ -z "${RH_SERVER:-}" ]]; then
  data=$(mktemp -d)
  log="$data/server.log"
  "$rh" --data-dir "$data" server --port 0 >"$log" 2>&1 &
  server=$!
  trap 'kill -TERM $server 2>/dev/null; wait $server; rm -rf "$data"' EXIT
  for _ in $(seq 100); do
    RH_SERVER=$(grep -o 'http://[^ ]*' "$log" || true)
    [[ -n "$RH_SERVER" ]] && break
    sleep 0.1
  done
  export RH_SERVER
fi
echo "== server $RH_SERVER"

echo "== 1. record a run here (lr 0.1)"
"$py" "$here/examples/quickstart_sdk.py" --epochs 10 --lr 0.1 | tail -1
src=$("$rh" tasks list --project demo --name quickstart-sdk --limit 1 --json |
      "$py" -c 'import json, sys; print(json.load(sys.stdin)["tasks"][0]["id"])')

echo "== 2. clone it with lr 0.5 and enqueue the clone"
"$rh" queues create examples 2>/dev/null || true
clone=$("$rh" tasks clone "$src" --set Args/lr=0.5 --queue examples)

echo "== 3. an agent runs it (same commit + diff, a venv for its requirements)"
"$rh" agent --queue examples --once --python "$py"

echo "== 4. compare"
"$rh" tasks compare "$src" "$clone"
echo
echo "In the browser: $RH_SERVER/compare?ids=$src,$clone"
