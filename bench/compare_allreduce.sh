#!/usr/bin/env bash
# Allreduce bus bandwidth on the host backend, side by side: Open MPI, Gloo and TCCL (tccl-perf),
# float sum, out of place, 1 MiB .. 256 MiB doubling, for 2 and 4 local ranks.
#
#   bench/compare_allreduce.sh [BUILD_DIR]        (default: build; about 1-2 minutes on 2 cores)
#
# Environment: RANKS="2 4", MIN=1M, MAX=256M; MPIRUN, MPI_BENCH, GLOO_BENCH, TCCL_PERF override
# the programs. Every library runs the same iteration counts per size (bench/bench_common.h:
# ~512 MiB per size, 2..20 iterations, 1 warm-up); busbw = algbw * 2(n-1)/n, GB/s = 1e9 B/s.
# The libraries run interleaved, one size at a time, so that they see the same machine load.
# A library that is missing or fails shows as "-" and the script goes on.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../build}
ranks=${RANKS:-2 4}
min=${MIN:-1M}
max=${MAX:-256M}
read -ra mpirun_cmd <<<"${MPIRUN:-mpirun --allow-run-as-root --oversubscribe}"
mpi_bench=${MPI_BENCH:-$build/bin/mpi_allreduce}
gloo_bench=${GLOO_BENCH:-$build/bin/gloo_allreduce}
tccl_perf=${TCCL_PERF:-$build/bin/tccl-perf}
run_timeout=${RUN_TIMEOUT:-150}  # seconds, per program run

bytes() {  # 1M -> 1048576
  numfmt --from=iec "$1"
}

iters_for() {  # same rule as bench::itersFor
  local n=$(((512 << 20) / $1))
  ((n < 2)) && n=2
  ((n > 20)) && n=20
  echo "$n"
}

sizes=()
for ((s = $(bytes "$min"); s <= $(bytes "$max"); s *= 2)); do sizes+=("$s"); done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Each function runs one size and prints "size busbw"; a failed run leaves a note on stderr.
have_mpi=1 have_gloo=1 have_tccl=1
if [[ ! -x $mpi_bench ]] || ! command -v "${mpirun_cmd[0]}" >/dev/null; then
  echo "compare: no MPI benchmark ($mpi_bench) or no ${mpirun_cmd[0]}, skipping MPI" >&2
  have_mpi=0
fi
if [[ ! -x $gloo_bench ]]; then
  echo "compare: no Gloo benchmark ($gloo_bench), skipping Gloo" >&2
  have_gloo=0
fi
if [[ ! -x $tccl_perf ]]; then
  echo "compare: no tccl-perf ($tccl_perf), skipping TCCL" >&2
  have_tccl=0
fi

run_mpi() {  # ranks size
  ((have_mpi)) || return 0
  timeout "$run_timeout" "${mpirun_cmd[@]}" -np "$1" "$mpi_bench" -b "$2" -e "$2" \
    >"$tmp/out" 2>"$tmp/err" || echo "compare: mpi_allreduce -np $1 -b $2: $(tail -3 "$tmp/err")" >&2
  awk '!/^#/ && NF == 5 { print $1, $5 }' "$tmp/out"
}

run_gloo() {  # ranks size
  ((have_gloo)) || return 0
  timeout "$run_timeout" "$gloo_bench" --np "$1" -b "$2" -e "$2" \
    >"$tmp/out" 2>"$tmp/err" || echo "compare: gloo_allreduce --np $1 -b $2: $(tail -3 "$tmp/err")" >&2
  awk '!/^#/ && NF == 5 { print $1, $5 }' "$tmp/out"
}

# tccl-perf gets the same iteration count as the others (-n, -w 1); its out-of-place busbw is
# column 8 of nccl-tests' table.
run_tccl() {  # ranks size memalloc(0|1)
  ((have_tccl)) || return 0
  TCCL_PERF_MEMALLOC=$3 timeout "$run_timeout" "$tccl_perf" -np "$1" -t all_reduce -d float -o sum -b "$2" -e "$2" -f 2 \
    -c 0 -n "$(iters_for "$2")" -w 1 >"$tmp/out" 2>"$tmp/err" ||
    echo "compare: tccl-perf -np $1 -b $2: $(tail -3 "$tmp/err")" >&2
  awk '!/^#/ && NF >= 13 { print $1, $8 }' "$tmp/out"
}

busbw() {  # "size busbw" lines on stdin -> busbw of size $1, or "-"
  awk -v s="$1" 'BEGIN { v = "-" } $1 == s { v = $2 } END { print v }'
}

for n in $ranks; do
  echo
  echo "# allreduce float sum, $n ranks, busbw in GB/s (host backend, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
  # tccl: user buffers from malloc, like the others; tccl-shm: from ncclMemAlloc, which peers
  # map directly (the direct AllReduce). Ratios are against the better of MPI and Gloo.
  printf '%12s  %8s  %8s  %8s  %8s  %10s  %10s\n' "size(B)" "mpi" "gloo" "tccl" "tccl-shm" "tccl/best" "shm/best"
  for s in "${sizes[@]}"; do
    m=$(run_mpi "$n" "$s" | busbw "$s")
    g=$(run_gloo "$n" "$s" | busbw "$s")
    t=$(run_tccl "$n" "$s" 0 | busbw "$s")
    h=$(run_tccl "$n" "$s" 1 | busbw "$s")
    awk -v s="$s" -v m="$m" -v g="$g" -v t="$t" -v h="$h" 'BEGIN {
      best = (m == "-") ? g : (g == "-" || m + 0 > g + 0) ? m : g
      r1 = (t == "-" || best == "-" || best + 0 == 0) ? "-" : sprintf("%.2f", t / best)
      r2 = (h == "-" || best == "-" || best + 0 == 0) ? "-" : sprintf("%.2f", h / best)
      printf "%12s  %8s  %8s  %8s  %8s  %10s  %10s\n", s, m, g, t, h, r1, r2
    }'
  done
done
