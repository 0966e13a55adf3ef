#!/usr/bin/env bash
# Usage: check_needed.sh REAL_LIBNCCL|- LIB...
# Each LIB may list in NEEDED only what the real libnccl.so.2 lists (without one, "-": the
# C/C++ runtime set that NCCL releases need), so that it loads wherever the real one does.
set -eu
real=$1
shift
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u; }
if [ "$real" != - ]; then
  allowed=$(needed "$real")
  echo "allowed (NEEDED of $real):" $allowed
else
  allowed=$(printf '%s\n' libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 \
    libgcc_s.so.1 libstdc++.so.6 ld-linux-x86-64.so.2 | sort -u)
  echo "allowed (no libnccl.so.2 on this machine: the C/C++ runtime):" $allowed
fi
rc=0
for lib in "$@"; do
  ours=$(needed "$lib")
  echo "$lib NEEDED:" $ours
  extra=$(comm -23 <(echo "$ours") <(echo "$allowed"))
  if [ -n "$extra" ]; then
    echo "FAIL: $lib needs what the real libnccl does not:" $extra
    rc=1
  fi
done
[ $rc -eq 0 ] && echo "OK: nothing beyond the real libnccl's dependencies"
exit $rc
