#!/usr/bin/env bash
# Builds TCCL and runs the whole test suite (the README's test command).
# BUILD_DIR (default ./build) and CMAKE_ARGS are honoured; TCCL_TEST_FULL=1 adds the long runs.
#
# TCCL_SANITIZE=address,undefined (or thread) runs the sanitizer slice instead: a build with
# those sanitizers (CUDA off; BUILD_DIR defaults to build-asan or build-tsan) of the unit tests
# and the multi-rank tests labelled "sanitize", which then run with every report fatal.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/tools/install-deps.sh"
jobs=$(nproc)

if [ -z "${TCCL_SANITIZE:-}" ]; then
  build=${BUILD_DIR:-$here/build}
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-}
  cmake --build "$build" -j"$jobs"
  cd "$build"
  ctest --output-on-failure -j"$jobs" --timeout 1800
  exit
fi

case $TCCL_SANITIZE in
  thread) build=${BUILD_DIR:-$here/build-tsan} ;;
  address | undefined | address,undefined | undefined,address) build=${BUILD_DIR:-$here/build-asan} ;;
  *) echo "TCCL_SANITIZE=$TCCL_SANITIZE: expected address,undefined or thread" >&2; exit 2 ;;
esac
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCCL_CUDA=OFF \
  -DTCCL_SANITIZE="$TCCL_SANITIZE" ${CMAKE_ARGS:-}
cmake --build "$build" -j"$jobs" --target tccl tccl_unit_tests tccl_db_tests smoke_test \
  bootstrap_test api_checks_test collective_matrix_test stress_test net_check tccl_testnet_tcptest
# Every report fails its test; a forked rank that reports exits non-zero, which fails it too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Thread leaks are not reported: forked ranks end with _exit, leaving finished helper threads
# (a rendezvous root, a split's root) that no destructor joined.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:exitcode=66:report_thread_leaks=0}
cd "$build"
ctest --output-on-failure -j"$jobs" --timeout 1800 -L sanitize
