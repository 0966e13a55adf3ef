#!/usr/bin/env bash
# GPU checks for a machine with one GPU (no network needed), in well under 8 minutes, run from
# the bundle that tests/gpu/prepare.sh builds on another machine (tests/gpu/README.md):
#   tests/gpu/run.sh --bundle DIR [--log LOGDIR]   runs the bundle; builds and installs nothing
#   DIR/run.sh [--log LOGDIR]                      the same: the bundle carries this script
#   tests/gpu/run.sh [--log LOGDIR]                first builds a bundle for this machine's GPU
#                                                  (prepare.sh: needs the build dependencies)
# Steps:
#   0. the machine: nvidia-smi, driver and CUDA runtime versions, kernel, NUMA nodes
#   1. the bundle: every program and library finds what it needs here
#   2. the probe: devices, CUDA IPC between processes, cudaHostRegister of shared memory
#   3. CUDA unit tests: kernels against the CPU reference (every dtype and op), stream order
#   4. 2- and 4-rank ring collectives on the one GPU over p2p and host-bounce hops, with busbw
#   5. host-bounce bandwidth against plain cudaMemcpy D2H/H2D
#   6. the pathfinder's cuda profiler: its tests, then tccl-pathfinder --live --profiler cuda
#      (calibrate, search, measure, compare with NCCL's plan)
#   7. through the library (TCCL_DEVICE=cuda): the NCCL API with device buffers on 2 and 4
#      ranks, on 4 ranks playing 2 nodes (net hops, ring and tree), ncclMemAlloc buffers
#      (device memory, cudaMemset, AllReduce, free) on 2 ranks
#   8. the host backend from the bundle: tccl-perf on 2 ranks, and the host-bounce database
#   9. torch.distributed with LD_PRELOAD (after saying how that torch reaches NCCL), also with
#      TCCL_DB naming a database whose ring is made of host-bounce hops
# A step that cannot work on this machine (no GPU, CUDA IPC refused, no torch, one NUMA node)
# is SKIP with the reason. Every step has a timeout, and the steps share a budget of
# TCCL_GPU_BUDGET seconds (420). PYTHON names the python with torch (default python3). Ends
# with a summary table; exit status 0 only when nothing failed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUNDLE="" LOG=${TCCL_GPU_LOG:-}
while [ $# -gt 0 ]; do
  case $1 in
    --bundle) BUNDLE=${2:?--bundle needs a folder}; shift 2 ;;
    --log) LOG=${2:?--log needs a folder}; shift 2 ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
# The copy of this script inside a bundle runs that bundle.
[ -z "$BUNDLE" ] && [ -x "$HERE/bin/tccl_gpu_probe" ] && BUNDLE=$HERE
BUDGET=${TCCL_GPU_BUDGET:-420}
T0=$(date +%s)
START=$T0
export NCCL_SOCKET_IFNAME=lo

declare -a NAMES RESULTS TIMES NOTES
STEP_SECS=-
record() {  # record NAME RESULT DETAIL: one row of the table (with the last step's seconds)
  NAMES+=("$1"); RESULTS+=("$2"); TIMES+=("$STEP_SECS"); NOTES+=("$3")
  echo "== $1: $2 $3"
  STEP_SECS=-
}
step() {  # step NAME TIMEOUT CMD...: output in $LOG/NAME.log; STEP_RC ok, timeout or fail(rc=N).
  # Returns 1, after recording a SKIP, when the budget has no room left for it.
  local name=$1 limit=$2; shift 2
  local left=$((BUDGET - ($(date +%s) - START)))
  if [ $left -lt 20 ]; then
    record "$name" SKIP "time budget spent (TCCL_GPU_BUDGET=$BUDGET s)"
    return 1
  fi
  [ "$limit" -gt $((left - 10)) ] && limit=$((left - 10))
  echo "== $name (timeout $limit s): $*"
  local t
  t=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" > "$LOG/$name.log" 2>&1
  local rc=$?
  STEP_SECS=$(($(date +%s) - t))
  tail -n 25 "$LOG/$name.log"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then STEP_RC=timeout; elif [ $rc -ne 0 ]; then STEP_RC="fail(rc=$rc)"; else STEP_RC=ok; fi
  return 0
}
summary() {  # the table; exit status 0 only when nothing failed
  echo
  printf '%-22s %-6s %5s  %s\n' CHECK RESULT SECS DETAIL
  printf '%-22s %-6s %5s  %s\n' ---------------------- ------ ----- ------
  local fails=0 i
  for i in "${!NAMES[@]}"; do
    printf '%-22s %-6s %5s  %s\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}" "${NOTES[$i]}"
    [ "${RESULTS[$i]}" = FAIL ] && fails=$((fails + 1))
  done
  echo "total $(($(date +%s) - T0)) s, $fails failed; logs in $LOG"
  [ $fails -eq 0 ]
  exit
}
first_error() { grep -m1 -vE "$2" "$LOG/$1.log" | cut -c1-140; }

