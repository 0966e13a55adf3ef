#!/usr/bin/env bash
# GPU checks for a machine with one GPU (no network needed), in under 8 minutes:
#   1. Release build of libtccl.so and the CUDA tests
#   2. CUDA unit tests: kernels against the CPU reference (every dtype and op), stream order
#   3. 2- and 4-rank ring collectives on the one GPU over p2p and host-bounce hops, with busbw
#   4. host-bounce bandwidth against plain cudaMemcpy D2H/H2D
#   5. the pathfinder's cuda profiler
#   6. through the library (TCCL_DEVICE=cuda): the NCCL API with device buffers on 2 and 4
#      ranks, on 4 ranks playing 2 nodes (net hops, ring and tree), and torch.distributed
#      with LD_PRELOAD when python3 has torch
#   7. tccl-pathfinder --live --profiler cuda: calibrate, search, measure, compare with NCCL's
#      plan (with one GPU only the order of the steps and the report's form can be checked)
# Ends with a summary table; exit status 0 only when nothing failed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${TCCL_GPU_BUILD:-$ROOT/build-gpu}
LOG=${TCCL_GPU_LOG:-$BUILD/gpu-logs}
JOBS=${JOBS:-$(nproc)}
ARCH=${TCCL_CUDA_ARCH:-native}   # one architecture: the build must fit the time budget
export NCCL_SOCKET_IFNAME=lo
mkdir -p "$LOG"
declare -a NAMES RESULTS NOTES
record() { NAMES+=("$1"); RESULTS+=("$2"); NOTES+=("$3"); echo "== $1: $2 $3"; }
step() {  # step NAME TIMEOUT CMD...: PASS / FAIL (rc) / TIMEOUT, output in $LOG/NAME.log
  local name=$1 limit=$2; shift 2
  echo "== $name: $*"
  timeout --kill-after=10 "$limit" "$@" > "$LOG/$name.log" 2>&1
  local rc=$?
  tail -n 25 "$LOG/$name.log"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then STEP_RC=timeout; elif [ $rc -ne 0 ]; then STEP_RC="fail(rc=$rc)"; else STEP_RC=ok; fi
}
START=$(date +%s)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1

# 1. build
step build 360 bash -c "cmake -S '$ROOT' -B '$BUILD' -DCMAKE_BUILD_TYPE=Release -DTCCL_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=$ARCH >/dev/null && cmake --build '$BUILD' -j$JOBS --target tccl \
  tccl_cuda_host_tests tccl_cuda_kernel_tests tccl_cuda_multirank_tests tccl_cuda_bench \
  tccl_gpu_api_check tccl-pathfinder \$(cmake --build '$BUILD' --target help | grep -oE 'tccl_cuda_profiler_tests' | sort -u)"
if [ "$STEP_RC" != ok ]; then record build FAIL "$STEP_RC, see $LOG/build.log"; else record build PASS "$(($(date +%s)-START)) s"; fi
T=$BUILD/tests/cuda

gtest_step() {  # gtest_step NAME BINARY TIMEOUT: PASS needs no failure and no skip
  local name=$1 bin=$2 limit=$3
  if [ ! -x "$bin" ]; then record "$name" FAIL "not built"; return; fi
  step "$name" "$limit" "$bin"
  local passed skipped failed
  passed=$(grep -c '^\[       OK \]' "$LOG/$name.log"); skipped=$(grep -c '^\[  SKIPPED \]' "$LOG/$name.log")
  failed=$(grep -c '^\[  FAILED  \]' "$LOG/$name.log")
  if [ "$STEP_RC" = ok ] && [ "$skipped" -eq 0 ]; then record "$name" PASS "$passed tests"
  elif [ "$STEP_RC" = ok ]; then record "$name" SKIP "$skipped skipped: $(grep -m1 'no usable' "$LOG/$name.log")"
  else record "$name" FAIL "$STEP_RC, $failed failed"; fi
}

# 2. unit tests
gtest_step unit-host "$T/tccl_cuda_host_tests" 120
gtest_step unit-kernels "$T/tccl_cuda_kernel_tests" 240
gtest_step multirank-tests "$T/tccl_cuda_multirank_tests" 300

# 3. collectives with busbw (below the communicator: backend + transports + executor)
for cfg in "2 p2p_write" "2 p2p_read" "2 bounce@0" "4 p2p_write" "4 bounce@0"; do
  set -- $cfg
  name="ring-$1r-$2"
  if [ ! -x "$T/tccl_cuda_bench" ]; then record "$name" FAIL "not built"; continue; fi
  step "$name" 120 "$T/tccl_cuda_bench" --ranks "$1" --hop "$2" --bytes 128M --iters 10
  bw=$(grep '^RESULT' "$LOG/$name.log" | sed -E 's/.*coll=([a-z]+).*busbw=([0-9.]+).*check=([A-Z]+).*/\1 \2 GB\/s \3/' | paste -sd, -)
  if [ "$STEP_RC" = ok ] && ! grep -q 'check=FAIL' "$LOG/$name.log"; then record "$name" PASS "busbw: $bw"
  else record "$name" FAIL "$STEP_RC $bw"; fi
