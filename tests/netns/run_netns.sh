#!/usr/bin/env bash
# Runs one command per rank as a multi-node job: one network namespace per node, joined by veth
# pairs to a bridge that lives in a namespace of its own (nothing is added to the root
# namespace), optionally rate-limited with tc. Addresses are 10.77.0.<node+1>/24 on each
# node's veth0 and nowhere else. Ranks are numbered node by node.
#
#   run_netns.sh [options] -- COMMAND [ARGS...]
#     --nodes N             nodes (namespaces), default 2
#     --ranks-per-node R    default 2
#     --rate RATE           tc tbf rate on every node's veth0, e.g. 10gbit (default: none)
#     --mtu BYTES           MTU of the links (default 1500; 9000 for jumbo frames)
#     --local               no namespaces: every rank on this machine, NCCL_HOSTID plays the node,
#                           sockets over 127.0.0.1 (NCCL_SOCKET_IFNAME=lo)
#     --env NAME=VALUE      extra environment for every rank (repeatable)
#     --victim RANK         this rank is expected to die (SIGKILL); the others must exit 0
#     --check-hops          every rank's INFO log must show NIC hops exactly between nodes
#     --net NAME            the network those NIC hops must use (default Socket, TCCL's own);
#                           another name (a net plugin's) must also be announced by every rank
#                           ("Using network NAME"), so that a run through the built-in transport
#                           cannot pass for one through the plugin
#     --expect-log REGEX    every rank's output (but the victim's) must match REGEX (grep -E)
#     --timeout SEC         kill everything after SEC seconds (default 120) and fail
#     --logs DIR            keep each rank's output in DIR/rank<r>.log
# Exit status: 0 all ranks as expected, 1 failure, 77 namespaces cannot be created (SKIP).
set -uo pipefail

nodes=2 rpn=2 rate="" mtu=1500 local=0 victim=-1 checkHops=0 net=Socket timeout=120 logs=""
extraEnv=()
expectLogs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --ranks-per-node) rpn=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --mtu) mtu=$2; shift 2 ;;
    --local) local=1; shift ;;
    --env) extraEnv+=("$2"); shift 2 ;;
    --victim) victim=$2; shift 2 ;;
    --check-hops) checkHops=1; shift ;;
    --net) net=$2; shift 2 ;;
    --expect-log) expectLogs+=("$2"); shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "run_netns.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
[ $# -gt 0 ] || { echo "run_netns.sh: no command given" >&2; exit 1; }
nranks=$((nodes * rpn))
run=tccl-$$
sw=$run-sw
created=()
pids=()
tmp=$(mktemp -d /tmp/tccl-netns.XXXXXX)
[ -n "$logs" ] || logs=$tmp
mkdir -p "$logs"

cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for ns in "${created[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nsOf() { echo "$run-ns$1"; }

if [ "$local" = 0 ]; then
  if ! ip netns add "$sw" 2>"$tmp/err"; then
    echo "SKIP: cannot create network namespaces ($(head -c 200 "$tmp/err")): needs root or CAP_SYS_ADMIN and iproute2"
    exit 77
  fi
  created+=("$sw")
  set -e
  ip -n "$sw" link add br0 type bridge
  ip -n "$sw" link set br0 up
  for ((k = 0; k < nodes; ++k)); do
    ns=$(nsOf $k)
    ip netns add "$ns"
    created+=("$ns")
    ip -n "$sw" link add "p$k" type veth peer name veth0 netns "$ns"
    ip -n "$sw" link set "p$k" mtu "$mtu"
    ip -n "$ns" link set veth0 mtu "$mtu"
    ip -n "$sw" link set "p$k" master br0
    ip -n "$sw" link set "p$k" up
    ip -n "$ns" addr add "10.77.0.$((k + 1))/24" dev veth0
    ip -n "$ns" link set veth0 up
    ip -n "$ns" link set lo up
    if [ -n "$rate" ]; then
      # Every node sends at most RATE (a full-duplex NIC of that speed).
      ip netns exec "$ns" tc qdisc add dev veth0 root tbf rate "$rate" burst 1mb latency 20ms
    fi
  done
  set +e
  commId=10.77.0.1:29500
else
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000)))
  commId=127.0.0.1:$port