# Without a bundle: build one for this machine's GPU first (outside the budget).
if [ -z "$BUNDLE" ]; then
  ROOT=$(cd "$HERE/../.." && pwd)
  BUILD=${TCCL_GPU_BUILD:-$ROOT/build-gpu}
  BUNDLE=$BUILD/bundle
  LOG=${LOG:-$BUILD/gpu-logs}
  mkdir -p "$LOG"
  BUDGET=100000 step build 600 env TCCL_CUDA_ARCH="${TCCL_CUDA_ARCH:-native}" TCCL_GPU_BUILD="$BUILD" \
    "$HERE/prepare.sh" "$BUNDLE"
  if [ "$STEP_RC" = ok ]; then record build PASS "bundle $BUNDLE"; else record build FAIL "$STEP_RC, see $LOG/build.log"; summary; fi
  START=$(date +%s)
fi
BUNDLE=$(cd "$BUNDLE" 2>/dev/null && pwd) || { echo "run.sh: no bundle folder $BUNDLE" >&2; exit 2; }
BIN=$BUNDLE/bin LIBDIR=$BUNDLE/lib SHARE=$BUNDLE/share
LIB=$LIBDIR/libtccl.so.0
LOG=${LOG:-$(dirname "$BUNDLE")/gpu-logs}
mkdir -p "$LOG"
LOG=$(cd "$LOG" && pwd)
# The bundle carries the build machine's libhwloc (and what it needs) for live discovery and
# NUMA binding; TCCL loads it at run time, and runs without it.
SYSTEM_LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
[ -d "$LIBDIR/hwloc" ] && export LD_LIBRARY_PATH="$LIBDIR/hwloc${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
LDSO=/lib64/ld-linux-x86-64.so.2
PYTHON=${PYTHON:-python3}
# A copy that lost its modes (some file transfers do) still runs.
for f in "$BIN"/*; do [ -x "$f" ] || chmod u+x "$f" 2> /dev/null; done

# 0. the machine
GLIBC=$(getconf GNU_LIBC_VERSION 2> /dev/null || echo "glibc ?")
NUMA_NODES=$(ls -d /sys/devices/system/node/node[0-9]* 2> /dev/null | wc -l)
[ "$NUMA_NODES" -ge 1 ] || NUMA_NODES=1
SANDBOX=""
dmesg 2> /dev/null | grep -qi gvisor && SANDBOX=", gVisor"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi 2>&1 | head -40
  SMI=$(nvidia-smi --query-gpu=name,driver_version,memory.total,pci.bus_id --format=csv,noheader 2>&1 | head -1)
  SMI="${SMI//, /; } (name; driver; memory; bus)"
else
  SMI="nvidia-smi not found"
fi
[ -f "$BUNDLE/MANIFEST" ] && sed 's/^/== bundle: /' "$BUNDLE/MANIFEST"
SHM=$(df -h /dev/shm 2> /dev/null | awk 'NR == 2 {print $2}')
record machine INFO "$SMI; $(uname -sr), $GLIBC, $(nproc) CPUs, $NUMA_NODES NUMA node(s), /dev/shm ${SHM:-?}$SANDBOX"

# 1. the bundle: every ELF file resolves its NEEDED entries (and symbol versions) here; only
# the carried libhwloc may use what is carried beside it
t=$(date +%s)
missing="" programs=0 libraries=0
for f in "$BIN"/* "$LIBDIR"/*.so* "$LIBDIR"/hwloc/*.so*; do
  [ -f "$f" ] || continue
  case $f in "$BIN"/*) programs=$((programs + 1)) ;; *) libraries=$((libraries + 1)) ;; esac
  path=$SYSTEM_LD_LIBRARY_PATH
  case $f in "$LIBDIR"/hwloc/*) path=$LD_LIBRARY_PATH ;; esac
  bad=$(LD_LIBRARY_PATH=$path "$LDSO" --list "$f" 2>&1 | grep -E 'not found|error' | head -3)
  [ -n "$bad" ] && missing+="${f#$BUNDLE/}: $(echo $bad) "
done
STEP_SECS=$(($(date +%s) - t))
if [ $programs -eq 0 ]; then record bundle FAIL "no programs in $BIN"
elif [ -n "$missing" ]; then record bundle FAIL "$missing"
else record bundle PASS "$programs programs and $libraries libraries load here"; fi

# 2. the probe
GPU_OK=no GPU_WHY="the probe did not run" IPC_WHY="the probe did not run" HREG_WHY="the probe did not run"
probe() { sed -n "s/^PROBE $1=//p" "$LOG/gpu-probe.log" | head -1; }
if [ ! -x "$BIN/tccl_gpu_probe" ]; then record gpu-probe FAIL "tccl_gpu_probe is missing from the bundle"
elif step gpu-probe 60 "$BIN/tccl_gpu_probe"; then
  reason() { echo "$1" | sed 's/^no (\(.*\))$/\1/'; }  # "no (why)" -> why
  usable=$(probe usable) ipc=$(probe ipc) hreg=$(probe host_register)
  [ "$usable" = yes ] && GPU_OK=yes || GPU_WHY="no usable CUDA device: $(reason "$usable")"
  [ "$ipc" = yes ] && IPC_WHY="" || IPC_WHY="CUDA IPC refused: $(reason "$ipc")"
  [ "$hreg" = yes ] && HREG_WHY="" || HREG_WHY="cudaHostRegister of shared memory refused: $(reason "$hreg")"
  detail="CUDA runtime $(probe cuda_runtime), driver CUDA $(probe driver), $(probe devices) device(s)"
  [ -n "$(probe device0)" ] && detail+=": $(probe device0)"
  if [ "$STEP_RC" != ok ]; then record gpu-probe FAIL "$STEP_RC; $detail"
  elif [ $GPU_OK = yes ]; then record gpu-probe INFO "$detail; ipc $ipc; host_register $hreg"
  else record gpu-probe INFO "$detail; $GPU_WHY"; fi
fi
need_gpu() { [ $GPU_OK = yes ] || { record "$1" SKIP "$GPU_WHY"; return 1; }; }
need_ipc() { need_gpu "$1" || return 1; [ -z "$IPC_WHY" ] || { record "$1" SKIP "$IPC_WHY"; return 1; }; }
need_host_register() {
  need_gpu "$1" || return 1
  [ -z "$HREG_WHY" ] || { record "$1" SKIP "$HREG_WHY"; return 1; }
}

gtest_step() {  # gtest_step NAME BINARY TIMEOUT [NOTE ARGS...]: runs everywhere (device tests
  # skip themselves); PASS needs no failure and no skip. NOTE says why ARGS leave cases out.
  local name=$1 bin=$2 limit=$3 note=${4:-}
  shift $(($# < 4 ? $# : 4))
  if [ ! -x "$bin" ]; then record "$name" FAIL "$(basename "$bin") is missing from the bundle"; return; fi
  step "$name" "$limit" "$bin" "$@" || return
  local passed skipped failed why  # the lines of the run, not of the summary: "(N ms)"
  passed=$(grep -cE '^\[       OK \] .*\([0-9]+ ms\)$' "$LOG/$name.log")
  skipped=$(grep -cE '^\[  SKIPPED \] .*\([0-9]+ ms\)$' "$LOG/$name.log")
  failed=$(grep -cE '^\[  FAILED  \] .*\([0-9]+ ms\)$' "$LOG/$name.log")
  why=$(grep -m1 -oE '(no usable CUDA device|cuda profiler unavailable)[^[]*' "$LOG/$name.log")
  if [ "$STEP_RC" != ok ]; then record "$name" FAIL "$STEP_RC, $failed failed, $passed passed"
  elif [ "$skipped" -gt 0 ]; then record "$name" SKIP "$passed passed, $skipped skipped: ${why:-see $LOG/$name.log}"
  elif [ -n "$note" ]; then record "$name" SKIP "$passed passed; $note"
  else record "$name" PASS "$passed tests"; fi
}

# 3. unit tests
gtest_step unit-host "$BIN/tccl_cuda_host_tests" 90
gtest_step unit-kernels "$BIN/tccl_cuda_kernel_tests" 150
if [ $GPU_OK = yes ] && [ -n "$IPC_WHY" ]; then
  gtest_step multirank-tests "$BIN/tccl_cuda_multirank_tests" 150 "p2p cases left out: $IPC_WHY" \
    '--gtest_filter=-*p2p*'
else
  gtest_step multirank-tests "$BIN/tccl_cuda_multirank_tests" 150
fi

# 4. collectives with busbw (below the communicator: backend + transports + executor)
for cfg in "2 p2p_write" "2 p2p_read" "2 bounce@0" "2 bounce@1" "4 p2p_write" "4 bounce@0"; do
  set -- $cfg
  name="ring-$1r-$2"
  case $2 in
    p2p*) need_ipc "$name" || continue ;;
    *) need_host_register "$name" || continue ;;
  esac
  if [ "$2" = bounce@1 ] && [ "$NUMA_NODES" -lt 2 ]; then record "$name" SKIP "one NUMA node here"; continue; fi
  step "$name" 60 "$BIN/tccl_cuda_bench" --ranks "$1" --hop "$2" --bytes 128M --iters 10 || continue
  bw=$(grep '^RESULT' "$LOG/$name.log" | sed -E 's/.*coll=([a-z]+).*busbw=([0-9.]+).*check=([A-Z]+).*/\1 \2 GB\/s \3/' | paste -sd, -)
  if [ "$STEP_RC" = ok ] && ! grep -q 'check=FAIL' "$LOG/$name.log"; then record "$name" PASS "busbw: $bw"
  else record "$name" FAIL "$STEP_RC $bw $(grep -m1 '^ERROR' "$LOG/$name.log")"; fi
