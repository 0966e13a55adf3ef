#!/usr/bin/env bash
# Usage: run_dropin.sh preload|libpath APP LIBDIR
# Runs the -lnccl program with our library substituted, and checks that ours was used
# (TCCL's version line) and that the results were right.
set -u
mode=$1 app=$2 libdir=$3
case $mode in
  preload) out=$(NCCL_DEBUG=VERSION LD_PRELOAD="$libdir/libtccl.so" "$app" 2>&1) ;;
  libpath) out=$(NCCL_DEBUG=VERSION LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$app" 2>&1) ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
rc=$?
echo "$out"
echo "$out" | grep -q "TCCL version" || { echo "FAIL: TCCL's version line is missing: another libnccl was used"; exit 1; }
echo "$out" | grep -q "0 wrong elements: OK" || { echo "FAIL: wrong results (exit $rc)"; exit 1; }
exit $rc
