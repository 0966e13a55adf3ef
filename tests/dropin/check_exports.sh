#!/usr/bin/env bash
# Usage: check_exports.sh SYSTEM_LIBNCCL OUR_LIB
# Every function the installed libnccl.so.2 exports must be exported by ours too.
set -eu
sys=$1 ours=$2
missing=$(comm -23 <(nm -D --defined-only "$sys" | awk '$2 ~ /[TtWw]/ {print $3}' | sort -u) \
                   <(nm -D --defined-only "$ours" | awk '{print $3}' | sort -u))
total=$(nm -D --defined-only "$sys" | awk '$2 ~ /[TtWw]/ {print $3}' | sort -u | wc -l)
if [ -n "$missing" ]; then
  echo "FAIL: $ours does not export:"; echo "$missing"; exit 1
fi
echo "all $total functions exported by $sys are exported by $ours"
