#!/usr/bin/env bash
# AllReduce across 2 nodes (network namespaces, one rank each) with tccl-perf, beside plain TCP
# on the same links: bus bandwidth and CPU cost per byte moved, so the figures separate TCCL's
# overhead from the machine's. Needs root (ip netns) and python3 (TCP streams, CPU accounting).
#
#   bench/netns_allreduce.sh [--net builtin|plugin|both] [BUILD_DIR] [RATE] [tccl-perf options,
#                            default -b 64M -e 512M -f 2 -n 10 -w 3]
#
# --net: the network of the NIC hops. builtin (default): TCCL's own TCP transport (Socket).
# plugin: the same AllReduce through an NCCL net plugin, by default the in-tree test plugin
# (PLUGIN=BUILD_DIR/tests/net_plugin/plugins/libnccl-net-tcptest.so, PLUGIN_NET=TestTCP; build
# the tccl_testnet_tcptest target); both: builtin and plugin alternate within every round and
# the summary ends with their busbw side by side. Every run must log its NIC hops on the
# expected network (NCCL_DEBUG=INFO is set for that; its lines stay out of the tables).
#
# RATE: tc tbf limit of every node's link (default 10gbit, e.g. 25gbit), or "raw" for plain
# veth without a limit (there the CPU, not the link, is the bound).
# Every one of REPS rounds (default 3) measures, one after another:
#   - plain TCP: each node sends 2 GB to the other over 2 sockets while receiving as much (both
#     directions at once, as a 2-rank AllReduce loads the links); bandwidth each way, and the
#     CPU time of both processes during the transfer (user + system, all threads);
#   - tccl-perf over the given sizes (the nccl-tests table of the first round is printed);
#   - the CPU cost of AllReduce at CPU_BYTES (default 256M): two tccl-perf runs without data
#     check that differ only in their iteration count; the difference in CPU time of both rank
#     processes over the difference in bytes moved is the cost per GB of the collective alone
#     (no init, no buffer set-up).
# "CPU s/GB" is CPU-seconds of both processes per GB sent by both (each GB sent is also
# received), so TCP and TCCL are counted alike. "machine" is the same from /proc/stat: every
# core's busy time, which adds softirq work run outside the processes and anyone else's load.
#
# Environment: REPS; MTU=9000 for jumbo frames (default 1500); CPU_BYTES; BASELINE=BUILD_DIR
# runs that build's tccl-perf too, in the same rounds (before/after side by side);
# PROFILE=FILE records rank 0 with `perf record` in one extra run at CPU_BYTES and writes the
# top symbols to FILE (the raw data to FILE.data). NCCL_SOCKET_NTHREADS, NCCL_NSOCKS_PERTHREAD,
# TCCL_CHUNK_SIZE, TCCL_FIFO_SLOTS, NCCL_DEBUG, NCCL_LOCAL_REGISTER and the test plugin's
# TCCL_TESTNET_MAX_REQUESTS pass through to the ranks. REGISTER=1 runs every tccl-perf with -R 1
# (buffers registered with ncclCommRegister: a plugin hop may then send straight from them).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
netMode=builtin
if [ "${1:-}" = --net ]; then
  netMode=${2:?--net needs builtin, plugin or both}
  shift 2
fi
case $netMode in
  builtin) nets=(builtin) ;;
  plugin) nets=(plugin) ;;
  both) nets=(builtin plugin) ;;
  *) echo "--net $netMode: expected builtin, plugin or both" >&2; exit 2 ;;