done

# 5. bounce bandwidth against cudaMemcpy
name=bounce-vs-memcpy
if need_host_register $name && step $name 60 "$BIN/tccl_cuda_bench" --ranks 2 --hop bounce@0 \
  --coll broadcast --bytes 256M --iters 10 --memcpy-ratio; then
  line=$(grep '^BOUNCE_RATIO' "$LOG/$name.log")
  if [ "$STEP_RC" = ok ] && [ -n "$line" ]; then record $name PASS "${line#BOUNCE_RATIO }"
  else record $name FAIL "$STEP_RC $(grep -m1 "^ERROR" "$LOG/$name.log")"; fi
fi

# 6. profiler: its tests, then a search of this machine with measured candidates
gtest_step profiler "$BIN/tccl_cuda_profiler_tests" 90
name=pathfinder-live
# The measured flow a user runs: calibrate the model here, search it, measure the top
# candidates and NCCL's plan side by side (with one GPU only the order of the steps and the
# report's form can be checked).
if need_gpu $name && step $name 240 "$BIN/tccl-pathfinder" --live --profiler cuda \
  -o "$LOG/pathfinder-live.json" --fitted "$LOG/pathfinder-live-fitted.json"; then
  steps=$(grep -cE '^step [1-4]/4 (calibrate|search|measure|compare):' "$LOG/$name.log")
  verdict=$(grep -m1 '^measured plan/baseline:' "$LOG/$name.log")
  if [ "$STEP_RC" = ok ] && [ "$steps" -eq 4 ] && [ -n "$verdict" ]; then record $name PASS "$verdict"
  elif grep -qE 'has no GPUs|libhwloc cannot be loaded' "$LOG/$name.log"; then
    record $name SKIP "live discovery: $(grep -m1 -oE '(has no GPUs|libhwloc cannot be loaded).*' "$LOG/$name.log")"
  else record $name FAIL "$STEP_RC, $steps of 4 steps: ${verdict:-$(first_error $name '^$')}"; fi
