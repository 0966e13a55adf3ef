#!/usr/bin/env bash
# AllReduce bus bandwidth across 2 nodes (network namespaces, one rank each) whose veth links
# are limited to RATE with tc (default 10gbit), with tccl-perf; prints nccl-tests' table and
# the fraction of the link rate reached. Needs root (ip netns). Usage:
#   bench/netns_allreduce.sh [BUILD_DIR] [RATE] [tccl-perf options, default -b 64M -e 512M -f 2 -n 10 -w 3]
# Knobs pass through the environment of this script, e.g. NCCL_SOCKET_NTHREADS=1; MTU=9000
# gives the links jumbo frames (default 1500).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
rate=${2:-10gbit}
shift $(($# > 2 ? 2 : $#))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(-b 64M -e 512M -f 2 -n 10 -w 3)
perf=$build/bin/tccl-perf
[ -x "$perf" ] || { echo "no $perf: build the tccl-perf target first" >&2; exit 1; }
envs=()
for v in NCCL_SOCKET_NTHREADS NCCL_NSOCKS_PERTHREAD TCCL_CHUNK_SIZE TCCL_FIFO_SLOTS NCCL_DEBUG; do
  [ -z "${!v:-}" ] || envs+=(--env "$v=${!v}")
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$here/tests/netns/run_netns.sh" --nodes 2 --ranks-per-node 1 --rate "$rate" --mtu "${MTU:-1500}" --timeout 300 --logs "$out" \
  "${envs[@]}" -- "$perf" -t all_reduce -c 1 "${sizes[@]}" >/dev/null || {
  cat "$out"/rank*.log; exit 1; }
grep -v "INFO" "$out/rank0.log"
awk -v rate="$rate" '
  BEGIN { r = rate; m = 1; if (r ~ /gbit$/) m = 1e9; else if (r ~ /mbit$/) m = 1e6; sub(/[a-z]+$/, "", r)
          bytesPerSec = r * m / 8 }
  /^ +[0-9]+ +[0-9]+ +float/ && $1 >= 67108864 {
    oop = $8 * 1e9 / bytesPerSec * 100; ip = $12 * 1e9 / bytesPerSec * 100
    printf "%5d MiB: busbw %.2f GB/s (%.0f%% of %s) out of place, %.2f GB/s (%.0f%%) in place\n",
           $1 / 1048576, $8, oop, rate, $12, ip
  }' "$out/rank0.log"