esac
build=${1:-$here/build}
rate=${2:-10gbit}
shift $(($# > 2 ? 2 : $#))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(-b 64M -e 512M -f 2 -n 10 -w 3)
reps=${REPS:-3}
cpuBytes=${CPU_BYTES:-256M}
register=()
[ "${REGISTER:-0}" = 0 ] || register=(-R "$REGISTER")
plugin=${PLUGIN:-$build/tests/net_plugin/plugins/libnccl-net-tcptest.so}
pluginNet=${PLUGIN_NET:-TestTCP}
# One configuration per (build, network); labels without spaces.
builds=(tccl)
buildPerfs=("$build/bin/tccl-perf")
if [ -n "${BASELINE:-}" ]; then
  builds=(baseline tccl)
  buildPerfs=("$BASELINE/bin/tccl-perf" "$build/bin/tccl-perf")
fi
labels=() perfs=() netOf=()
for ((i = 0; i < ${#builds[@]}; ++i)); do
  for n in "${nets[@]}"; do
    label=${builds[$i]}
    [ ${#nets[@]} = 1 ] && [ "$n" = builtin ] || label=$label-$n
    labels+=("$label") perfs+=("${buildPerfs[$i]}") netOf+=("$n")
  done
done
for p in "${perfs[@]}"; do
  [ -x "$p" ] || { echo "no $p: build the tccl-perf target first" >&2; exit 1; }
done
if [ "$netMode" != builtin ] && [ ! -f "$plugin" ]; then
  echo "no $plugin: build the tccl_testnet_tcptest target, or set PLUGIN" >&2
  exit 1
fi
command -v python3 >/dev/null || { echo "python3 is needed for the TCP baseline" >&2; exit 1; }
if [ -n "${PROFILE:-}" ]; then
  command -v perf >/dev/null || { echo "PROFILE needs perf (Debian: linux-perf)" >&2; exit 1; }
fi
envs=()
for v in NCCL_SOCKET_NTHREADS NCCL_NSOCKS_PERTHREAD TCCL_CHUNK_SIZE TCCL_FIFO_SLOTS \
  TCCL_TESTNET_MAX_REQUESTS NCCL_LOCAL_REGISTER; do
  [ -z "${!v:-}" ] || envs+=(--env "$v=${!v}")
done
envs+=(--env "NCCL_DEBUG=${NCCL_DEBUG:-INFO}" --env "NCCL_DEBUG_SUBSYS=${NCCL_DEBUG_SUBSYS:-INIT,NET}")
# The environment of configuration $1 and the name its NIC hops log ("via NET/<name>").
netEnv() {
  if [ "${netOf[$1]}" = plugin ]; then
    echo "--env NCCL_NET_PLUGIN=$plugin --env NCCL_NET=$pluginNet"
  fi
}
netName() { [ "${netOf[$1]}" = plugin ] && echo "$pluginNet" || echo Socket; }
tcArgs=(--rate "$rate")
[ "$rate" != raw ] || tcArgs=()
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
netns() { "$here/tests/netns/run_netns.sh" --nodes 2 --ranks-per-node 1 "${tcArgs[@]}" \
  --mtu "${MTU:-1500}" --timeout 600 --logs "$out" "$@" >/dev/null || { cat "$out"/rank*.log; exit 1; }; }
# Configuration $1's run must have gone through its network (a plugin that fails to load would
# otherwise fall back to Socket unnoticed, were NCCL_NET not set).
checkNet() {
  local want
  want=$(netName "$1")
  if [ "${NCCL_DEBUG:-INFO}" = INFO ] && ! grep -q -E "via NET/$want( |\$)" "$out/rank0.log"; then
    echo "${labels[$1]}: rank 0 logged no NIC hop via NET/$want:" >&2
    grep -E "Using network|via NET|WARN" "$out/rank0.log" >&2 || true
    exit 1
  fi
}

# Machine-wide busy CPU seconds (user, nice, system, irq, softirq; not idle, iowait, steal).
cat > "$out/busy.py" <<'EOF'
import os
def busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")
EOF

# Runs a command and prints its CPU time (all threads, user + system) and the machine's.
cat > "$out/cpu.py" <<'EOF'
import resource, subprocess, sys
from busy import busy
b = busy()
rc = subprocess.call(sys.argv[1:])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"CPU {ru.ru_utime + ru.ru_stime:.4f} {busy() - b:.4f}")
sys.exit(rc)
EOF

cat > "$out/tcp.py" <<'EOF'
import os, resource, socket, threading, time
from busy import busy
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
def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime
threads = [threading.Thread(target=send, args=(s,)) for s in outs] + \
          [threading.Thread(target=recv, args=(s,)) for s in ins]
start, c0, b0 = time.time(), cpu(), busy()
for t in threads: t.start()
for t in threads: t.join()
print(f"TCP {total / (time.time() - start) / 1e9:.4f} {cpu() - c0:.4f} {busy() - b0:.4f} {total}")
EOF

toBytes() { numfmt --from=iec "$1"; }
cpuIters=(2 12)
for ((k = 1; k <= reps; ++k)); do
  netns -- env PYTHONPATH="$out" python3 "$out/tcp.py"
  awk '/^TCP / { print FILENAME == ARGV[1] ? "rank0" : "rank1", $0 }' "$out/rank0.log" "$out/rank1.log" >> "$out/tcp"
  for ((b = 0; b < ${#perfs[@]}; ++b)); do
    # shellcheck disable=SC2046 # netEnv's words are meant to split
    netns "${envs[@]}" $(netEnv $b) -- "${perfs[$b]}" -t all_reduce -c 1 "${register[@]}" "${sizes[@]}"
    checkNet $b
    if [ $k = 1 ]; then
      echo "== ${labels[$b]} (${perfs[$b]}), round 1:"
      grep -v "INFO" "$out/rank0.log"
      grep -E "Using network" "$out/rank0.log" | head -n 1 || true
    fi
    grep -E '^ +[0-9]+ +[0-9]+ +float' "$out/rank0.log" | sed "s/^/${labels[$b]} /" >> "$out/all"
    for n in "${cpuIters[@]}"; do
      # shellcheck disable=SC2046
      netns "${envs[@]}" $(netEnv $b) -- env PYTHONPATH="$out" python3 "$out/cpu.py" "${perfs[$b]}" -t all_reduce \
        "${register[@]}" -c 0 -w 1 -n "$n" -b "$cpuBytes" -e "$cpuBytes"
      echo "${labels[$b]} $k $n $(awk '/^CPU / { s += $2; if (FILENAME == ARGV[1]) m = $3 } END { print s, m }' \
        "$out/rank0.log" "$out/rank1.log")" >> "$out/cpu"
    done
  done
done

if [ -n "${PROFILE:-}" ]; then
  # Rank 0 under perf (software clock sampling works where hardware counters do not).
  cat > "$out/prof.sh" <<EOF
#!/usr/bin/env bash
if [ "\$RANK" = 0 ]; then exec perf record -q -F 2000 -g -o "$PROFILE.data" -- "\$@"; fi
exec "\$@"
EOF
  chmod +x "$out/prof.sh"
  # shellcheck disable=SC2046
  netns "${envs[@]}" $(netEnv $((${#perfs[@]} - 1))) -- "$out/prof.sh" "${perfs[-1]}" -t all_reduce "${register[@]}" -c 0 -w 1 -n "${cpuIters[-1]}" \
    -b "$cpuBytes" -e "$cpuBytes"
  {
    echo "# perf record -F 2000 -g, rank 0 of ${perfs[-1]} -t all_reduce -n ${cpuIters[-1]} at $cpuBytes, rate $rate"
    perf report -i "$PROFILE.data" --stdio --no-children --sort dso,sym --percent-limit 0.5 -g none 2>/dev/null |
      grep -v '^$'
  } > "$PROFILE"
  echo "profile of rank 0: $PROFILE (raw: $PROFILE.data)"
fi

echo
echo "== summary, rate $rate, MTU ${MTU:-1500}, median of $reps rounds (runs min..max)"
awk -v reps="$reps" '
  { bw[$1, ++n[$1]] = $3; cpu += $4; bytes += $6; if ($1 == "rank0") mach += $5 }
  END {
    m = n["rank0"]; for (i = 1; i <= m; ++i) v[i] = bw["rank0", i]
    for (i = 2; i <= m; ++i) for (j = i; j > 1 && v[j - 1] > v[j]; --j) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    med = m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
    printf "plain TCP: %.3f GB/s each way (runs %.3f..%.3f); CPU %.3f s/GB (machine %.3f)\n",
           med, v[1], v[m], cpu / (bytes / 1e9), mach / (bytes / 1e9)
    print med > tcpbw; print cpu / (bytes / 1e9) > tcpcpu
  }' tcpbw="$out/tcpbw" tcpcpu="$out/tcpcpu" "$out/tcp"
tcp=$(cat "$out/tcpbw")
tcpCpu=$(cat "$out/tcpcpu")
for label in "${labels[@]}"; do
  awk -v l="$label" '$1 == l' "$out/all" | cut -d' ' -f2- | sort -s -n -k1,1 |
    awk -v rate="$rate" -v tcp="$tcp" -v label="$label" '
    BEGIN { r = rate; m = 1; link = 0
            if (r ~ /gbit$/) m = 1e9; else if (r ~ /mbit$/) m = 1e6
            if (r != "raw") { sub(/[a-z]+$/, "", r); link = r * m / 8 / 1e9 } }
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; ++i) for (j = i; j > 1 && a[j - 1] > a[j]; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function ofLink(x) { return link ? sprintf(" %3.0f%% of %s,", x / link * 100, rate) : "" }
    function flush() {
      if (!n) return
      o = median(oop, n); p = median(ip, n)
      printf "%-8s %4d MiB: busbw out of place %.2f GB/s (%s %3.0f%% of TCP), in place %.2f GB/s (%s %3.0f%% of TCP); runs %.2f..%.2f\n",
             label, size / 1048576, o, ofLink(o), o / tcp * 100, p, ofLink(p), p / tcp * 100, lo, hi
    }
    $1 >= 67108864 {
      if ($1 != size) { flush(); size = $1; n = 0; lo = 1e9; hi = 0 }
      ++n; oop[n] = $8; ip[n] = $12
      for (v = 8; v <= 12; v += 4) { if ($v < lo) lo = $v; if ($v > hi) hi = $v }
    }
    END { flush() }'
done
# Per round: (CPU at 12 iterations - CPU at 2) / (10 iterations x 2 calls x CPU_BYTES x 2 ranks).
bytesPerIter=$((2 * 2 * $(toBytes "$cpuBytes")))
for label in "${labels[@]}"; do
  awk -v l="$label" -v per="$bytesPerIter" -v tcpCpu="$tcpCpu" -v size="$cpuBytes" '
    $1 == l { c[$2, $3] = $4; mc[$2, $3] = $5; iters[$3] = 1; rounds[$2] = 1 }
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; ++i) for (j = i; j > 1 && a[j - 1] > a[j]; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END {
      lo = 1e9; hi = 0; for (i in iters) { if (i + 0 < lo) lo = i + 0; if (i + 0 > hi) hi = i + 0 }
      gb = (hi - lo) * per / 1e9
      runs = ""
      for (r in rounds) {
        ++n; v[n] = (c[r, hi] - c[r, lo]) / gb; w[n] = (mc[r, hi] - mc[r, lo]) / gb
        runs = runs sprintf(" %.3f", v[n])
      }
      x = median(v, n); y = median(w, n)
      printf "%-8s CPU at %s: %.3f s/GB (%.2fx TCP; machine %.3f); runs%s\n", l, size, x, x / tcpCpu, y, runs
    }' "$out/cpu"
done
# --net both: busbw medians side by side, plugin over builtin, per build.
if [ ${#nets[@]} = 2 ]; then
  for bl in "${builds[@]}"; do
    echo
    echo "== $bl: builtin (NET/Socket) vs plugin (NET/$pluginNet, $plugin), busbw GB/s, median of $reps rounds"
    awk -v a="$bl-builtin" -v b="$bl-plugin" '
      function median(s,   n, v, i, j, t) {
        n = split(s, v, " ")
        for (i = 2; i <= n; ++i) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; --j) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
      }
      ($1 == a || $1 == b) && $2 >= 67108864 {
        k = ($1 == a) ? "a" : "b"; sizes[$2] = 1
        oop[k, $2] = oop[k, $2] " " $9; ip[k, $2] = ip[k, $2] " " $13
      }
      END {
        printf "%10s %12s %12s %8s %12s %12s %8s\n", "size", "builtin oop", "plugin oop", "ratio", "builtin ip", "plugin ip", "ratio"
        n = 0; for (x in sizes) order[++n] = x + 0
        for (i = 2; i <= n; ++i) for (j = i; j > 1 && order[j - 1] > order[j]; --j) { t = order[j]; order[j] = order[j - 1]; order[j - 1] = t }
        for (i = 1; i <= n; ++i) {
          x = order[i]; ao = median(oop["a", x]); bo = median(oop["b", x]); ai = median(ip["a", x]); bi = median(ip["b", x])
          printf "%6d MiB %12.2f %12.2f %7.1f%% %12.2f %12.2f %7.1f%%\n", x / 1048576, ao, bo, bo / ao * 100, ai, bi, bi / ai * 100
        }
      }' "$out/all"
  done
fi