fi

for ((r = 0; r < nranks; ++r)); do
  k=$((r / rpn))
  vars=(RANK=$r WORLD_SIZE=$nranks NCCL_COMM_ID=$commId NCCL_HOSTID=node$k "${extraEnv[@]}")
  if [ "$local" = 0 ]; then
    ip netns exec "$(nsOf $k)" env "${vars[@]}" NCCL_SOCKET_IFNAME=veth0 "$@" >"$logs/rank$r.log" 2>&1 &
  else
    env "${vars[@]}" NCCL_SOCKET_IFNAME=lo "$@" >"$logs/rank$r.log" 2>&1 &
  fi
  pids+=($!)
done

fail=0
deadline=$((SECONDS + timeout))
for ((r = 0; r < nranks; ++r)); do
  while kill -0 "${pids[$r]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  if kill -0 "${pids[$r]}" 2>/dev/null; then
    echo "FAIL: rank $r still running after ${timeout} s: killing the job"
    fail=1
    break
  fi
  wait "${pids[$r]}"
  rc=$?
  if [ "$r" = "$victim" ]; then
    [ $rc = 137 ] || { echo "FAIL: victim rank $r exited with $rc, expected SIGKILL (137)"; fail=1; }
  elif [ $rc != 0 ]; then
    echo "FAIL: rank $r exited with $rc"
    fail=1
  fi
done

if [ "$checkHops" = 1 ]; then
  # "Connection A -> B tag T via NET/<network>|SHM|CUDA ...", printed by every rank at init.
  bad=$(cat "$logs"/rank*.log | awk -v rpn="$rpn" -v want="NET/$net" '
    /Connection [0-9]+ -> [0-9]+ tag .* via / {
      for (i = 1; i <= NF; ++i) {
        if ($i == "Connection") { a = $(i + 1); b = $(i + 3) }
        if ($i == "via") via = $(i + 1)
      }
      n += 1; cross = int(a / rpn) != int(b / rpn)
      if (via ~ /^NET\//) nets += 1
      if (cross != (via == want) || (!cross && via ~ /^NET\//)) { print "  " $0; bad += 1 }
    }
    END { if (n == 0) print "  no connection lines in the logs (NCCL_DEBUG=INFO?)"; else if (nets == 0) print "  no NIC hops at all" }')
  if [ "$net" != Socket ]; then
    for ((r = 0; r < nranks; ++r)); do
      [ "$r" = "$victim" ] && continue
      grep -q "Using network $net\$" "$logs/rank$r.log" ||
        bad+="${bad:+$'\n'}  rank $r never says \"Using network $net\""
    done
  fi
  if [ -n "$bad" ]; then
    echo "FAIL: hops with the wrong transport (NET/$net must join exactly the ranks of different nodes):"
    echo "$bad"
    fail=1
  else
    echo "hops: $(cat "$logs"/rank*.log | grep -c -E "Connection .* via NET/$net( |\$)") NET/$net connections, all between nodes;" \
      "$(cat "$logs"/rank*.log | grep -c -E 'via (SHM|CUDA)') shm/cuda connections, all inside a node"
  fi
fi

for re in "${expectLogs[@]}"; do
  for ((r = 0; r < nranks; ++r)); do
    [ "$r" = "$victim" ] && continue
    grep -q -E -- "$re" "$logs/rank$r.log" || { echo "FAIL: rank $r's output has no line matching: $re"; fail=1; }
  done
done

for ((r = 0; r < nranks; ++r)); do
  echo "---- rank $r (node $((r / rpn)))"
  grep -v -E "NCCL INFO|TCCL INFO" "$logs/rank$r.log" | tail -n 20
done
exit $fail
