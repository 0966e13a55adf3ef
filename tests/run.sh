#!/usr/bin/env bash
# Builds TCCL and runs the whole test suite (the README's test command).
# BUILD_DIR (default ./build) and CMAKE_ARGS are honoured; TCCL_TEST_FULL=1 adds the long runs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
"$here/tools/install-deps.sh"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-}
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 1800
