#!/usr/bin/env bash
# Usage: run_without_hwloc.sh hidden|renamed APP LIBDIR DB
# Runs the -lnccl program with libtccl.so preloaded where libhwloc cannot be loaded, with a
# path database so that TCCL wants the live topology. It must start, warn once that hwloc is
# missing (NCCL_DEBUG=WARN), and compute the right results.
#   hidden:  in a private mount namespace (root) the files of libhwloc and libpugixml are
#            replaced by empty ones; a control checks that the dynamic loader cannot load
#            libhwloc there any more. Both substitutions run: LD_PRELOAD and LD_LIBRARY_PATH.
#   renamed: TCCL_HWLOC_LIBRARY names a library that does not exist (runs anywhere).
set -u
mode=$1 app=$2 libdir=$3 db=$4

check() {  # check LABEL OUTPUT: TCCL's version line, the warning, the results
  local label=$1 out=$2 ok=1
  echo "--- $label"
  echo "$out"
  echo "$out" | grep -q "TCCL version" || { echo "FAIL($label): TCCL's version line is missing"; ok=0; }
  echo "$out" | grep -q "NCCL WARN libhwloc cannot be loaded" ||
    { echo "FAIL($label): no WARN line about the missing hwloc"; ok=0; }
  echo "$out" | grep -q "0 wrong elements: OK" || { echo "FAIL($label): wrong results"; ok=0; }
  [ $ok -eq 1 ]
}

case $mode in
  renamed)
    out=$(NCCL_DEBUG=WARN TCCL_DB=$db TCCL_HWLOC_LIBRARY=libhwloc-not-installed.so.15 \
      LD_PRELOAD="$libdir/libtccl.so" "$app" 2>&1)
    check "LD_PRELOAD, TCCL_HWLOC_LIBRARY=libhwloc-not-installed.so.15" "$out"
    exit $?
    ;;
  hidden)
    if [ -z "${TCCL_IN_MOUNT_NS:-}" ]; then
      if ! unshare -m true 2>/dev/null; then
        echo "SKIP: cannot create a mount namespace (needs root): libhwloc cannot be hidden"
        exit 0
      fi
      TCCL_IN_MOUNT_NS=1 exec unshare -m "$0" "$@"
    fi
    empty=$(mktemp)
    trap 'rm -f "$empty"' EXIT
    files=$(ldconfig -p | awk '/libhwloc\.so|libpugixml\.so/ {print $NF}' | xargs -r realpath | sort -u)
    if [ -z "$files" ]; then
      echo "SKIP: libhwloc is not installed here: nothing to hide"
      exit 0
    fi
    for f in $files; do
      mount --bind "$empty" "$f" || { echo "FAIL: cannot hide $f"; exit 1; }
      echo "hidden: $f"
    done
    # Control: the loader itself can no longer load libhwloc.
    control=$(LD_PRELOAD=libhwloc.so.15 /bin/true 2>&1)
    if ! echo "$control" | grep -q "cannot be preloaded"; then
      echo "FAIL: libhwloc is still loadable; the test would prove nothing: $control"
      exit 1
    fi
    echo "control: $control"
    rc=0
    out=$(NCCL_DEBUG=WARN TCCL_DB=$db LD_PRELOAD="$libdir/libtccl.so" "$app" 2>&1)
    check "LD_PRELOAD=libtccl.so" "$out" || rc=1
    out=$(NCCL_DEBUG=WARN TCCL_DB=$db LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      "$app" 2>&1)
    check "LD_LIBRARY_PATH with libnccl.so.2" "$out" || rc=1
    exit $rc
    ;;
  *)
    echo "unknown mode $mode"
    exit 2
    ;;
esac
