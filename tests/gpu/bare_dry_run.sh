#!/usr/bin/env bash
# Usage: bare_dry_run.sh BUNDLE
# The dry run of a bundle on this machine, which has no GPU, as if on a bare GPU machine: a copy
# of the bundle outside the source tree runs `run.sh --bundle` in a private mount namespace
# (root) where the development packages, the build tools and the CUDA toolkit are hidden
# (empty files and folders mounted over them; controls check that they really are unusable).
# A dependency that the bundle does not carry then shows up as a FAIL. Passes when run.sh
# reports no FAIL, the bundle and host-backend steps pass (with the bundle's libhwloc) and
# every GPU step is a SKIP with its reason. Without root: "SKIP:" and exit 0.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ -z "${TCCL_IN_MOUNT_NS:-}" ]; then
  B=$(cd "${1:?usage: bare_dry_run.sh BUNDLE}" && pwd) || exit 2
  if ! unshare -m true 2> /dev/null; then
    echo "SKIP: cannot create a mount namespace (needs root): the bare dry run needs one"
    exit 0
  fi
  WORK=$(mktemp -d /tmp/tccl-bare.XXXXXX)
  cp -a "$B" "$WORK/bundle"
  TCCL_IN_MOUNT_NS=1 unshare -m --propagation private "$0" "$WORK" "$ROOT"
  rc=$?
  echo "bare_dry_run.sh: logs in $WORK/logs"
  exit $rc
fi

WORK=$1 SRC=$2
empty_file=$WORK/empty-file empty_dir=$WORK/empty-dir
: > "$empty_file"
mkdir -p "$empty_dir"
hide() {  # hide PATH...: an empty file or folder over each (their real paths)
  local p r
  for p in "$@"; do
    [ -e "$p" ] || continue
    r=$(realpath "$p")
    if [ -d "$r" ]; then mount --bind "$empty_dir" "$r"; else mount --bind "$empty_file" "$r"; fi ||
      { echo "FAIL: cannot hide $r"; exit 1; }
    echo "hidden: $p${r:+ ($r)}"
  done
}
libdir=/usr/lib/x86_64-linux-gnu
# Libraries of the development packages (and libudev, which the carried libhwloc needs),
# hwloc's plugins, their headers, the build tools, the CUDA toolkit, and the source tree.
hide $libdir/lib{hwloc,pugixml,udev,gtest,gtest_main,gmock,gmock_main}.{so,a} \
  $libdir/lib{hwloc,pugixml,udev}.so.* $libdir/hwloc \
  /usr/include/{hwloc,hwloc.h,nlohmann,pugixml.hpp,pugiconfig.hpp,CLI,gtest,gmock}
for tool in cmake ctest make ninja gcc g++ cc c++ cpp clang clang++ ld readelf objdump nm \
  pkg-config nvcc ldd numactl; do
  p=$(command -v $tool) && hide "$p"
done
hide /usr/local/cuda "$SRC"

# Controls: what is hidden is really unusable.
control() {  # control DESCRIPTION CMD...: CMD must fail
  if "${@:2}" > /dev/null 2>&1; then echo "FAIL: still usable: $1"; exit 1; fi
  echo "control: $1 fails here"
}
control "cmake --version" cmake --version
control "g++ --version" g++ --version
control "readelf --version" readelf --version
out=$(LD_PRELOAD=libhwloc.so.15 /bin/true 2>&1)
echo "$out" | grep -q "cannot be preloaded" || { echo "FAIL: the system's libhwloc still loads: $out"; exit 1; }
echo "control: LD_PRELOAD=libhwloc.so.15 fails here: $out"
control "ls /usr/local/cuda/bin/nvcc" ls /usr/local/cuda/bin/nvcc
control "ls $SRC/CMakeLists.txt" ls "$SRC/CMakeLists.txt"

echo "== $WORK/bundle/run.sh --bundle $WORK/bundle --log $WORK/logs"
"$WORK/bundle/run.sh" --bundle "$WORK/bundle" --log "$WORK/logs" | tee "$WORK/run.out"
run_rc=${PIPESTATUS[0]}
rc=0
[ "$run_rc" -eq 0 ] || { echo "FAIL: run.sh exited with $run_rc"; rc=1; }
rows=$(sed -n '/^CHECK  *RESULT/,/^total /p' "$WORK/run.out" | sed '1,2d;$d')
[ -n "$rows" ] || { echo "FAIL: run.sh printed no summary table"; exit 1; }
while read -r name result _; do
  case $name in
    bundle | perf-host-2r | db-bounce-host) want=PASS ;;
    machine | gpu-probe | torch-nccl-linkage) want=INFO ;;
    *) want=SKIP ;;
  esac
  [ "$result" = "$want" ] || { echo "FAIL: $name is $result, expected $want without a GPU"; rc=1; }
done <<< "$rows"
# The database step discovers the node through hwloc: the bundle's copy must have served it.
if grep -l "libhwloc cannot be loaded" "$WORK"/logs/*.log; then
  echo "FAIL: the bundle's libhwloc did not load in the steps above"
  rc=1
fi
grep -q "plan db:" "$WORK/logs/db-bounce-host.log" || { echo "FAIL: db-bounce-host did not use the database"; rc=1; }
[ $rc -eq 0 ] && echo "bare_dry_run.sh: OK: no FAIL; the bundle and host steps pass, every GPU step is a SKIP"
exit $rc
