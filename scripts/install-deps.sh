#!/usr/bin/env bash
# Installs what building and testing Roundhouse needs on Debian bookworm.
# Idempotent: asks dpkg what is already there and installs only the rest.
# Usage: scripts/install-deps.sh [--test]   (--test adds what the test suites need)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config ccache git python3
  libsqlite3-dev libssl-dev libcurl4-openssl-dev zlib1g-dev
  nlohmann-json3-dev libsimdjson-dev libcli11-dev libfmt-dev
  libzstd-dev libboost-dev libyaml-cpp-dev libarchive-dev libtomlplusplus-dev libhowardhinnant-date-dev tzdata
)
test_pkgs=(libgtest-dev libgmock-dev libbenchmark-dev python3-venv procps clang-format chromium python3-torch)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The web UI's build needs Node and npm; a machine may have them from
# elsewhere than Debian (e.g. NodeSource, which bundles npm), so look for the
# commands rather than the packages.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
