#!/usr/bin/env bash
# amfd across real network namespaces: three nodes (n1, n2 and n3, all controllers), one amfd
# in each, on veth pairs to a bridge in a namespace of its own, with one etcd member on the
# bridge; a 2N service group with its SUs on n1 and n2. Addresses and names are chosen here;
# datagrams are sealed with a key made here.
#
# 1. The director's node (n3, which hosts no SU) is cut off: its lease runs out and its amfd
#    ends its life (exit 3); n1 or n2 wins the next epoch from etcd and takes over, and the
#    active component is not touched (same SU, same PID).
# 2. Healed and restarted (as systemd's Restart= would), n3 is back as life 2.
# 3. The node of the active is cut off: it kills its components and ends its life before the
#    other side promotes the standby (the order is read from the nodes' own logs), and the
#    service has exactly one active after.
# 4. Healed and restarted, that node is the standby again.
#
# Everything this script creates is removed when it ends, however it ends. Needs root (ip
# netns) and etcd; skips otherwise.
#
#   tests/cluster/amfd_partition.sh BIN_DIR
set -euo pipefail
source "$(dirname "$0")/../../tools/support/netns.sh"

BIN=$(cd "${1:?usage: amfd_partition.sh BIN_DIR}" && pwd)
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root for network namespaces"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip (iproute2)"; exit 77; }
command -v etcd >/dev/null || { echo "SKIP: no etcd (etcd-server)"; exit 77; }

TAG=amfd$$
NET=10.214.$(($$ % 250)).
WORK=$(mktemp -d /tmp/amfd-partition-XXXXXX)
declare -A AMFD
ETCD=
cleanup() {
  local pid
  end_processes "${AMFD[@]}" $ETCD
  for ns in "$TAG-br" "$TAG-n1" "$TAG-n2" "$TAG-n3"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  set +e
  for n in n1 n2 n3; do
    [[ -f $WORK/$n.log ]] || continue
    echo "--- $n"
    grep -v -e "\[debug\] link" -e "heartbeat" "$WORK/$n.log" | tail -25
    echo "--- $n status"
    "$BIN/amfctl" --runtime-dir "$WORK/$n" status 2>&1 | tail -12
  done
  echo "--- etcd"
  tail -5 "$WORK/etcd.log"
  exit 1
}

"$BIN/amfctl" keygen "$WORK/cluster.key" >/dev/null

make_cluster_netns "$TAG" "$NET"
# etcd listens on the bridge (its JSON gateway reaches its own gRPC server over lo).
ip -n "$TAG-br" addr add "${NET}254/24" dev br0

# One etcd member on the bridge (10 ms heartbeat, 50 ms election, as on loopback).
ip netns exec "$TAG-br" etcd --name e1 --data-dir "$WORK/etcd" \
  --listen-client-urls "http://${NET}254:2379" --advertise-client-urls "http://${NET}254:2379" \
  --listen-peer-urls "http://${NET}254:2380" --initial-advertise-peer-urls "http://${NET}254:2380" \
  --initial-cluster "e1=http://${NET}254:2380" --heartbeat-interval 10 --election-timeout 50 \
  >"$WORK/etcd.log" 2>&1 &
ETCD=$!
for ((i = 0; i < 200; i++)); do
  ip netns exec "$TAG-n1" bash -c "exec 3<>/dev/tcp/${NET}254/2379" 2>/dev/null && break
  sleep 0.05
done

counter_cluster_yaml partition default "[\"${NET}254:2379\"]" "" \
  '{port: "7600"}' >"$WORK/cluster.yaml"

start() {  # start NODE: its amfd in its namespace (as systemd would start it again)
  ip netns exec "$TAG-$1" env PATH="$BIN:$PATH" "$BIN/amfd" --config "$WORK/cluster.yaml" \
    --node "$1" --runtime-dir "$WORK/$1" --cluster-key "$WORK/cluster.key" --log-level debug \
    >>"$WORK/$1.log" 2>&1 &
  AMFD[$1]=$!
}

status() { "$BIN/amfctl" --runtime-dir "$WORK/$1" status 2>/dev/null || true; }
director_of() { status "$1" | head -1 | sed -n 's/.*director \(n[0-9]\) (epoch \([0-9]*\)).*/\1 \2/p'; }
assignments() { status "$1" | grep "^counter/si-1" || true; }

# until SECONDS COMMAND...: until the command succeeds.
until_true() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 20; i++)); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}
settled() {  # settled NODE: its assignments show one active and one standby
  local a
  a=$(assignments "$1")
  [[ $a == *active* && $a == *standby* && $(grep -o active <<<"$a" | wc -l) == 1 ]]
}
settled_one() { [[ $(assignments "$1" | grep -o active | wc -l) == 1 ]]; }
active_su() { assignments "$1" | grep -o 'counter/su-[12] active' | cut -d' ' -f1; }
node_of_su() { [[ $1 == counter/su-1 ]] && echo n1 || echo n2; }
pid_of() {  # pid_of NODE: its component's PID (su-N runs on nN), from its own status
  status "$1" | awk -v comp="counter/su-${1#n}/server" '$1 == comp { print $3 }'
}
ms_of() {  # ms_of LINE: a log line's time stamp in milliseconds of the day
  sed -n 's/^\[[0-9-]* \([0-9]*\):\([0-9]*\):\([0-9]*\)\.\([0-9]*\)\].*/\1 \2 \3 \4/p' <<<"$1" |
    awk '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }'
}
ended() {  # ended NODE: true once its amfd has exited, with its exit code in RC
  kill -0 "${AMFD[$1]}" 2>/dev/null && return 1
  RC=0
  wait "${AMFD[$1]}" || RC=$?
  return 0
}

