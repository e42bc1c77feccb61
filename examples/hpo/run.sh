#!/usr/bin/env bash
# The digits MLP search on this machine, end to end: a fresh rh server (its
# data in a temp folder), a queue and two agents (Debian's python3 with
# python3-torch; each agent's venv adds requirements.txt), then the
# experiment, followed until it ends, and its trials.
#
#   make && examples/hpo/run.sh                       # exp.yaml: the trial API
#   examples/hpo/run.sh core_api.yaml                 # the Determined Core API script
#   examples/hpo/run.sh exp.yaml --config searcher.max_trials=8   # a shorter search
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rh=${RH_BIN:-$root/build/rh}
python=${HPO_PYTHON:-/usr/bin/python3}
config=${1:-exp.yaml}
shift || true
data=$(mktemp -d /tmp/rh-hpo-data-XXXXXX)
work=$(mktemp -d /tmp/rh-hpo-work-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$data" "$work"
}
trap cleanup EXIT
source "$here/../server.sh"
start_server "$data"
export RH_SDK_PATH=$root/python
"$rh" queues create hpo > /dev/null
for i in 1 2; do
  "$rh" agent --queue hpo --name "hpo-agent-$i" --workdir "$work" --python "$python" --no-tee \
    2> "$work/agent-$i.log" &
  pids+=($!)
done
id=$("$rh" experiment create "$here/$config" "$here" --queue hpo "$@" | head -1)
echo "experiment $id: $url/experiments/$id"
status=0
python3 - "$url" "$id" <<'PY' || status=$?
import json, sys, time, urllib.request
url, eid = sys.argv[1], sys.argv[2]
seen = {}
while True:
    e = json.load(urllib.request.urlopen(f"{url}/api/v1/experiments/{eid}"))
    for t in e["trials"]:
        line = f"trial {t['trial']:3d} {t['state']:9s} epochs {t.get('reached', 0):2d}/{t['until']:2d} " \
               f"val_error {t.get('last_metric', float('nan')):.4f}"
        if seen.get(t["trial"]) != line:
            print(line, flush=True)
            seen[t["trial"]] = line
    if e["state"] not in ("running", "paused"):
        break
    time.sleep(1)
print(f"experiment {e['state']}; best: {e.get('best')}")
sys.exit(0 if e["state"] == "completed" else 1)
PY
"$rh" trials list "$id"
exit $status
