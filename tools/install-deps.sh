#!/usr/bin/env bash
# Installs the Debian packages TCCL needs to build and test, if any is missing.
# Used by examples/demo.sh, tests/run.sh and .ci/run; safe to run again.
set -euo pipefail
# clang and libclang-rt-14-dev: the libFuzzer targets (fuzz/run.sh); strace: a launcher test;
# xz-utils: the fuzz corpus archives.
packages=(cmake g++ make pkg-config libhwloc-dev nlohmann-json3-dev libpugixml-dev libcli11-dev
  libgtest-dev libgmock-dev graphviz iproute2 libopenmpi-dev openmpi-bin libgloo-dev
  clang libclang-rt-14-dev strace xz-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "TCCL needs these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