done

# 4. bounce bandwidth against cudaMemcpy
name=bounce-vs-memcpy
step "$name" 120 "$T/tccl_cuda_bench" --ranks 2 --hop bounce@0 --coll broadcast --bytes 256M --iters 10 --memcpy-ratio
line=$(grep '^BOUNCE_RATIO' "$LOG/$name.log")
if [ "$STEP_RC" = ok ] && [ -n "$line" ]; then record "$name" PASS "${line#BOUNCE_RATIO }"; else record "$name" FAIL "$STEP_RC"; fi

# 5. profiler
if [ -x "$T/tccl_cuda_profiler_tests" ]; then gtest_step profiler "$T/tccl_cuda_profiler_tests" 120
else record profiler SKIP "pathfinder/cuda_profiler.cu not built (no tccl_model target)"; fi

# 6. through the library
LIB=$BUILD/lib/libtccl.so
for nr in 2 4; do
  name=library-api-${nr}r
  if [ ! -x "$T/tccl_gpu_api_check" ]; then record "$name" FAIL "not built"; continue; fi
  step "$name" 120 env TCCL_DEVICE=cuda "$T/tccl_gpu_api_check" $nr
  line=$(grep -m1 '^API_RESULT' "$LOG/$name.log")
  if [ "$STEP_RC" = ok ]; then record "$name" PASS "${line#API_RESULT }"
  else record "$name" FAIL "$STEP_RC: $(grep -m1 -vE '^API_RESULT' "$LOG/$name.log" | cut -c1-120)"; fi
done
# Across nodes on one GPU: NCCL_HOSTID splits the ranks into 2 nodes, so the hops between
# them are sockets on lo with the GPU data staged in pinned host memory; ring and tree.
for algo in ring tree; do
  name=library-net-4r2n-$algo
  if [ ! -x "$T/tccl_gpu_api_check" ]; then record "$name" FAIL "not built"; continue; fi
  step "$name" 150 env TCCL_DEVICE=cuda NCCL_ALGO=$algo "$T/tccl_gpu_api_check" 4 2
  line=$(grep -m1 '^API_RESULT' "$LOG/$name.log")
  if [ "$STEP_RC" = ok ]; then record "$name" PASS "${line#API_RESULT }"
  else record "$name" FAIL "$STEP_RC: $(grep -m1 -vE '^API_RESULT' "$LOG/$name.log" | cut -c1-120)"; fi
done
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  name=torch
  step "$name" 180 env LD_PRELOAD="$LIB" NCCL_DEBUG=VERSION TCCL_DEVICE=cuda python3 "$ROOT/tests/gpu/torch_check.py"
  checks=$(grep '^TORCH_CHECK' "$LOG/$name.log" | awk '{print $2"="$3}' | paste -sd' ' -)
  if grep -q 'TCCL version' "$LOG/$name.log"; then ours="TCCL in use"; else ours="TCCL NOT in use"; fi
  if [ "$STEP_RC" = ok ] && [ "$ours" = "TCCL in use" ]; then record "$name" PASS "$ours; $checks"
  else record "$name" FAIL "$STEP_RC; $ours; $checks"; fi
else
  record torch SKIP "python3 with CUDA torch not found"
fi

# 7. the pathfinder's measured flow on this machine
name=pathfinder-live
if [ -x "$BUILD/bin/tccl-pathfinder" ]; then
  step "$name" 240 "$BUILD/bin/tccl-pathfinder" --live --profiler cuda -q -o "$LOG/node.json"
  steps=$(grep -cE '^step [1-4]/4 (calibrate|search|measure|compare):' "$LOG/$name.log")
  verdict=$(grep -m1 '^measured plan/baseline:' "$LOG/$name.log")
  if [ "$STEP_RC" = ok ] && [ "$steps" -eq 4 ] && [ -n "$verdict" ]; then record "$name" PASS "$verdict"
  else record "$name" FAIL "$STEP_RC, $steps of 4 steps, ${verdict:-no verdict}"; fi
else
  record "$name" FAIL "tccl-pathfinder not built"
fi

echo
printf '%-22s %-6s %s\n' CHECK RESULT DETAIL
printf '%-22s %-6s %s\n' ---------------------- ------ ------
fails=0
for i in "${!NAMES[@]}"; do
  printf '%-22s %-6s %s\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${NOTES[$i]}"
  [ "${RESULTS[$i]}" = FAIL ] && fails=$((fails+1))
done
echo "total $(($(date +%s)-START)) s, $fails failed; logs in $LOG"
[ $fails -eq 0 ]
