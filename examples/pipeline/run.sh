#!/usr/bin/env bash
# The pipeline tour on this machine: the example copied into a fresh git
# repository, run, committed, changed (a param), rerun (only what the change
# reaches), compared with the commit (metrics, params, plots) and run once
# more (nothing to do). With RH_SERVER set, each run and the stages it ran
# are recorded as tasks on that server.
#
#   make && examples/pipeline/run.sh [FOLDER]      # FOLDER: where the repository goes (default: a temp folder)
#
# The stages run `python3`, which needs numpy and scikit-learn (put a
# virtualenv's bin/ first on PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rh=${RH_BIN:-$root/build/rh}
repo=${1:-$(mktemp -d /tmp/rh-pipeline-XXXXXX)}
mkdir -p "$repo"
cp -r "$here/rh.yaml" "$here/params.yaml" "$here/src" "$repo/"
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
echo
echo "the repository: $repo"