fi

# 7. through the library
api_step() {  # api_step NAME MARKER TIMEOUT ENV... PROGRAM ARGS...
  local name=$1 marker=$2 limit=$3; shift 3
  need_host_register "$name" || return
  step "$name" "$limit" env TCCL_DEVICE=cuda "$@" || return
  local line
  line=$(grep -m1 "^$marker" "$LOG/$name.log")
  if [ "$STEP_RC" = ok ]; then record "$name" PASS "${line#$marker }"
  else record "$name" FAIL "$STEP_RC: $(first_error "$name" "^$marker")"; fi
}
for nr in 2 4; do api_step library-api-${nr}r API_RESULT 60 "$BIN/tccl_gpu_api_check" $nr; done
# Across nodes on one GPU: NCCL_HOSTID splits the ranks into 2 nodes, so the hops between
# them are sockets on lo with the GPU data staged in pinned host memory; ring and tree.
for algo in ring tree; do
  api_step library-net-4r2n-$algo API_RESULT 90 NCCL_ALGO=$algo "$BIN/tccl_gpu_api_check" 4 2
done
api_step library-memalloc-2r MEMALLOC_RESULT 60 "$BIN/tccl_gpu_memalloc_check"

# 8. the host backend from the bundle (no GPU needed): tccl-perf, and the bounce database's
# plan on 2 ranks (what the torch step below uses on the GPU)
name=perf-host-2r
if step $name 60 env TCCL_DEVICE=host "$BIN/tccl-perf" -np 2 -t all_reduce -b 8 -e 4M -f 8 -c 1; then
  bw=$(grep -m1 'Avg bus bandwidth' "$LOG/$name.log" | sed 's/.*: *//; s/ *$//')
  if [ "$STEP_RC" = ok ] && grep -q 'Out of bounds values : 0 OK' "$LOG/$name.log"; then
    record $name PASS "all_reduce 8 B..4 MiB, avg busbw $bw GB/s"
  else record $name FAIL "$STEP_RC: $(first_error $name '^#|^ *[0-9]|TCCL version')"; fi
