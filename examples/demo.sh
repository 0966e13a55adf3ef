#!/usr/bin/env bash
# The TCCL demo, on CPUs only: builds the project if needed, then
#   1. runs tccl-pathfinder with the bandwidth model on a shipped topology (AMD EPYC + 4x V100),
#   2. shows the rings it found (tccl-db show) and draws them (tccl-db draw),
#   3. compares NCCL's own plan with the found one on the modelled machine (tccl-sim),
#   4. runs 4 local ranks that play the GPUs of that node (TCCL_SIM_TOPOLOGY) with the new
#      database, printing the chosen rings and an nccl-tests table of collectives.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
topology=${TOPOLOGY:-$here/pathfinder/topologies/amd-v100.json}
out=${DEMO_OUT:-$build/demo}
"$here/tools/install-deps.sh"

if [ ! -x "$build/bin/tccl-perf" ] || [ ! -x "$build/bin/tccl-pathfinder" ]; then
  echo "== building TCCL in $build"
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" --target tccl tccl-perf tccl-pathfinder tccl-sim tccl-db >/dev/null
fi
mkdir -p "$out"
bin=$build/bin

echo "== 1. tccl-pathfinder on $(basename "$topology") (bandwidth model)"
"$bin/tccl-pathfinder" --topology "$topology" -o "$out/db.json"

echo
echo "== 2. the rings it found"
"$bin/tccl-db" show "$out/db.json" >"$out/db.txt"
grep -v "inter {" "$out/db.txt" | grep -v "NIC -\[" | head -n 30
echo "(all entries, including $(grep -c "inter {" "$out/db.txt") inter-node chains: $out/db.txt)"
"$bin/tccl-db" draw "$out/db.json" -o "$out/node.svg" && echo "(picture of the node and its rings: $out/node.svg)"

echo
echo "== 3. NCCL's own plan vs the found plan, modelled (allreduce, 256 MiB)"
"$bin/tccl-sim" --topology "$topology" --db "$out/db.json" --nodes 1 --coll allreduce --bytes 256M

echo
echo "== 4. 4 host ranks playing the node's GPUs, with the new database"
export TCCL_SIM_TOPOLOGY=$topology TCCL_DB=$out/db.json NCCL_SOCKET_IFNAME=${NCCL_SOCKET_IFNAME:-lo}
NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=TCCL "$bin/tccl-perf" -np 4 -t all_reduce -b 1M -e 1M -n 1 -w 0 2>&1 |
  grep -E "Channel|simulated" | sort -u
for coll in all_reduce all_gather reduce_scatter broadcast; do
  "$bin/tccl-perf" -np 4 -t "$coll" -b 64K -e 16M -f 4 -n 5 -w 1 -c 1
done
