#!/usr/bin/env bash
# How long tccl-pathfinder's search takes with the model profiler on every shipped topology
# (all GPU subsets' rings and all chains), against the targets: < 2 s per 4-GPU topology,
# < 60 s per 8-GPU one. Usage: bench/pathfinder_timing.sh [BUILD_DIR] (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build}/bin
jobs=${JOBS:-$(nproc)}
printf '%-18s %5s %8s %8s %10s %9s %8s %s\n' topology gpus rings chains solved unproven seconds target
status=0
for topo in "$root"/pathfinder/topologies/*.json; do
  name=$(basename "$topo" .json)
  start=$(date +%s.%N)
  out=$("$bin/tccl-pathfinder" --topology "$topo" --jobs "$jobs" -q -o /dev/null)
  end=$(date +%s.%N)
  line=$(grep '^rings:' <<< "$out")
  gpus=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['gpus']))" "$topo")
  read -r rings solved_r chains solved_c unproven < <(python3 - "$line" <<'PY'
import re, sys
m = re.search(r'rings: (\d+) subsets \((\d+) solved.*chains: (\d+) \((\d+) solved.*; (\d+) searches stopped', sys.argv[1])
print(*m.groups())
PY
)
  secs=$(python3 -c "print('%.2f' % ($end - $start))")
  limit=$([ "$gpus" -le 4 ] && echo 2 || echo 60)
  verdict=$(python3 -c "print('< %s s ok' % $limit if $secs < $limit else '>= %s s SLOW' % $limit)")
  [[ $verdict == *ok ]] || status=1
  printf '%-18s %5s %8s %8s %10s %9s %8s %s\n' "$name" "$gpus" "$rings" "$chains" \
    "$((solved_r + solved_c))" "$unproven" "$secs" "$verdict"
done
echo "wall time of tccl-pathfinder --jobs $jobs (model profiler), on $(nproc) cores"
exit $status
