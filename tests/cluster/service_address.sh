#!/usr/bin/env bash
# A floating service address across real network namespaces: three nodes (n1, n2, n3, all
# controllers), one amfd in each, on veth pairs to a bridge in a namespace of its own, which
# also holds one etcd member and the client; a 2N counter with its SUs on n1 and n2 whose SI
# floats ADDR (NET100/24 on eth0). The counter listens on ADDR only, and the client talks only
# to ADDR. Addresses and names are chosen here; datagrams are sealed with a key made here.
#
# 0. Settled: ADDR is up on the active's node and on no other (amfctl status on each node says
#    so), and the client is answered.
# 1. The active component is killed (SIGKILL): ADDR moves with the active to the other node,
#    which announces it (the client's neighbour entry for ADDR now names that node's MAC
#    without the client having asked), and the client is answered there.
# 2. The node of the active crashes (SIGKILL of its amfd and its component, its link down):
#    ADDR comes up on the survivor, the client is answered.
# 3. That node comes back (link up, amfd started again): ADDR was still configured there (its
#    amfd died holding it); the new amfd takes it down before anything else, and says so.
# 4. amfctl lock of the active SU (a switchover): ADDR goes down on the old node and up on the
#    new one, still on exactly one node; the new node announces it five times (a capture on the
#    bridge, started before the lock, counts its gratuitous ARP requests).
# 5. IPv6: a second 2N SG floats ADDR6 (fd15:<n+1>::100/64); a lock of its active moves it, and
#    the client's neighbour entry names the new node's MAC (unsolicited neighbour
#    advertisement) before the client sends anything.
# 6. An address that cannot be brought up: a third 2N SG floats ADDR7 on svc0, an interface of
#    n1 and n2 (a veth pair inside each node's namespace). svc0 is deleted on the standby's node,
#    and the SI swapped to it: raising ADDR7 there fails, so amf fails that SU over, and the SI
#    is back on the other node, with ADDR7 up there only.
# Each step prints the outage the client saw (not asserted: this machine is shared).
#
# Everything this script creates is removed when it ends, however it ends. Needs root (ip
# netns) and etcd; skips otherwise.
#
#   tests/cluster/service_address.sh BIN_DIR
set -euo pipefail
source "$(dirname "$0")/../../tools/support/netns.sh"

BIN=$(cd "${1:?usage: service_address.sh BIN_DIR}" && pwd)
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root for network namespaces"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip (iproute2)"; exit 77; }
command -v etcd >/dev/null || { echo "SKIP: no etcd (etcd-server)"; exit 77; }

TAG=amfsa$$
NET=10.215.$(($$ % 250)).
ADDR=${NET}100
PORT=7610
ADDR6=fd15:$(($$ % 250 + 1))::100  # a group of 0 would not be canonical (fd15::100)
ADDR7=192.0.2.7  # on svc0 (TEST-NET-1), inside the nodes' namespaces only
WORK=$(mktemp -d /tmp/amf-service-address-XXXXXX)
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
    grep -v -e "\[debug\] link" -e "heartbeat" "$WORK/$n.log" | tail -20
    echo "--- $n addresses"
    ip -n "$TAG-$n" -br addr show dev eth0
  done
  echo "--- client's neighbours"
  ip -n "$TAG-br" neigh show
  exit 1
}

"$BIN/amfctl" keygen "$WORK/cluster.key" >/dev/null
make_cluster_netns "$TAG" "$NET"
for n in n1 n2; do  # (this kernel has no dummy interfaces: a veth pair whose ends stay here)
  ip -n "$TAG-$n" link add svc0 type veth peer name svc0p
  ip -n "$TAG-$n" link set svc0 up
done
ip -n "$TAG-br" addr add "${NET}254/24" dev br0
ip -n "$TAG-br" addr add "${ADDR6%::100}::254/64" dev br0 nodad

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

counter_cluster_yaml floating default "[\"${NET}254:2379\"]" \
  "            service_address: {address: ${ADDR}/24, interface: eth0}" \
  "{listen: \"${ADDR}\", port: \"${PORT}\"}" >"$WORK/cluster.yaml"
counter_sg_yaml counter6 si-6 "" "            service_address: {address: '${ADDR6}/64', interface: eth0}" \
  "{port: \"$((PORT + 1))\"}" >>"$WORK/cluster.yaml"
