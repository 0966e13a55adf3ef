#!/usr/bin/env bash
# The model's verdict against NCCL, for every shipped topology:
#   1. modelled allreduce busbw of NCCL's own plan (nccl-2.18 and nccl-2.28 rules, the NCCL_*
#      knobs of the environment) and of the plan the search finds, one node and two;
#   2. the search against the exhaustive optimum (nodes of up to 4 GPUs, one channel);
#   3. how each verdict moves when the illustrative numbers move by -30% / +30%;
#   4. the runtime's default plan (no database, TCCL_SIM_TOPOLOGY) against NCCL's plan.
# Usage: bench/pathfinder_quality.sh [BUILD_DIR]   (BYTES=1G, JOBS=$(nproc))
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bin=$build/bin
bytes=${BYTES:-1G}
jobs=${JOBS:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
topologies=("$root"/pathfinder/topologies/*.json)

sim() {  # topology nodes baseline [extra...]: tccl-sim --json
  local topo=$1 nodes=$2 baseline=$3
  shift 3
  "$bin/tccl-sim" --topology "$topo" --nodes "$nodes" --coll allreduce --bytes "$bytes" \
    --baseline "$baseline" -j "$jobs" --json "$@"
}
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The same node with no congestion rule and every efficiency at 1: what is left of a win
# without those illustrative numbers.
neutral() {
  python3 - "$1" "$2" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["congestion_rules"] = []
t.pop("efficiency", None)
gone = lambda v: v.startswith("congestion_rules") or v.startswith("efficiency")
for kind in ("measured", "illustrative"):
    kept = []
    for label in t.get("provenance", {}).get(kind, []):
        if isinstance(label, dict):
            label["values"] = [v for v in label["values"] if not gone(v)]
            if not label["values"]:
                continue
        kept.append(label)
    t.setdefault("provenance", {})[kind] = kept
json.dump(t, open(sys.argv[2], "w"))
PY
}

echo "== 1. NCCL's plan against the searched plan: allreduce, $bytes bytes, busbw modelled by tccl-sim"
printf '%-16s %5s %7s %9s %6s %9s %6s %4s  %s\n' topology nodes "plan" "nccl-2.18" ratio \
  "nccl-2.28" ratio ch "ratios without rules/efficiencies (2.18 2.28)"
for topo in "${topologies[@]}"; do
  name=$(basename "$topo" .json)
  neutral "$topo" "$work/$name.neutral.json"
  for nodes in 1 2; do
    sim "$topo" "$nodes" nccl-2.18 > "$work/a.json"
    sim "$topo" "$nodes" nccl-2.28 > "$work/b.json"
    sim "$work/$name.neutral.json" "$nodes" nccl-2.18 > "$work/c.json"
    sim "$work/$name.neutral.json" "$nodes" nccl-2.28 > "$work/d.json"
    printf '%-16s %5s %7.2f %9.2f %5.2fx %9.2f %5.2fx %2s/%s  %5.2fx %5.2fx\n' "$name" "$nodes" \
      "$(field "$work/a.json" "d['plan_busbw']")" "$(field "$work/a.json" "d['default_busbw']")" \
      "$(field "$work/a.json" "d['ratio']")" "$(field "$work/b.json" "d['default_busbw']")" \
      "$(field "$work/b.json" "d['ratio']")" "$(field "$work/a.json" "d['baseline_channels']")" \
      "$(field "$work/b.json" "d['baseline_channels']")" "$(field "$work/c.json" "d['ratio']")" \
      "$(field "$work/d.json" "d['ratio']")"
  done
done
echo "plan: the search's plan (the database's entry); ratio: plan / NCCL; GB/s are bus bandwidth;"
echo "ch: the channels NCCL runs (2.18/2.28); the last two columns: the same with no congestion"
echo "rule and every efficiency at 1 (all of them illustrative in the shipped files)"
echo "NCCL's plans, with NCCL_DEBUG-like reasons: tccl-sim --topology FILE --baseline nccl-2.XX -v"

echo
echo "== 2. The search against the exhaustive optimum (one channel, nodes of up to 4 GPUs)"
status=0
for topo in "${topologies[@]}"; do
  gpus=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['gpus']))" "$topo")
  [ "$gpus" -le 4 ] || continue
  name=$(basename "$topo" .json)
  # --exhaustive also runs the search and exits non-zero if any entry misses the optimum.
  if "$bin/tccl-pathfinder" --topology "$topo" --exhaustive --jobs "$jobs" -q \
      -o "$work/$name.exhaustive.json" > "$work/$name.check.txt"; then
    verdict=ok
  else
    verdict=FAIL
    status=1
  fi
  printf '%-18s %s: %s\n' "$name" "$verdict" "$(grep -o 'search reaches .*' "$work/$name.check.txt")"
done

echo
echo "== 3. Sensitivity: plan/NCCL when each illustrative number moves (tccl-sim --sensitivity)"
for topo in "${topologies[@]}"; do
  name=$(basename "$topo" .json)
  for nodes in 1 2; do
    for baseline in nccl-2.18 nccl-2.28; do
      echo
      echo "-- $name, $nodes node(s), against $baseline"
      "$bin/tccl-sim" --topology "$topo" --nodes "$nodes" --coll allreduce --bytes "$bytes" \
        --baseline "$baseline" -j "$jobs" --sensitivity | sed -n '/^sensitivity/,$p'
    done
  done
done

echo
echo "== 4. The runtime's default plan (no database, host ranks playing the GPUs) against NCCL's"
installed=$("$bin/tccl-sim" --topology "${topologies[0]}" --coll allreduce --bytes 1 --json |
  python3 -c "import json,sys; print(json.load(sys.stdin)['baseline'])")
for topo in "${topologies[@]}"; do
  name=$(basename "$topo" .json)
  gpus=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['gpus']))" "$topo")
  log=$work/$name.log
  TCCL_SIM_TOPOLOGY=$topo NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=TCCL NCCL_DEBUG_FILE="$log.%p" \
    "$bin/tccl-perf" -np "$gpus" -b 8 -e 8 -n 1 -w 0 > /dev/null
  # Every rank logs "Channel CC/NN : prev -> rank -> next recv HOP send HOP [plan SOURCE]".
  runtime=$(cat "$log".* | python3 -c '
import re, sys
send, nxt, source = {}, {}, ""
for line in sys.stdin:
    m = re.search(r"Channel (\d+)/(\d+) : (\d+) -> (\d+) -> (\d+) recv \S+ send (\S+) \[plan (\S+)\]", line)
    if m:
        c, r = int(m.group(1)), int(m.group(4))
        nxt[(c, r)], send[(c, r)], source = int(m.group(5)), m.group(6), m.group(7)
short = lambda h: "p2p" if h.startswith("p2p_write") else re.sub(r"bounce@(numa\d+).*", r"shm@\1", h)
rings = []
for c in sorted({c for c, _ in nxt}):
    r, text = 0, ""
    while True:
        text += "%d -%s-> " % (r, short(send[(c, r)]))
        r = nxt[(c, r)]
        if r == 0:
            break
    rings.append(text + "0")
runs = []
for ring in rings:
    if runs and runs[-1][1] == ring:
        runs[-1][0] += 1
    else:
        runs.append([1, ring])
print(source, " | ".join("%dx %s" % (n, ring) for n, ring in runs))')
  expected=$("$bin/tccl-sim" --topology "$topo" --coll allreduce --bytes 1 | sed -n 's/^  NCCL plan:  //p')
  if [ "${runtime#* }" = "$expected" ]; then same=same; else same=DIFFERENT; status=1; fi
  printf '%-18s %s\n  runtime [%s]: %s\n  %s:  %s\n' "$name" "$same" "${runtime%% *}" \
    "${runtime#* }" "$installed" "$expected"
done
exit $status
