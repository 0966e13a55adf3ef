#!/usr/bin/env bash
# Builds the GPU checks into one self-contained folder, the bundle, on a machine with the build
# dependencies (no GPU needed), so that a bare GPU machine runs them without building or
# installing anything: BUNDLE/run.sh, or tests/gpu/run.sh --bundle BUNDLE (tests/gpu/README.md).
#   tests/gpu/prepare.sh [BUNDLE]      default BUNDLE: $TCCL_GPU_BUILD/bundle
# TCCL_CUDA_ARCH: the one CUDA architecture (default 90, the H100/H200; "native" = this
# machine's GPU); TCCL_GPU_BUILD: the Release build folder (default build-gpu); JOBS.
# The bundle:
#   bin/        CUDA test programs (GoogleTest linked in), the bench, the probe, the NCCL API
#               checks, tccl-perf, tccl-pathfinder (with the cuda profiler), tccl-db; their
#               RUNPATH is $ORIGIN/../lib
#   lib/        libtccl.so.0 and libnccl.so.2 (CUDA runtime and pugixml linked in)
#   lib/hwloc/  this machine's libhwloc.so.15 and what it needs beyond the C library: TCCL
#               loads it at run time for live discovery and NUMA binding, and runs without it
#   share/      torch_check.py and the host-bounce database of the torch step
#   run.sh, MANIFEST
# Then check_bundle.sh checks its size (< 48 MiB) and the NEEDED entries of every ELF file.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${TCCL_GPU_BUILD:-$ROOT/build-gpu}
OUT=${1:-$BUILD/bundle}
ARCH=${TCCL_CUDA_ARCH:-90}
JOBS=${JOBS:-$(nproc)}
start=$(date +%s)

mkdir -p "$BUILD"
generator=()
[ ! -f "$BUILD/CMakeCache.txt" ] && command -v ninja > /dev/null && generator=(-G Ninja)
# One architecture, compressed device code (a fraction of the size), and programs that find
# the bundle's libtccl.so.0 next to them.
cmake -S "$ROOT" -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DTCCL_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DCMAKE_CUDA_FLAGS="-Xfatbin=-compress-all" \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH='$ORIGIN/../lib' > "$BUILD/configure.log" ||
  { cat "$BUILD/configure.log"; exit 1; }
grep -q 'TCCL CUDA backend: ON' "$BUILD/configure.log" ||
  { echo "prepare.sh: the CUDA backend is off (no nvcc?): a GPU bundle needs it" >&2; exit 1; }
programs=(tccl_gpu_probe tccl_cuda_host_tests tccl_cuda_kernel_tests tccl_cuda_multirank_tests
  tccl_cuda_bench tccl_cuda_profiler_tests tccl_gpu_api_check tccl_gpu_memalloc_check tccl-perf
  tccl-pathfinder tccl-db)
cmake --build "$BUILD" -j"$JOBS" --target tccl tccl_nccl "${programs[@]}"
built=$(date +%s)

rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/lib/hwloc" "$OUT/share"
for p in "${programs[@]}"; do cp "$BUILD/bin/$p" "$OUT/bin/"; done
cp -L "$BUILD/lib/libtccl.so.0" "$BUILD/lib/libnccl.so.2" "$OUT/lib/"
# libhwloc as the loader finds it here, with its dependencies outside the C/C++ runtime.
hwloc=$(ldconfig -p | awk '$1 == "libhwloc.so.15" && /x86-64/ {print $NF; exit}')
[ -n "$hwloc" ] || { echo "prepare.sh: libhwloc.so.15 not found (install libhwloc15)" >&2; exit 1; }
cp -L "$hwloc" "$OUT/lib/hwloc/libhwloc.so.15"
ldd "$hwloc" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | while read -r soname path; do
  case $soname in
    libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | ld-linux*) ;;
    *) cp -L "$path" "$OUT/lib/hwloc/$soname" ;;
  esac
done
cp "$HERE/run.sh" "$OUT/"
cp "$HERE/torch_check.py" "$HERE/bounce-2gpu.json" "$OUT/share/"
{
  echo "tccl $(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")," \
    "commit $(git -C "$ROOT" rev-parse --short HEAD 2> /dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2> /dev/null || echo +changes)"
  nvcc=$(sed -n 's/^CMAKE_CUDA_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
  cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME")" \
    "with nvcc $("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p') and" \
    "$(basename "$cxx") $("$cxx" -dumpfullversion), CUDA architecture $ARCH, Release"
  echo "hwloc: $(basename "$(readlink -f "$hwloc")")"
} > "$OUT/MANIFEST"

"$HERE/check_bundle.sh" "$OUT" | tee "$BUILD/check_bundle.log"
sed -n 's/^requires: /needs: /p' "$BUILD/check_bundle.log" >> "$OUT/MANIFEST"
echo "prepare.sh: bundle $OUT ready: build $((built - start)) s, in all $(($(date +%s) - start)) s"
