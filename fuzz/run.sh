#!/usr/bin/env bash
# Builds the database-loader fuzzer with clang (-DTCCL_FUZZ=ON) and runs it for a bounded time.
#   fuzz/run.sh [seconds]          default 60; FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS
# The corpus starts from tests/db/good and tests/db/bad; new inputs go to $FUZZ_BUILD_DIR/corpus
# and crashes to $FUZZ_BUILD_DIR/artifacts. Exit status is non-zero when a crash was found.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DTCCL_CUDA=OFF -DTCCL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target tccl_db_fuzz -j"${FUZZ_JOBS:-2}"
mkdir -p "$build/corpus" "$build/artifacts"
cp -n "$root"/tests/db/good/* "$root"/tests/db/bad/*.json "$root"/tests/db/bad/*.xml \
  "$build/corpus/" 2>/dev/null || true
rm -f "$build/corpus/deep-nesting.json"  # 200 kB: slows every mutation; covered by the tests
"$build/fuzz/tccl_db_fuzz" "$build/corpus" -max_total_time="$seconds" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/artifacts/" -print_final_stats=1