fi
BOUNCE_DB=(TCCL_DB="$SHARE/bounce-2gpu.json" TCCL_DB_NODE=gpu-bounce-2 TCCL_DB_STRICT=1)
bounce_plan() {  # bounce_plan LOGNAME: the channel lines of the database's plan, if it ran
  grep -m1 -oE 'send bounce@[^ ]+ \[plan db:[^]]*\]' "$LOG/$1.log" | sed 's|db:.*/|db:|'
}
name=db-bounce-host
if step $name 60 env TCCL_DEVICE=host NCCL_DEBUG=INFO "${BOUNCE_DB[@]}" "$BIN/tccl-perf" -np 2 \
  -t all_reduce -b 1M -e 1M -c 1; then
  plan=$(bounce_plan $name)
  if [ "$STEP_RC" = ok ] && [ -n "$plan" ]; then record $name PASS "$plan"
  else record $name FAIL "$STEP_RC: ${plan:-the plan of the database was not used}"; fi
fi

# 9. torch. How the torch that $PYTHON finds reaches NCCL: through a libnccl.so.2 it loads
# (stock CUDA wheels: the nvidia-nccl wheel's, by RPATH), which LD_PRELOAD replaces and
# LD_LIBRARY_PATH does not; or linked in statically, which nothing replaces.
torch_nccl_linkage() {
  local out
  out=$(timeout 120 "$PYTHON" "$SHARE/torch_check.py" --linkage 2>&1) && { echo "$out" | tail -1; return; }
  if "$PYTHON" -c 'import torch' 2> /dev/null; then echo "none: torch_check.py --linkage failed: $(echo "$out" | tail -1)"
  else echo "none: $PYTHON has no torch"; fi
}
linkage=$(torch_nccl_linkage)
record torch-nccl-linkage INFO "$linkage"
torch_step() {  # torch_step NAME ENV...: torch_check.py on 2 processes with libtccl.so preloaded
  local name=$1; shift
  if [ "${linkage%%:*}" != dynamic ]; then record "$name" SKIP "${linkage#*: }"; return; fi
  need_host_register "$name" || return
  step "$name" 150 env LD_PRELOAD="$LIB" TCCL_DEVICE=cuda "$@" "$PYTHON" "$SHARE/torch_check.py" || return
  local checks ours plan=""
  checks=$(grep '^TORCH_CHECK' "$LOG/$name.log" | awk '{print $2"="$3}' | paste -sd' ' -)
  if grep -q 'TCCL version' "$LOG/$name.log"; then ours="TCCL in use"; else ours="TCCL NOT in use"; fi
  local ok=""
  [ "$STEP_RC" = ok ] && [ "$ours" = "TCCL in use" ] && ok=yes
  if [[ " $* " == *" TCCL_DB="* ]]; then
    plan=$(bounce_plan "$name")
    [ -n "$plan" ] || { ok=""; plan="the bounce plan of the database was not used"; }
    plan="; $plan"
  fi
  if [ -n "$ok" ]; then record "$name" PASS "$ours; $checks$plan"
  else record "$name" FAIL "$STEP_RC; $ours; $checks$plan"; fi
}
torch_step torch NCCL_DEBUG=VERSION
torch_step torch-bounce-db NCCL_DEBUG=INFO "${BOUNCE_DB[@]}"

summary
