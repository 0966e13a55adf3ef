#!/usr/bin/env bash
# AllReduce bus bandwidth across 2 nodes (network namespaces, one rank each) whose veth links
# are limited to RATE with tc (default 10gbit), with tccl-perf. Side by side in the same run it
# measures what plain TCP reaches on the same links (2 streams each way, both directions at
# once, as an AllReduce needs), so the figures separate TCCL's overhead from the machine's. It
# prints the first run's nccl-tests table, then per size the median over REPS runs as a
# fraction of the link rate and of that TCP ceiling. Needs root (ip netns) and python3 (for
# the TCP streams). Usage:
#   bench/netns_allreduce.sh [BUILD_DIR] [RATE] [tccl-perf options, default -b 64M -e 512M -f 2 -n 10 -w 3]
# Knobs pass through the environment of this script, e.g. NCCL_SOCKET_NTHREADS=1; MTU=9000
# gives the links jumbo frames (default 1500); REPS=3 runs (default).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
rate=${2:-10gbit}
shift $(($# > 2 ? 2 : $#))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(-b 64M -e 512M -f 2 -n 10 -w 3)
reps=${REPS:-3}
perf=$build/bin/tccl-perf
[ -x "$perf" ] || { echo "no $perf: build the tccl-perf target first" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed for the TCP baseline" >&2; exit 1; }
envs=()
for v in NCCL_SOCKET_NTHREADS NCCL_NSOCKS_PERTHREAD TCCL_CHUNK_SIZE TCCL_FIFO_SLOTS NCCL_DEBUG; do
  [ -z "${!v:-}" ] || envs+=(--env "$v=${!v}")
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
netns() { "$here/tests/netns/run_netns.sh" --nodes 2 --ranks-per-node 1 --rate "$rate" \
  --mtu "${MTU:-1500}" --timeout 300 --logs "$out" "$@" >/dev/null; }

# Plain TCP: each node sends 2 GB to the other over 2 sockets while receiving as much.
cat > "$out/tcp.py" <<'EOF'
import os, socket, threading, time
rank = int(os.environ["RANK"]); peer = 1 - rank
total, nsock, chunk = 2 * 10**9, 2, 1 << 20
listener = socket.create_server((f"10.77.0.{rank + 1}", 29600), backlog=nsock)
def connect():
    for _ in range(100):
        try: return socket.create_connection((f"10.77.0.{peer + 1}", 29600))
        except OSError: time.sleep(0.05)
    raise SystemExit("cannot connect to the peer")
outs = [connect() for _ in range(nsock)]
ins = [listener.accept()[0] for _ in range(nsock)]
def send(s):
    buf, left = memoryview(bytearray(chunk)), total // nsock
    while left > 0:
        n = min(left, chunk); s.sendall(buf[:n]); left -= n
def recv(s):
    buf, left = bytearray(chunk), total // nsock
    while left > 0:
        n = s.recv_into(buf, min(left, chunk))
        if n == 0: raise SystemExit("peer closed early")
        left -= n
start = time.time()
threads = [threading.Thread(target=send, args=(s,)) for s in outs] + \
          [threading.Thread(target=recv, args=(s,)) for s in ins]
for t in threads: t.start()
for t in threads: t.join()
print(f"TCP {total / (time.time() - start) / 1e9:.3f}")
EOF
netns -- python3 "$out/tcp.py" || { cat "$out"/rank*.log; exit 1; }
tcp=$(awk '/^TCP / { print $2 }' "$out/rank0.log")

for ((k = 1; k <= reps; ++k)); do
  netns "${envs[@]}" -- "$perf" -t all_reduce -c 1 "${sizes[@]}" || { cat "$out"/rank*.log; exit 1; }
  [ $k -gt 1 ] || grep -v "INFO" "$out/rank0.log"
  grep -E '^ +[0-9]+ +[0-9]+ +float' "$out/rank0.log" >> "$out/all"
done
echo "plain TCP on these links, both directions at once: $tcp GB/s each way"
echo "medians over $reps runs:"
sort -n -k1,1 "$out/all" | awk -v rate="$rate" -v tcp="$tcp" '
  BEGIN { r = rate; m = 1; if (r ~ /gbit$/) m = 1e9; else if (r ~ /mbit$/) m = 1e6; sub(/[a-z]+$/, "", r)
          link = r * m / 8 / 1e9 }
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; ++i) for (j = i; j > 1 && a[j - 1] > a[j]; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function flush() {
    if (!n) return
    o = median(oop, n); p = median(ip, n)
    printf "%5d MiB: busbw %.2f GB/s out of place (%.0f%% of %s, %.0f%% of TCP), %.2f GB/s in place (%.0f%%, %.0f%%); runs min %.2f max %.2f\n",
           size / 1048576, o, o / link * 100, rate, o / tcp * 100, p, p / link * 100, p / tcp * 100, lo, hi
  }
  $1 >= 67108864 {
    if ($1 != size) { flush(); size = $1; n = 0; lo = 1e9; hi = 0 }
    ++n; oop[n] = $8; ip[n] = $12
    for (v = 8; v <= 12; v += 4) { if ($v < lo) lo = $v; if ($v > hi) hi = $v }
  }
  END { flush() }'