# The first director is n3 (started alone first, it wins epoch 1 from etcd; it acts once n1 or
# n2 grants it a lease), so that losing it alone is step 1.
start n3
until_true 10 eval '[[ $(director_of n3) == "n3 1" ]]' || fail "n3 did not become the director"
start n1
start n2
until_true 20 settled n3 || fail "the service group did not settle under n3"
echo "three nodes up, director n3 (epoch 1): $(assignments n3)"

# 1. The director's node cut off.
active=$(active_su n3)
active_node=$(node_of_su "$active")
active_pid=$(pid_of "$active_node")
[[ -n $active_pid ]] || fail "no PID for the active on $active_node"
ip -n "$TAG-br" link set "$TAG-v3" down
until_true 10 ended n3 || fail "n3's amfd did not end its life when cut off"
[[ $RC == 3 ]] || fail "n3's amfd exited $RC, not 3 (life ended)"
grep -q "life 1 ends: fenced" "$WORK/n3.log" || fail "n3 did not say it was fenced"
new=
until_true 10 eval 'new=$(director_of n1); [[ -n $new && $new != n3* && $(director_of n2) == "$new" ]]' ||
  fail "no new director on n1 and n2"
new_director=${new% *}
until_true 10 settled "$new_director" || fail "the new director $new_director has no whole table"
[[ $(active_su "$new_director") == "$active" ]] || fail "the active moved: $(assignments "$new_director")"
[[ $(pid_of "$active_node") == "$active_pid" ]] || fail "the active component was restarted"
echo "1. director's node cut off: n3 fenced itself (exit 3); $new_director took over in epoch ${new#* }; $active kept its active (PID $active_pid)"

# 2. Healed, and n3 restarted: its next life follows the new director.
ip -n "$TAG-br" link set "$TAG-v3" up
start n3
until_true 10 eval '[[ $(director_of n3) == "$new" ]]' || fail "n3 did not come back under $new"
status n3 | head -1 | grep -q "(life 2)" || fail "n3 is not life 2: $(status n3 | head -1)"
echo "2. healed: n3 back as life 2 under $new_director"
# A restarted voter acknowledges nothing for its predecessor's lease time (amf/membership
# README, rule 2); a second fault inside it would leave no majority.
sleep 1

# 3. The node of the active cut off: it fences itself before the other side promotes.
promotions=$(cat "$WORK"/n*.log | grep -c "standby -> active" || true)
ip -n "$TAG-br" link set "$TAG-v${active_node#n}" down
until_true 10 ended "$active_node" || fail "$active_node did not end its life when cut off"
[[ $RC == 3 ]] || fail "$active_node's amfd exited $RC, not 3"
# (Killed by its amfd; reaped by whoever inherits it once amfd has exited.)
until_true 5 eval '! kill -0 "$active_pid" 2>/dev/null' || fail "the old active (PID $active_pid) still runs"
until_true 10 eval '(( $(cat "$WORK"/n*.log | grep -c "standby -> active" || true) > promotions ))' ||
  fail "the standby was never promoted"
fenced_line=$(grep "life 1 ends: fenced" "$WORK/$active_node.log" | head -1)
promoted_line=$(cat "$WORK"/n*.log | grep "standby -> active" | sort | tail -1)
fenced_ms=$(ms_of "$fenced_line")
promoted_ms=$(ms_of "$promoted_line")
(( fenced_ms < promoted_ms )) ||
  fail "the standby was promoted at $promoted_ms ms, not after the old active's node fenced itself at $fenced_ms ms"
director=
until_true 10 eval 'director=$(director_of n3); [[ -n $director ]] && settled_one "${director% *}"' ||
  fail "no single active after $active_node was cut off"
echo "3. $active_node cut off: it fenced itself $((promoted_ms - fenced_ms)) ms before the standby was promoted; $(assignments "${director% *}")"

# 4. Healed and restarted: its SU is the standby again.
ip -n "$TAG-br" link set "$TAG-v${active_node#n}" up
start "$active_node"
until_true 20 eval 'director=$(director_of n3); [[ -n $director ]] && settled "${director% *}"' ||
  fail "$active_node did not come back as the standby"
echo "4. healed: $(assignments "${director% *}")"

for n in n1 n2 n3; do
  kill "${AMFD[$n]}"
  rc=0
  wait "${AMFD[$n]}" || rc=$?
  [[ $rc == 0 ]] || fail "$n's amfd exited $rc on SIGTERM"
done
AMFD=()
echo "PASS"
