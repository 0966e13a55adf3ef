#!/usr/bin/env bash
# tccl-perf -np as a launcher:
#   perf_launcher_test.sh TCCL_PERF stopped-rank   a stopped rank (SIGSTOP) does not hang the
#                                                  driver: it exits, naming the rank it killed
#   perf_launcher_test.sh TCCL_PERF fork-order     the driver forks every rank before it starts
#                                                  a thread (strace; exit 77 = skipped without)
set -uo pipefail
perf=${1:?usage: perf_launcher_test.sh TCCL_PERF stopped-rank|fork-order}
export NCCL_SOCKET_IFNAME=lo TCCL_DEVICE=host
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case ${2:?} in
stopped-rank)
  export TCCL_TIMEOUT=3
  start=$SECONDS
  setsid "$perf" -np 3 -b 64K -e 64K -n 1000000 -w 0 >"$work/out" 2>&1 &
  driver=$!
  ranks=()
  for _ in $(seq 100); do
    mapfile -t ranks < <(pgrep -P "$driver" | sort -n)
    [ ${#ranks[@]} -eq 3 ] && break
    sleep 0.1
  done
  [ ${#ranks[@]} -eq 3 ] || { echo "the driver did not fork 3 ranks"; kill -KILL -- -"$driver"; exit 1; }
  sleep 1  # let the ranks reach their collectives
  kill -STOP "${ranks[1]}"
  for _ in $(seq 600); do kill -0 "$driver" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$driver" 2>/dev/null; then
    echo "FAIL: the driver still runs $((SECONDS - start)) s after rank 1 was stopped"
    kill -KILL -- -"$driver"
    exit 1
  fi
  wait "$driver"
  rc=$?
  cat "$work/out"
  echo "driver exit status $rc after $((SECONDS - start)) s"
  grep -q "rank 1 (pid ${ranks[1]}) did not exit" "$work/out" || { echo "FAIL: rank 1 not named"; exit 1; }
  # Rank 2 waits for rank 1 directly, rank 0 for rank 2; whichever times out first names rank 1,
  # as the one that made no progress or as stopped (the other may then see that rank exit).
  grep -Eq "rank 1 made no progress|rank 1 \(pid ${ranks[1]}\) is stopped" "$work/out" ||
    { echo "FAIL: no rank named rank 1 as stuck"; exit 1; }
  [ "$rc" -ne 0 ] || { echo "FAIL: exit status 0"; exit 1; }
  ;;
fork-order)
  command -v strace >/dev/null || { echo "strace is not installed: skipped"; exit 77; }
  strace -qq -o /dev/null true 2>/dev/null || { echo "strace cannot trace here: skipped"; exit 77; }
  strace -qq -e trace=clone,clone3 -o "$work/trace" "$perf" -np 3 -b 1K -e 1K -n 1 -w 0 >/dev/null
  # The driver's clones in order: threads carry CLONE_THREAD, forked ranks do not.
  order=$(grep '^clone' "$work/trace" | sed 's/.*CLONE_THREAD.*/thread/; s/^clone.*/fork/' | tr '\n' ' ')
  echo "driver: $order"
  [ "$order" = "fork fork fork thread " ] || { echo "FAIL: a thread ran before the last fork"; exit 1; }
  ;;
*)
  echo "unknown case $2"
  exit 2
  ;;
esac
