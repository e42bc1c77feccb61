#!/usr/bin/env bash
# Dataset benchmark with its peers: DVC from PyPI in bench/.venv-data, and
# git-lfs, git-annex, restic from Debian (installed when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(readlink -f "${1:-$here/../build}")
missing=()
for p in git git-lfs git-annex restic time; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ ! -x "$here/.venv-data/bin/dvc" ]]; then
  python3 -m venv "$here/.venv-data"
  "$here/.venv-data/bin/pip" install -q dvc
fi
python3 "$here/data_bench.py" "$build"
