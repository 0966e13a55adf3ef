#!/usr/bin/env bash
# Checks the NCCL baseline (src/plan/nccl_*) against NCCL's own topology code: builds NCCL's
# graph sources of each release into nccl_harness, converts topology files to NCCL system XML,
# and compares, for every GPU subset, one node and several, and a set of NCCL_* knobs: the P2P
# decision and path type per GPU pair, GPU-direct RDMA per GPU, and the rings NCCL's search
# finds (order, count, bandwidth, path types). Not part of the test suite: it needs an NCCL
# source checkout (git clone https://github.com/NVIDIA/nccl) and a CUDA toolkit's headers.
# Usage: tools/nccl_baseline_check/check.sh NCCL_CHECKOUT [BUILD_DIR]
#   TOPOLOGIES="a.json b.json" replaces the shipped topology files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nccl=${1:?usage: check.sh NCCL_CHECKOUT [BUILD_DIR]}
build=${2:-$root/build}
replay=$build/bin/tccl-nccl-replay
[ -x "$replay" ] || { echo "check.sh: build tccl-nccl-replay first ($replay)" >&2; exit 2; }
gitdir=$nccl; [ -d "$nccl/.git" ] && gitdir=$nccl/.git
cuda=${CUDA_HOME:-/usr/local/cuda}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for rel in 18:v2.18.3-1:2:18:3 28:v2.28.9-1:2:28:9; do
  IFS=: read -r short tag major minor patch <<< "$rel"
  mkdir -p "$work/$short" && git --git-dir="$gitdir" archive "$tag" src | tar -x -C "$work/$short"
  src=$work/$short/src
  sed -e "s/\${nccl:Major}/$major/; s/\${nccl:Minor}/$minor/; s/\${nccl:Patch}/$patch/" \
      -e "s/\${nccl:Suffix}//; s/\${nccl:Version}/$((major * 10000 + minor * 100 + patch))/" \
      "$src/nccl.h.in" > "$src/include/nccl.h"
  echo "building NCCL $tag's topology code..."
  objs=()
  for f in graph/topo.cc graph/paths.cc graph/search.cc graph/xml.cc misc/param.cc debug.cc \
           misc/utils.cc "$here/nccl_harness.cc" "$here/nccl_stubs.cc"; do
    o=$work/$short/$(basename "$f" .cc).o
    (cd "$src" && g++ -std=c++17 -O1 -w -c -Iinclude -Igraph -Iinclude/plugin -I"$cuda/include" \
        -I"$cuda/include/cccl" "$f" -o "$o")
    objs+=("$o")
  done
  g++ "${objs[@]}" -o "$work/harness$short" -L"$cuda/lib64" -lcudart -lpthread -ldl
done

topologies=${TOPOLOGIES:-$(ls "$root"/pathfinder/topologies/*.json)}
knobsets=("" "NCCL_P2P_LEVEL=SYS" "NCCL_P2P_LEVEL=PIX" "NCCL_P2P_DISABLE=1"
          "NCCL_NET_GDR_LEVEL=SYS" "NCCL_NET_GDR_READ=1" "NCCL_P2P_LEVEL=3 NCCL_NET_GDR_LEVEL=PHB")
pass=0 fail=0
for topo in $topologies; do
  read -r ngpus p2p < <(python3 -c "import json,sys; t=json.load(open(sys.argv[1])); \
print(len(t['gpus']), int(t.get('p2p_supported', True)))" "$topo")
  if [ "$ngpus" -le 4 ]; then
    subsets=$(python3 -c "import itertools; n=$ngpus; print(' '.join(''.join(map(str,c)) \
for k in range(2,n+1) for c in itertools.combinations(range(n),k)))")
  else
    subsets="01 02 04 07 0123 4567 0246 1357 0145 2367 012345 234567 0167 1256 all"
  fi
  for knobs in "${knobsets[@]}"; do
    for s in $subsets; do
      for short in 18 28; do
        for mode in one several; do
          # 2.18 drops the NICs of single-node communicators; 2.28 keeps them.
          nic=no; inter=0
          [ $mode = several ] && { nic=nic; inter=1; }
          [ $mode = one ] && [ $short = 28 ] && nic=nic
          python3 "$here/node_to_nccl_xml.py" "$topo" "$s" "$nic" > "$work/system.xml"
          want=$(env $knobs INTER=$inter "$work/harness$short" "$work/system.xml" 2>&1)
          got=$(env $knobs "$replay" "$topo" "$s" "$( [ $mode = several ] && echo nic || echo no)" \
                "$short" 2>&1)
          rings=$(sed -n 's/^ring: nChannels \([0-9]*\).*/\1/p' <<< "$want")
          trees=$(sed -n 's/^tree: nChannels \([0-9]*\).*/\1/p' <<< "$want")
          # The harness sees no driver, so it cannot know when P2P is refused (p2p_supported
          # false); one-node runs print no NIC lines on the TCCL side.
          filter() {
            grep -v '^tree' | { [ "$p2p" = 1 ] && cat || grep -v '^p2p'; } |
              { [ $mode = several ] && cat || grep -v '^gdr'; }
          }
          if [ "$(filter <<< "$want")" = "$(filter <<< "$got")" ] && [ "$rings" = "$trees" ]; then
            pass=$((pass + 1))
          else
            fail=$((fail + 1))
            echo "MISMATCH $(basename "$topo") gpus $s nccl $short $mode ${knobs:-(no knobs)}"
            diff <(filter <<< "$want") <(filter <<< "$got") | head -10 || true
            [ "$rings" = "$trees" ] || echo "  NCCL's tree search found $trees channels, its rings $rings"
          fi
        done
      done
    done
  done
done
echo "nccl_baseline_check: $pass cases agree with NCCL's own code, $fail differ"
[ "$fail" = 0 ]
