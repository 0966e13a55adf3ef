#!/usr/bin/env bash
# Quality of the path search under the bandwidth model, for every shipped topology with <= 4 GPUs:
# the modelled allreduce busbw of the NCCL-like default plan, of the search's database plan, and
# of the exhaustive optimum (one channel), with the search/default ratio.
# Usage: bench/pathfinder_quality.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build}/bin
bytes=${BYTES:-1G}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

busbw() {  # topology db field
  "$bin/tccl-sim" --topology "$1" --db "$2" --coll allreduce --bytes "$bytes" --json |
    python3 -c "import json,sys; print('%.2f' % json.load(sys.stdin)['$3'])"
}

printf '%-18s %12s %12s %16s %8s %s\n' topology "default GB/s" "search GB/s" "exhaustive GB/s" ratio check
status=0
for topo in "$root"/pathfinder/topologies/*.json; do
  gpus=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['gpus']))" "$topo")
  [ "$gpus" -le 4 ] || continue
  name=$(basename "$topo" .json)
  "$bin/tccl-pathfinder" --topology "$topo" --jobs 2 -q -o "$work/$name.search.json" > /dev/null
  # --exhaustive also re-runs the search and exits non-zero if any entry misses the optimum.
  if ! "$bin/tccl-pathfinder" --topology "$topo" --exhaustive --jobs 2 -q \
      -o "$work/$name.exhaustive.json" > "$work/$name.check.txt"; then
    status=1
  fi
  default=$(busbw "$topo" "$work/$name.search.json" default_busbw)
  search=$(busbw "$topo" "$work/$name.search.json" plan_busbw)
  exhaustive=$(busbw "$topo" "$work/$name.exhaustive.json" plan_busbw)
  ratio=$(python3 -c "print('%.2f' % ($search / $default))")
  ok=$(python3 -c "print('ok' if $search >= $exhaustive and $search > $default else 'FAIL')")
  [ "$ok" = ok ] || status=1
  entries=$(grep -o 'on [0-9]* of [0-9]* entries' "$work/$name.check.txt" || true)
  printf '%-18s %12s %12s %16s %8s %s (search = exhaustive %s)\n' "$name" "$default" "$search" \
    "$exhaustive" "$ratio" "$ok" "$entries"
done
echo "allreduce, $bytes bytes, one node; busbw modelled by tccl-sim; ratio = search / default"
echo "search = the database plan (it may add a second channel); exhaustive = the best single channel"
exit $status
