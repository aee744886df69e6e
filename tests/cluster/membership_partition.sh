#!/usr/bin/env bash
# Membership across real network namespaces: three nodes (one process each, the membership
# bench's node mode) on veth pairs to a bridge in a namespace of its own, addresses chosen
# here. Faults: an isolated node (link down), a node nobody hears (its sends blackholed), an
# isolated director.
# After each: who fenced, who was declared gone, and in which order. Everything this script
# creates is removed when it ends, however it ends. Needs root (ip netns); skips otherwise.
#
#   tests/cluster/membership_partition.sh BIN_DIR
set -euo pipefail
source "$(dirname "$0")/../../tools/support/netns.sh"

BIN=${1:?usage: membership_partition.sh BIN_DIR}/amf-membership-bench
AMFCTL=$1/amfctl
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root for network namespaces"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip (iproute2)"; exit 77; }


TAG=amf$$
NET=10.213.$(($$ % 250)).
WORK=$(mktemp -d /tmp/amf-partition-XXXXXX)
PIDS=()
cleanup() {
  end_processes "${PIDS[@]}"
  for ns in "$TAG-br" "$TAG-n1" "$TAG-n2" "$TAG-n3"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for n in n1 n2 n3; do echo "--- $n"; grep -v -e Heartbeat -e "send to" "$WORK/$n.log" | tail -15; done
  exit 1
}

# The cluster's key: every datagram is sealed with it.
"$AMFCTL" keygen "$WORK/cluster.key" >/dev/null

# The bridge's namespace, and one namespace per node with eth0 on the bridge.
make_cluster_netns "$TAG" "$NET"

start() {  # start NODE INCARNATION [--lead 1]
  local n=$1 inc=$2; shift 2
  local i=${n#n} peers=()
  for j in 1 2 3; do [[ $j == "$i" ]] || peers+=(--peer "n$j=udp://${NET}$j:7301"); done
  ip netns exec "$TAG-$n" "$BIN" node --name "$n" --incarnation "$inc" \
    --endpoint "udp://${NET}$i:7301" "${peers[@]}" --voters n1,n2,n3 --profile fast --key-file "$WORK/cluster.key" "$@" \
    >>"$WORK/$n.log" 2>&1 &
  PIDS+=($!)
}

# wait_line NODE TEXT [SECONDS]: until NODE's log has a line with TEXT (fixed string).
wait_line() {
  local n=$1 text=$2 limit=${3:-5} i
  for ((i = 0; i < limit * 20; i++)); do
    grep -qF -- "$text" "$WORK/$n.log" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "$n never printed '$text' within ${limit} s"
}

time_of() {  # time_of NODE TEXT: the first such line's time (ns)
  grep -F -- "$2" "$WORK/$1.log" | head -1 | cut -d' ' -f1
}

# cut_node NODE both|out. both: its link goes down. out: what it sends to the others is
# blackholed (routes, as this kernel has neither netem nor packet filters): its heartbeats and
# acknowledgements stop, while the others' messages still reach it.
cut_node() {
  local i=${1#n} j
  case $2 in
    both) ip -n "$TAG-$1" link set eth0 down ;;
    out) for j in 1 2 3; do
           [[ $j == "$i" ]] || ip -n "$TAG-$1" route add blackhole "${NET}$j/32"
         done ;;
  esac
}

heal() {
  local i j
  for i in 1 2 3; do
    ip -n "$TAG-n$i" link set eth0 up
    for j in 1 2 3; do ip -n "$TAG-n$i" route del blackhole "${NET}$j/32" 2>/dev/null || true; done
  done
}

start n1 1 --lead 1
start n2 1
start n3 1
for n in n2 n3; do wait_line n1 "node joined: $n#1"; done
echo "three nodes joined"

# check_fenced NODE LIFE: the life's lease ended at least the fence time (5 ms, the fast
# profile's) before the director declared it gone: the property membership promises. (When
# the node noticed, printed as "fence", may be later: its timer's lateness eats into the fence
# time, which the host must allow for.)
check_fenced() {  # check_fenced NODE LIFE LEASES_ENDED_BEFORE_THE_CUT
  local ended left i
  for ((i = 0; i < 100; i++)); do  # its own line for this cut, not an earlier one
    (( $(grep -cF "lease ended" "$WORK/$1.log" || true) > $3 )) && break
    sleep 0.05
  done
  (( $(grep -cF "lease ended" "$WORK/$1.log" || true) > $3 )) || fail "$2's lease never ended"
  ended=$(grep -F "lease ended" "$WORK/$1.log" | tail -1 | cut -d' ' -f1)
  left=$(time_of n1 "node left: $2")
  [[ -n $ended ]] || fail "$2 has no lease end"
  (( ended + 5000000 <= left )) ||
    fail "$2's lease ended at $ended ns, only $(( (left - ended) / 1000 )) us before it was declared gone"
  echo "$(( (left - ended) / 1000 )) us"
}

# 1. n3 isolated: its lease ends, and it fences itself, before the director declares it gone.
ended_before=$(grep -cF "lease ended" "$WORK/n3.log" || true)
cut_node n3 both
wait_line n3 "fence (no majority of the voters acknowledged"
wait_line n1 "node left: n3#1"
echo "isolated n3: its lease ended $(check_fenced n3 n3#1 "$ended_before") before it was declared gone"
heal
wait_line n3 "rejoining as n3#2"
wait_line n1 "node joined: n3#2"
echo "healed: n3 rejoined as n3#2"

# 2. Nobody hears n3, but it hears everyone: the same, by the acknowledgements it no longer gets.
ended_before=$(grep -cF "lease ended" "$WORK/n3.log" || true)
cut_node n3 out
wait_line n1 "node left: n3#2"
echo "one-way cut of n3: its lease ended $(check_fenced n3 n3#2 "$ended_before") before it was declared gone"
heal
wait_line n1 "node joined: n3#3"
# Its new life must hold its lease before the director is cut, or its first "unfence" could
# land inside step 3's window.
for ((i = 0; i < 100; i++)); do
  awk '/rejoining as n3#3/ { on = 1 } on && / unfence \(/ { found = 1 } END { exit !found }' \
    "$WORK/n3.log" && break
  sleep 0.05
done

# 3. The director isolated: it fences itself; the others keep their leases and nobody is
# declared gone (no director on their side; the election is etcd's, not tested here).
# (A fence line is "TIME fence (why)"; "unfence (" must not count.)
fences() { grep -c -e "^[0-9]* fence (" "$WORK/$1.log" || true; }
before2=$(fences n2)
before3=$(fences n3)
lefts=$(grep -cF "node left" "$WORK/n1.log" || true)
cut_node n1 both
wait_line n1 "fence (no majority of the voters acknowledged"
sleep 0.5
[[ $(fences n2) == "$before2" ]] || fail "n2 fenced with the director away"
[[ $(fences n3) == "$before3" ]] || fail "n3 fenced with the director away"
[[ $(grep -cF "node left" "$WORK/n1.log" || true) == "$lefts" ]] || fail "an isolated director declared a node gone"
echo "isolated director: it fenced itself; n2 and n3 kept their leases; nobody was declared gone"
echo "PASS"
