#!/usr/bin/env bash
# The README's demo: starts `rh server` on the embedded store (~/.roundhouse
# unless RH_DATA_DIR is set), records two runs of the quickstart example (one
# by `rh run` with no code change, one with the Python SDK), and keeps
# serving so the browser shows them. Ctrl-C stops the server.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rh=$(readlink -f "${1:-$here/build/rh}")
log=$(mktemp)
"$rh" server >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; rm -f "$log"' EXIT
for _ in $(seq 100); do
  url=$(grep -o 'http://[^ ]*' "$log" || true)
  [[ -n "$url" ]] && break
  kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
export RH_SERVER=$url
"$rh" run --project demo --name quickstart --tag demo -- python3 "$here/examples/quickstart.py" --epochs 30
PYTHONPATH="$here/python" python3 "$here/examples/quickstart_sdk.py" --epochs 30
"$rh" tasks list --project demo --limit 5
echo
echo "Open $url/projects/demo in a browser (Ctrl-C stops the server)."
wait $pid
