#!/usr/bin/env bash
# Every function that src/api exports must end in TCCL_API_CATCH or TCCL_API_CATCH_RETURN (a
# function-try-block): no exception may reach the C caller. Counts exported definitions
# (NCCL_API declarations and extern "C" definitions) against the catch clauses, per file.
set -euo pipefail
api=${1:?usage: check_api_guard.sh SRC_API_DIR}
bad=0
for f in "$api"/*.cc; do
  exported=$(grep -cE '^NCCL_API\(|^extern "C" __attribute__\(\(visibility\("default"\)\)\)' "$f" || true)
  guarded=$(grep -cE '^TCCL_API_CATCH(_RETURN\(.*\))?$' "$f" || true)
  if [ "$exported" != "$guarded" ]; then
    echo "$f: $exported exported functions but $guarded end in TCCL_API_CATCH"
    bad=1
  fi
done
[ $bad -eq 0 ] && echo "every exported function of $api catches exceptions"
exit $bad
