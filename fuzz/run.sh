#!/usr/bin/env bash
# Builds the fuzz targets with clang (-DTCCL_FUZZ=ON) and runs each for a bounded time.
#   fuzz/run.sh [seconds] [target...]   default 60 s for each of: db_loader xml_import topology
#                                       bootstrap_wire
# Each target starts from its corpus kept in the repository, fuzz/corpus/<target>.tar.xz (the
# inputs that reached new code in earlier runs), plus the test files of its format (tests/db,
# pathfinder/topologies). The corpus grows in $FUZZ_BUILD_DIR/corpus/<target>; crashes go to
# $FUZZ_BUILD_DIR/artifacts/<target>/. FUZZ_MERGE=1 writes the minimized corpus back into
# fuzz/corpus/<target>.tar.xz (commit it). FUZZ_BUILD_DIR defaults to build-fuzz, FUZZ_JOBS to
# 2. Exit status: non-zero when a target crashed, leaked or timed out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(db_loader xml_import topology bootstrap_wire)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DTCCL_CUDA=OFF -DTCCL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
names=()
for t in "${targets[@]}"; do names+=("tccl_${t}_fuzz"); done
cmake --build "$build" -j"${FUZZ_JOBS:-2}" --target "${names[@]}" >"$build/build.log" 2>&1 ||
  { tail -n 40 "$build/build.log"; exit 1; }

status=0
for t in "${targets[@]}"; do
  case $t in
    db_loader) seeds=("$root/tests/db/good" "$root/tests/db/bad") max=65536 ;;
    xml_import) seeds=("$root/tests/db/good" "$root/tests/db/bad") max=65536 ;;
    topology) seeds=("$root/pathfinder/topologies") max=16384 ;;
    bootstrap_wire) seeds=() max=4096 ;;
    *) echo "fuzz/run.sh: unknown target '$t'" >&2; exit 2 ;;
  esac
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
  kept="$root/fuzz/corpus/$t.tar.xz"
  [ -f "$kept" ] && tar -C "$build/corpus/$t" -xJf "$kept"
  echo "== $t: ${seconds}s"
  start=$SECONDS
  result=ok
  if ! "$build/bin/tccl_${t}_fuzz" "$build/corpus/$t" "${seeds[@]}" \
      -max_total_time="$seconds" -max_len="$max" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$build/artifacts/$t/" -print_final_stats=1 >"$build/$t.log" 2>&1; then
    status=1
    result=FAILED
    tail -n 40 "$build/$t.log"
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done)" "$build/$t.log" || true
  echo "== $t: $((SECONDS - start)) s, $result"
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    rm -rf "$build/merged/$t" && mkdir -p "$build/merged/$t"
    "$build/bin/tccl_${t}_fuzz" -merge=1 "$build/merged/$t" "$build/corpus/$t" \
      -max_len="$max" >/dev/null 2>&1
    tar -C "$build/merged/$t" -cf - --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 . |
      xz -9 >"$kept"
    echo "== $t: corpus of $(ls "$build/merged/$t" | wc -l) inputs written to fuzz/corpus/$t.tar.xz"
  fi
done
exit $status
