#!/usr/bin/env bash
# The pipeline tour on this machine: the example copied into a fresh git
# repository, run, committed, changed (a param), rerun (only what the change
# reaches), compared with the commit (metrics, params, plots) and run once
# more (nothing to do). With RH_SERVER set, each run and the stages it ran
# are recorded as tasks on that server.
#
#   make && examples/pipeline/run.sh [FOLDER]      # FOLDER: where the repository goes (default: a temp folder)
#   examples/pipeline/run.sh --on-agent [FOLDER]    # then once more on an agent (a temp server and agent)
#
# The stages run `python3`, which needs numpy and scikit-learn (put a
# virtualenv's bin/ first on PATH); on the agent, its venv installs them
# from requirements.txt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rh=${RH_BIN:-$root/build/rh}
on_agent=0
if [[ "${1:-}" == "--on-agent" ]]; then
  on_agent=1
  shift
fi
repo=${1:-$(mktemp -d /tmp/rh-pipeline-XXXXXX)}
mkdir -p "$repo"
cp -r "$here/rh.yaml" "$here/params.yaml" "$here/requirements.txt" "$here/src" "$repo/"
cd "$repo"
git init -q
git() { command git -c user.email=example@roundhouse -c user.name=example "$@"; }
step() { printf '\n== %s\n' "$*"; }

step "rh repro: every stage runs"
"$rh" repro
git add -A
git commit -qm "digits pipeline"

step "rh repro again: nothing changed"
"$rh" repro

step "train.C 0.05 -> 1.0: only train and evaluate run"
sed -i 's/  C: 0.05/  C: 1.0/' params.yaml
"$rh" status
"$rh" repro

step "rh params diff"
"$rh" params diff
step "rh metrics diff"
"$rh" metrics diff
step "rh plots diff"
"$rh" plots diff

step "rh dag"
"$rh" dag

if [[ $on_agent == 1 ]]; then
  step "on an agent: featurize.pca_components 32 -> 16, rh repro --queue"
  git commit -qam "C 1.0"
  data=$(mktemp -d /tmp/rh-pipeline-server-XXXXXX)
  pids=()
  cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$data"
  }
  trap cleanup EXIT
  source "$here/../server.sh"
  start_server "$data"
  "$rh" queues create pipeline > /dev/null
  "$rh" agent --queue pipeline --name example-agent --workdir "$data/agent" --python "$(command -v python3)" \
    --no-tee 2> "$data/agent.log" &
  pids+=($!)
  sed -i 's/  pca_components: 32/  pca_components: 16/' params.yaml
  "$rh" repro --queue pipeline
  "$rh" metrics diff
  echo "the run's tasks: $url (stopped when this script ends)"
fi
echo
echo "the repository: $repo"