counter_sg_yaml counter7 si-7 component-restart \
  "            service_address: {address: ${ADDR7}/24, interface: svc0}" \
  "{port: \"$((PORT + 2))\"}" >>"$WORK/cluster.yaml"

start() {  # start NODE: its amfd in its namespace (as systemd would start it again)
  ip netns exec "$TAG-$1" env PATH="$BIN:$PATH" "$BIN/amfd" --config "$WORK/cluster.yaml" \
    --node "$1" --runtime-dir "$WORK/$1" --cluster-key "$WORK/cluster.key" \
    >>"$WORK/$1.log" 2>&1 &
  AMFD[$1]=$!
}
status() { "$BIN/amfctl" --runtime-dir "$WORK/$1" status 2>/dev/null || true; }
director_of() { status "$1" | head -1 | sed -n 's/.*director \(n[0-9]\) (epoch \([0-9]*\)).*/\1/p'; }
assignments() { status "$1" | grep "^counter/si-1" || true; }
until_true() {  # until_true SECONDS COMMAND...
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 20; i++)); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}
settled() {
  local a
  a=$(assignments "$1")
  [[ $a == *active* && $a == *standby* && $(grep -o active <<<"$a" | wc -l) == 1 ]]
}
active_node() { assignments "$1" | grep -o 'counter/su-[12] active' | sed 's/counter\/su-\([12]\).*/n\1/'; }
pid_of() { status "$1" | awk -v comp="counter/su-${1#n}/server" '$1 == comp { print $3 }'; }
has_addr() { ip -n "$TAG-$1" -br addr show dev eth0 | grep -qw "$ADDR/24"; }
holders() {  # the nodes that have ADDR up, space-separated
  local n out=""
  for n in n1 n2 n3; do has_addr "$n" && out+="$n "; done
  echo "${out% }"
}
mac_of() { ip -n "$TAG-$1" -br link show dev eth0 | awk '{ print $3 }'; }
has_addr6() { ip -n "$TAG-$1" -br addr show dev eth0 | grep -qw "$ADDR6/64"; }
holders6() {
  local n out=""
  for n in n1 n2 n3; do has_addr6 "$n" && out+="$n "; done
  echo "${out% }"
}
client_mac6() { ip -6 -n "$TAG-br" neigh show "$ADDR6" | awk '{ for (i = 1; i < NF; ++i) if ($i == "lladdr") print $(i + 1) }'; }
client_mac() { ip -n "$TAG-br" neigh show "$ADDR" | awk '{ for (i = 1; i < NF; ++i) if ($i == "lladdr") print $(i + 1) }'; }
ask() {  # one INC from the client to ADDR; prints the answer
  ip netns exec "$TAG-br" timeout 1 bash -c \
    "exec 3<>/dev/tcp/$ADDR/$PORT && echo INC >&3 && read -r -t 1 line <&3 && echo \$line" 2>/dev/null
}
answered() { [[ $(ask) =~ ^[0-9]+$ ]]; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
outage_since() {  # outage_since MS: asks until answered; prints the ms since MS
  until_true 15 answered || fail "the client got no answer from $ADDR"
  echo $(($(now_ms) - $1))
}

start n3
until_true 10 eval '[[ $(director_of n3) == n3 ]]' || fail "n3 did not become the director"
start n1
start n2
until_true 20 settled n3 || fail "the service group did not settle"
active=$(active_node n3)
until_true 5 eval '[[ $(holders) == "$active" ]]' || fail "ADDR is up on '$(holders)', not on the active's node $active"
answered || fail "the client got no answer from $ADDR"
grep -q "service-address counter/si-1 ${ADDR}/24 on eth0 down -> up" "$WORK/$active.log" ||
  fail "$active recorded no service-address event"
# amfctl status on any node says where ADDR is up, as each node says (the director gathers it).
for n in n1 n2 n3; do
  until_true 5 eval 'status $n | grep "^counter/si-1" | grep -qF "${ADDR}/24 on eth0 (up on $active)"' ||
    fail "amfctl status on $n does not show ADDR up on $active: $(status "$n" | grep "^counter/si-1")"
done
echo "0. settled: active on $active, ADDR up there only; the client is answered: $(ask)"

# 1. The active component killed.
other=$([[ $active == n1 ]] && echo n2 || echo n1)
ask >/dev/null
[[ $(client_mac) == "$(mac_of "$active")" ]] || fail "the client does not know ADDR at $active's MAC"
t0=$(now_ms)
kill -9 "$(pid_of "$active")"
until_true 10 eval '[[ $(holders) == "$other" ]]' || fail "ADDR did not move to $other: up on '$(holders)'"
# Announced: the client's entry names the new MAC before the client sends anything.
until_true 2 eval '[[ $(client_mac) == "$(mac_of "$other")" ]]' ||
  fail "the client's neighbour entry for ADDR still names $(client_mac), not $other's $(mac_of "$other"): no gratuitous ARP"
echo "1. active component killed: ADDR moved $active -> $other and was announced; client outage $(outage_since "$t0") ms"
until_true 20 settled n3 || fail "no standby again after the component's failover"

# 2. The node of the active crashes: amfd and component killed, its link down.
active=$other
other=$([[ $active == n1 ]] && echo n2 || echo n1)
until_true 5 eval '[[ $(holders) == "$active" ]]' || fail "ADDR not on $active only before the crash"
sleep 1  # a restarted voter's quiet time (amf/membership/README.md, rule 2) has passed since step 0
pid=$(pid_of "$active")
t0=$(now_ms)
kill -9 "${AMFD[$active]}" "$pid"
ip -n "$TAG-br" link set "$TAG-v${active#n}" down
wait "${AMFD[$active]}" 2>/dev/null || true
unset "AMFD[$active]"
until_true 15 has_addr "$other" || fail "ADDR did not come up on $other after $active crashed"
echo "2. node $active crashed: ADDR up on $other; client outage $(outage_since "$t0") ms"

# 3. The crashed node comes back: its amfd takes the address its predecessor left down.
has_addr "$active" || fail "the crashed node $active does not have ADDR any more: nothing to clean"
ip -n "$TAG-br" link set "$TAG-v${active#n}" up
start "$active"
until_true 10 eval '! has_addr "$active"' || fail "$active's new amfd left ADDR up"
grep -q "service address ${ADDR}/24 on eth0 of SI counter/si-1 was up, left by an earlier amfd: taken down" \
  "$WORK/$active.log" || fail "$active's amfd did not say it took the leftover ADDR down"
until_true 30 settled n3 || fail "$active did not come back as the standby"
[[ $(holders) == "$other" ]] || fail "ADDR is up on '$(holders)', not on $other only"
echo "3. $active back: its amfd took the leftover ADDR down; ADDR on $other only"

# 4. A switchover: amfctl lock of the active SU.
active=$other
other=$([[ $active == n1 ]] && echo n2 || echo n1)
# Every ARP packet from the new node's hardware address for 4 s (the five announcements take
# 800 ms), from before the lock.
capture=
if command -v tcpdump >/dev/null; then
  ip netns exec "$TAG-br" timeout 4 tcpdump -l -n -e -i br0 "arp and ether src $(mac_of "$other")" \
    >"$WORK/arp.txt" 2>"$WORK/arp.err" &
  capture=$!
  until_true 5 grep -qs "listening on" "$WORK/arp.err" || fail "tcpdump did not start: $(cat "$WORK/arp.err")"
fi
t0=$(now_ms)
"$BIN/amfctl" --runtime-dir "$WORK/n3" lock su "counter/su-${active#n}" >/dev/null ||
  fail "amfctl lock su counter/su-${active#n} failed"
until_true 10 eval '[[ $(holders) == "$other" ]]' || fail "ADDR did not move to $other on the lock: up on '$(holders)'"
echo "4. lock of counter/su-${active#n}: ADDR moved $active -> $other; client outage $(outage_since "$t0") ms"
if [[ -n $capture ]]; then
  wait "$capture" || true
  garps=$(grep -c "Request who-has $ADDR tell $ADDR," "$WORK/arp.txt" || true)
  [[ $garps == 5 ]] || fail "$other sent $garps gratuitous ARP requests for ADDR, not 5: $(cat "$WORK/arp.txt")"
  echo "   $other announced ADDR $garps times"
else
  echo "   announcements not counted: no tcpdump (tools/run setup installs it)"
fi
until_true 5 eval 'status n3 | grep "^counter/si-1" | grep -qF "${ADDR}/24 on eth0 (up on $other)"' ||
  fail "amfctl status does not show ADDR up on $other after the lock: $(status n3 | grep "^counter/si-1")"
"$BIN/amfctl" --runtime-dir "$WORK/n3" unlock su "counter/su-${active#n}" >/dev/null

# 5. IPv6: the client learns ADDR6's MAC (a connection attempt; nothing listens there), then
# the active of counter6 is locked.
active6=$(status n3 | grep "^counter6/si-6" | grep -o 'counter6/su-[12] active' | sed 's/counter6\/su-\([12]\).*/n\1/' || true)
[[ -n $active6 && $(holders6) == "$active6" ]] || fail "ADDR6 is up on '$(holders6)', not on counter6's active node '$active6'"
ip netns exec "$TAG-br" timeout 1 bash -c "exec 3<>/dev/tcp/$ADDR6/9" 2>/dev/null || true
[[ $(client_mac6) == "$(mac_of "$active6")" ]] || fail "the client does not know ADDR6 at $active6's MAC: '$(client_mac6)'"
other6=$([[ $active6 == n1 ]] && echo n2 || echo n1)
"$BIN/amfctl" --runtime-dir "$WORK/n3" lock su "counter6/su-${active6#n}" >/dev/null ||
  fail "amfctl lock su counter6/su-${active6#n} failed"
until_true 10 eval '[[ $(holders6) == "$other6" ]]' || fail "ADDR6 did not move to $other6: up on '$(holders6)'"
until_true 2 eval '[[ $(client_mac6) == "$(mac_of "$other6")" ]]' ||
  fail "the client's neighbour entry for ADDR6 names $(client_mac6), not $other6's $(mac_of "$other6"): no neighbour advertisement"
echo "5. IPv6: lock of counter6/su-${active6#n}: ADDR6 moved $active6 -> $other6 and was announced"

# 6. ADDR7 cannot be brought up on the standby's node: the swap to it fails that SU over.
has_addr7() { ip -n "$TAG-$1" -br addr show dev svc0 2>/dev/null | grep -qw "$ADDR7/24"; }
assignments7() { status n3 | grep "^counter7/si-7" || true; }
active7_node() { assignments7 | grep -o 'counter7/su-[12] active' | sed 's/counter7\/su-\([12]\).*/n\1/'; }
until_true 20 eval '[[ $(assignments7) == *active* && $(assignments7) == *standby* ]]' ||
  fail "counter7 did not settle: $(assignments7)"
active7=$(active7_node)
other7=$([[ $active7 == n1 ]] && echo n2 || echo n1)
has_addr7 "$active7" || fail "ADDR7 is not up on counter7's active node $active7"
ip -n "$TAG-$other7" link del svc0
"$BIN/amfctl" --runtime-dir "$WORK/n3" si-swap counter7/si-7 >/dev/null 2>&1 || true
until_true 10 grep -q "the service address ${ADDR7}/24 on svc0 of SI counter7/si-7 cannot be brought up here" \
  "$WORK/$other7.log" || fail "$other7 did not say that ADDR7 cannot be brought up there"
grep -q "recovery counter7/su-${other7#n} - -> component-failover" "$WORK/$other7.log" ||
  fail "$other7 did not fail counter7/su-${other7#n} over (its recovery is component-restart)"
until_true 20 eval '[[ $(active7_node) == "$active7" ]] && has_addr7 "$active7"' ||
  fail "counter7/si-7 is not active on $active7 with ADDR7 up there again: $(assignments7)"
echo "6. ADDR7 could not be brought up on $other7: counter7/su-${other7#n} failed over; active on $active7 again, ADDR7 up there"

for n in "${!AMFD[@]}"; do
  kill "${AMFD[$n]}"
  rc=0
  wait "${AMFD[$n]}" || rc=$?
  [[ $rc == 0 ]] || fail "$n's amfd exited $rc on SIGTERM"
done
AMFD=()
[[ -z $(holders) && -z $(holders6) ]] ||
  fail "ADDR or ADDR6 still up on '$(holders) $(holders6)' after every amfd stopped"
echo "PASS"
