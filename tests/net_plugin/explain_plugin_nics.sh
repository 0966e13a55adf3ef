#!/usr/bin/env bash
# `tccl-db explain` loads the net plugin the runtime would and shows its devices on the node's
# NICs and the device of each NIC hop: the test plugin's one device (lo) reports the name and
# pciPath of the topology file's NIC (bus id 0000:82:00.0), so it must map onto NIC 0 on NUMA
# node 1; with NCCL_NET_PLUGIN=none the output has no network section.
# Usage: explain_plugin_nics.sh TCCL_PATHFINDER TCCL_DB PLUGIN.so TOPOLOGY.json
set -euo pipefail
pathfinder=$1 db=$2 plugin=$3 node=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$tmp/out"; exit 1; }

"$pathfinder" --topology "$node" -q -o "$tmp/db.json" >/dev/null

pci=/sys/devices/pci0000:80/0000:80:01.0/0000:82:00.0
NCCL_NET_PLUGIN=$plugin NCCL_SOCKET_IFNAME=lo TCCL_TESTNET_NAMES=mlx5_0 \
  TCCL_TESTNET_PCI_PATHS=$pci TCCL_SIM_TOPOLOGY=$node \
  "$db" explain "$tmp/db.json" --nodes 2 --gpus 2 >"$tmp/out" 2>&1 || fail "explain exited $?"
cat "$tmp/out"
grep -qF "network: NET/TestTCP from $plugin (ABI v10), 1 device(s) on the NICs of node 'plugin-nic-node':" "$tmp/out" ||
  fail "no network line"
grep -qF "  NET/TestTCP dev 0 'mlx5_0' pciPath $pci -> NIC 0 (mlx5_0) NUMA node 1, 10000 Mbps" "$tmp/out" ||
  fail "the device is not mapped onto NIC 0"
grep -q "^NIC hops:" "$tmp/out" || fail "no NIC hops section"
hops=$(grep -c -- "-\[net0[^]]*\]-> .* through NET/TestTCP dev 0 'mlx5_0'$" "$tmp/out" || true)
[ "$hops" -ge 2 ] || fail "expected the two NIC hops of a 2-node ring through dev 0, found $hops"

# A device the topology lacks is added, and a virtual one is said to be guessed.
NCCL_NET_PLUGIN=$plugin NCCL_SOCKET_IFNAME=lo TCCL_TESTNET_PCI_PATHS= TCCL_SIM_TOPOLOGY=$node \
  "$db" explain "$tmp/db.json" --nodes 2 --gpus 2 >"$tmp/out" 2>&1 || fail "explain exited $?"
grep -qF "  NET/TestTCP dev 0 'lo' pciPath (none) -> NIC 1 (lo, added) NUMA node 0, 10000 Mbps" "$tmp/out" ||
  fail "the virtual device is not added as NIC 1"
grep -qF "  warning: plugin device 0 'lo' reports no pciPath (a virtual NIC); placed on NUMA node 0" "$tmp/out" ||
  fail "no warning for the virtual device"
grep -qF "through NET/TestTCP dev 0 'lo' (the NIC index modulo the devices: no plugin device is on NIC 0)" "$tmp/out" ||
  fail "the NIC hop's fallback is not explained"

NCCL_NET_PLUGIN=none "$db" explain "$tmp/db.json" --nodes 2 --gpus 2 >"$tmp/out" 2>&1 ||
  fail "explain exited $?"
! grep -q "^network:\|^NIC hops:" "$tmp/out" || fail "NCCL_NET_PLUGIN=none still shows a network"
echo "PASS"
