#!/usr/bin/env bash
# The three-node demo (tools/run demo runs it after the one-node demo):
#
#   tools/demo/cluster_demo.sh BIN_DIR [ROUNDS]
#
# Three amfd nodes, n1..n3, all controllers, each with an etcd member of its own (three
# members), the fast membership profile (10 ms heartbeats, 30 ms timeout). A 2N SG runs the
# demo counter with its SUs on n1 and n2; n1 starts first and directs. A client
# (amf-demo-client) asks the counter back to back, each request on a new connection, giving a
# request up after 25 ms without an answer (--answer-ms 25; a request normally takes about 2 ms
# here): a request in flight on a node that dies gets no answer and often no reset either, and
# with the client's default of 200 ms about one node crash in four cost 200 ms of waiting for
# an answer that could not come instead of the failover's 30. Three faults follow:
#   1. SIGKILL of the active component: its SU fails over to the other node;
#   2. the active's node crashes: SIGKILL of its amfd, its component and its etcd member, and
#      its link cut; the node then comes back (amfd started again, as systemd would) and its
#      SU becomes the standby again;
#   3. the same for the director's node;
#   4. amfd stopped (SIGTERM, as systemctl stop or a rolling upgrade does) on the active's node:
#      the node leaves, the director switches its SI over to the other node while the
#      component still runs, then amfd ends the component and exits; it is started again.
# For each it prints the outage the client saw (the gap between its last answer before the
# fault and its first after it) and where the service went. With ROUNDS (1 to 100; 1 by
# default) it does all four that many times and ends with each fault's median, 90th
# percentile and worst (the director's node with and without the active apart): the benchmark
# of a client behind a floating address, with etcd on the nodes.
#
# As root the nodes run in network namespaces (veth pairs to a bridge in a namespace of its
# own, which holds the client), and the SI has a floating service address, ADDR: the counter
# listens on ADDR only, amf brings ADDR up on the active's node and announces it there, and the
# client talks to ADDR alone. Not as root there are no namespaces: the nodes are addresses on
# loopback (127.x.y.1..3), nothing floats, and the counter's actives listen on 127.x.y.100,
# which only one of them holds at a time. AMF_DEMO_NETNS=0 asks for that form as root too.
#
# The counter keeps its value in a synchronous checkpoint whose replicas are on the nodes of
# its two SUs, each also in files there (checkpoint_store: file; amf/checkpoint/README.md), so
# the client sees it continue across each failover:
# every increment it was answered is still counted by the next active. Everything runs in a temporary directory
# and is removed at the end, with the namespaces (AMF_DEMO_KEEP=1 keeps the directory and its
# logs). Takes about 20 seconds.
set -euo pipefail
export LC_ALL=C  # a decimal point in $EPOCHREALTIME and in the client's times

BIN=$(cd "${1:?usage: cluster_demo.sh BIN_DIR [ROUNDS]}" && pwd)
ROUNDS=${2:-1}
[[ $ROUNDS =~ ^[0-9]+$ ]] && ((ROUNDS >= 1 && ROUNDS <= 100)) ||
  { echo "cluster_demo.sh: ROUNDS is '$ROUNDS'; it must be a whole number from 1 to 100" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/tools/support/netns.sh"
command -v etcd >/dev/null || { echo "cluster_demo.sh: needs etcd (tools/run setup installs etcd-server)" >&2; exit 1; }

NETNS=0
PRIORITY=0  # amfd's SCHED_RR priority, as root: heartbeats before the client, etcd and the rest
# Namespaces where root may make them (not in a container without CAP_SYS_ADMIN, say).
if [[ $(id -u) == 0 && ${AMF_DEMO_NETNS:-1} != 0 ]] && command -v ip >/dev/null &&
  ip netns add "amfdemo$$-probe" 2>/dev/null; then
  ip netns del "amfdemo$$-probe"
  NETNS=1
fi
if [[ $(id -u) == 0 ]]; then PRIORITY=10; fi
TAG=amfdemo$$
if ((NETNS)); then
  NET=10.216.$(($$ % 250)).
else
  NET=127.$((($$ >> 8) % 250 + 1)).$(($$ % 250)).
fi
ADDR=${NET}100
PORT=7620
WORK=$(mktemp -d /tmp/amf-cluster-demo-XXXXXX)
declare -A AMFD ETCD
RESTARTED=0

cleanup() {
  local pid ns
  [[ -n ${CLIENT:-} ]] && kill "$CLIENT" 2>/dev/null
  end_processes "${AMFD[@]}" "${ETCD[@]}" ${CLIENT:-}
  if ((NETNS)); then
    for ns in "$TAG-br" "$TAG-n1" "$TAG-n2" "$TAG-n3"; do ip netns del "$ns" 2>/dev/null || true; done
  fi
  if [[ ${AMF_DEMO_KEEP:-0} == 1 ]]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
  echo "cluster_demo.sh: $*" >&2
  local n
  for n in n1 n2 n3; do
    [[ -f $WORK/$n.log ]] || continue
    echo "--- the end of $n's log" >&2
    grep -v -e "\[debug\] link" -e "heartbeat" "$WORK/$n.log" | tail -15 >&2
  done
  exit 1
}

# The prefix that runs a command on node NODE: in its namespace (as root), or here. Started in
# the background as "${IN[@]}" COMMAND &, so that $! is the command's own PID (ip netns exec
# and env exec it), the one a crash kills.
in_ns() {
  IN=()
  if ((NETNS)); then IN=(ip netns exec "$TAG-$1"); fi
}

until_true() {  # until_true SECONDS COMMAND...
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 20; i++)); do
    supervise
    "$@" && return 0
    sleep 0.05
  done
  return 1
}

# etcd member eN on node nN, at NET.N:2379 (peers on 2380), its data under WORK; timings for a
# LAN without stalls (heartbeat 10 ms, election 50 ms), as the tests use. With --pre-vote (the
# default from etcd 3.5; Debian 12 has 3.4) a member that comes back does not depose the leader
# by starting an election: the leader stays where the director put it (off its own node).
start_etcd() {
  local i=${1#n}
  in_ns "$1"
  "${IN[@]}" etcd --name "e$i" --data-dir "$WORK/etcd-$1" \
    --listen-client-urls "http://${NET}$i:2379" --advertise-client-urls "http://${NET}$i:2379" \
    --listen-peer-urls "http://${NET}$i:2380" --initial-advertise-peer-urls "http://${NET}$i:2380" \
    --initial-cluster "e1=http://${NET}1:2380,e2=http://${NET}2:2380,e3=http://${NET}3:2380" \
    --initial-cluster-state new --heartbeat-interval 10 --election-timeout 50 --pre-vote \
    >>"$WORK/etcd-$1.log" 2>&1 &
  ETCD[$1]=$!
}
start_amfd() {
  in_ns "$1"
  "${IN[@]}" env PATH="$BIN:$PATH" "$BIN/amfd" --config "$WORK/cluster.yaml" --node "$1" \
    --runtime-dir "$WORK/$1" --cluster-key "$WORK/cluster.key" --realtime-priority "$PRIORITY" \
    >>"$WORK/$1.log" 2>&1 &
  AMFD[$1]=$!
}
# As systemd's Restart= would: an amfd that ended on its own (a node whose lease ran out fences
# itself and exits) is started again as its next life, and counted.
supervise() {
  local n
  for n in "${!AMFD[@]}"; do
    kill -0 "${AMFD[$n]}" 2>/dev/null && continue
    wait "${AMFD[$n]}" 2>/dev/null || true
    echo "   ($n's amfd ended on its own; started again)"
    RESTARTED=$((RESTARTED + 1))
    start_amfd "$n"
  done
}

status() { "$BIN/amfctl" --runtime-dir "$WORK/$1" status 2>/dev/null || true; }
director_of() { status "$1" | head -1 | sed -n 's/.*director \(n[0-9]\) (epoch [0-9]*).*/\1/p'; }
epoch_of() { status "$1" | head -1 | sed -n 's/.*director n[0-9] (epoch \([0-9]*\)).*/\1/p'; }
assignments() { status "$1" | grep "^counter/si-1" || true; }
settled() {  # settled NODE: NODE's status shows the SI with one active and a standby
  local a
  a=$(assignments "$1")
  [[ $a == *active* && $a == *standby* && $(grep -o active <<<"$a" | wc -l) == 1 ]]
}
# member WATCHER NODE: WATCHER's status has NODE in its membership view, heard. A voter that
# came back must be one again before another voter may go: two of three gone is no majority.
member() { status "$1" | awk -v n="$2" '$1 == n && $3 == "member" { found = 1 } END { exit !found }'; }
active_node() { assignments "$1" | grep -o 'counter/su-[12] active' | sed 's/counter\/su-\([12]\).*/n\1/'; }
pid_of() { status "$1" | awk -v comp="counter/su-${1#n}/server" '$1 == comp { print $3 }'; }
holders() {  # the nodes that have ADDR up
  local n out=""
  for n in n1 n2 n3; do
    ip -n "$TAG-$n" -br addr show dev eth0 2>/dev/null | grep -qw "$ADDR/24" && out+="$n "
  done
  echo "${out% }"
}
where() {  # where the service is, in words
  local n live="" dead=""
  if ((NETNS)); then
    for n in $(holders); do
      if [[ -n ${AMFD[$n]:-} ]]; then live+="$n "; else dead+="$n "; fi
    done
    live=${live% }
    [[ -z $dead ]] || dead=" (and in the namespace of the crashed ${dead% }, whose link is cut)"
    echo "ADDR is up on ${live:-no node }${dead}"
  else
    echo "the active is on $(active_node "$1")"
  fi
}

# The node dies whole: its amfd, its component and its etcd member at once, and its link.
crash() {
  local n=$1 pid
  pid=$(pid_of "$n")
  [[ -n $pid || $n == n3 ]] || fail "no PID for $n's component in $n's status"
  # (One group with its stderr gone: bash's "Killed" notices of its children are not news.)
  {
    strike "${AMFD[$n]}" ${pid:+"$pid"} "${ETCD[$n]}"
    if ((NETNS)); then ip -n "$TAG-br" link set "$TAG-v${n#n}" down; fi
    wait "${AMFD[$n]}" "${ETCD[$n]}" || true
  } 2>/dev/null
  unset "AMFD[$n]" "ETCD[$n]"
}
come_back() {
  ((NETNS)) && ip -n "$TAG-br" link set "$TAG-v${1#n}" up
  start_etcd "$1"
  start_amfd "$1"
}

if ((NETNS)); then
  echo "==> three nodes, each in a network namespace; the SI's floating service address ADDR=$ADDR"
else
  echo "==> three nodes on loopback ($([[ $(id -u) == 0 ]] && echo "AMF_DEMO_NETNS=0" || echo "not root"): no namespaces, no floating address); the counter on $ADDR"
fi
"$BIN/amfctl" keygen "$WORK/cluster.key" >/dev/null
if ((NETNS)); then
  make_cluster_netns "$TAG" "$NET"
  ip -n "$TAG-br" addr add "${NET}254/24" dev br0
fi
for n in n1 n2 n3; do start_etcd "$n"; done

SI_LINES=""
((NETNS)) && SI_LINES="            service_address: {address: ${ADDR}/24, interface: eth0}"
counter_cluster_yaml demo fast "[\"${NET}1:2379\", \"${NET}2:2379\", \"${NET}3:2379\"]" "$SI_LINES" \
  "{listen: \"${ADDR}\", port: \"${PORT}\"}" file >"$WORK/cluster.yaml"

start_amfd n1
until_true 20 eval '[[ $(director_of n1) == n1 ]]' || fail "n1 did not become the director (is etcd up? $WORK/etcd-n1.log)"
start_amfd n2
start_amfd n3
until_true 30 settled n1 || fail "the counter's SG did not settle"
if ((NETNS)); then
  until_true 5 eval '[[ $(holders) == "$(active_node n1)" ]]' || fail "ADDR is up on '$(holders)', not on the active's node only"
  ip netns exec "$TAG-br" "$BIN/amf-demo-client" --address "$ADDR" --port "$PORT" --seconds 3600 --answer-ms 25 >"$WORK/client.log" 2>&1 &
else
  "$BIN/amf-demo-client" --address "$ADDR" --port "$PORT" --seconds 3600 --answer-ms 25 >"$WORK/client.log" 2>&1 &
fi
CLIENT=$!
until_true 10 grep -q "^first answer" "$WORK/client.log" || fail "the client got no answer from $ADDR:$PORT"
echo "    settled: director n1 (epoch $(epoch_of n1)), counter/si-1 active on $(active_node n1), standby on the other; $(where n1)"
echo "    the client asks $ADDR:$PORT back to back; $(head -1 "$WORK/client.log")"
sleep 1  # n1's quiet time as a restarted voter has long passed; the first step is not special

declare -a SUMMARY
# strike PID...: SIGKILL to each, and right after it the client is told (SIGUSR1) to print the
# gap that its next answer closes (amf-demo-client); T1 and T2 are the times just before and
# just after (kill is a builtin: microseconds apart). report WHAT waits for that line (up to
# 20 s) and says it. A mark that reached the client only after the service was back (the
# script was not scheduled for a while) closes a gap that started after T2, which says nothing:
# then the gap of more than 5 ms that the client printed over T1..T2 is the one, and without
# one the outage was under 5 ms.
strike() {  # strike [-TERM] PID...: SIGKILL (or SIGTERM), and the client marks the moment
  local signal=-9
  [[ $1 == -TERM ]] && { signal=-TERM; shift; }
  MARKS=$(grep -c "^mark:" "$WORK/client.log" || true)
  T1=$EPOCHREALTIME
  kill "$signal" "$@" 2>/dev/null || true
  kill -USR1 "$CLIENT" 2>/dev/null || true
  T2=$EPOCHREALTIME
}
declare -A VALUES  # fault -> the outages in ms, space-separated
report() {  # report FAULT WHAT
  local fault=$1 i line="" ms
  shift
  for ((i = 0; i < 400; i++)); do
    (($(grep -c "^mark:" "$WORK/client.log") > MARKS)) && { line=$(grep "^mark:" "$WORK/client.log" | tail -1); break; }
    sleep 0.05
  done
  [[ -n $line ]] || fail "the client was not answered again within 20 s of the fault"
  line=${line#mark: outage }
  # The longest gap over the fault: the marked one when it started before T2, or one of those
  # over 5 ms that the client printed and that overlap T1..T2 (when the mark came late).
  line=$(awk -v t1="$T1" -v t2="$T2" -v marked="$line" '
    BEGIN { split(marked, m, " "); if (m[4] <= t2) { best = m[1]; out = marked } }
    $1 == "outage" && $5 <= t2 && t1 <= $7 && $2 > best { best = $2; $1 = ""; out = substr($0, 2) }
    END { print out }' "$WORK/client.log")
  [[ -n $line ]] || line="5 ms or less (the client printed no longer gap over the fault)"
  ms=${line%% ms*}
  printf '    client outage %s ms (%s\n' "$ms" "${line#*(}"
  SUMMARY+=("$(printf '  %-52s %9s ms' "$1" "$ms")")
  VALUES[$fault]+="${ms%% *} "
}

# One round: the four faults, each node back before the next.
round() {
  local director active other watcher held pid
  # 1. The active component killed.
  director=$(director_of n1)
  [[ -n $director ]] || fail "n1 knows no director"
  active=$(active_node "$director")
  other=$([[ $active == n1 ]] && echo n2 || echo n1)
  echo "==> 1. SIGKILL of the active component, counter/su-${active#n}/server on $active"
  pid=$(pid_of "$active")
  [[ -n $pid ]] || fail "no PID for the active component in $active's status"
  strike "$pid"
  report component "the active component killed (on $active)"
  until_true 20 eval 'settled "$director" && [[ $(active_node "$director") == "$other" ]]' ||
    fail "counter/su-${other#n} did not become active with a standby"
  echo "    counter/su-${other#n} on $other active, counter/su-${active#n} standby again; $(where "$director")"

  # 2. The active's node crashes, and comes back.
  sleep 0.5
  active=$other
  other=$([[ $active == n1 ]] && echo n2 || echo n1)
  echo "==> 2. node $active crashes (the active's node$([[ $active == "$director" ]] && echo ", the director's")): SIGKILL of its amfd, component and etcd member$( ((NETNS)) && echo "; its link cut")"
  crash "$active"
  if [[ $active == "$director" ]]; then
    report director "the active's node killed ($active, the director's too)"
  else
    report node "the active's node killed ($active)"
  fi
  watcher=$([[ $director == "$active" ]] && echo n3 || echo "$director")
  until_true 20 eval '[[ $(active_node "$watcher") == "$other" ]]' || fail "counter/su-${other#n} did not become active"
  echo "    counter/su-${other#n} on $other active; $(where "$watcher")"
  come_back "$active"
  until_true 30 settled "$watcher" || fail "$active did not come back with its SU as the standby"
  until_true 30 member "$watcher" "$active" || fail "$active did not rejoin the membership"
  echo "    $active back (its next life): counter/su-${active#n} standby again"
  sleep 0.5  # the restarted node's quiet time as a voter (amf/membership/README.md, rule 2)

  # 3. The director's node crashes.
  director=$(director_of n3)
  [[ -n $director ]] || fail "n3 knows no director"
  active=$(active_node "$director")
  held=$([[ $active == "$director" ]] && echo ", which holds the active" || echo ", which holds no active")
  echo "==> 3. the director's node $director crashes$held (epoch $(epoch_of n3))"
  watcher=$([[ $director == n3 ]] && echo n1 || echo n3)
  crash "$director"
  if [[ $active == "$director" ]]; then
    report director "the director's node killed ($director, with the active)"
  else
    report director-alone "the director's node killed ($director, without the active)"
  fi
  until_true 20 eval '[[ -n $(director_of "$watcher") && $(director_of "$watcher") != "$director" ]] && [[ -n $(active_node "$watcher") ]]' ||
    fail "no new director with an active counter"
  echo "    new director $(director_of "$watcher") (epoch $(epoch_of "$watcher")); counter/si-1 active on $(active_node "$watcher"); $(where "$watcher")"
  come_back "$director"
  until_true 30 settled "$watcher" || fail "$director did not come back"
  until_true 30 member "$watcher" "$director" || fail "$director did not rejoin the membership"
  sleep 0.5

  # 4. amfd stopped on the active's node: a switchover, then the node's amfd exits. (Asked of
  # the node that saw the new director: the one that came back may not know it yet.)
  director=$(director_of "$watcher")
  [[ -n $director ]] || fail "$watcher knows no director"
  active=$(active_node "$director")
  other=$([[ $active == n1 ]] && echo n2 || echo n1)
  watcher=$([[ $director == "$active" ]] && echo n3 || echo "$director")
  echo "==> 4. amfd stopped (SIGTERM) on the active's node $active$([[ $active == "$director" ]] && echo ", the director's"): it leaves, then exits"
  strike -TERM "${AMFD[$active]}"
  report stop "amfd stopped on the active's node ($active)"
  local rc=0
  wait "${AMFD[$active]}" || rc=$?
  unset "AMFD[$active]"
  [[ $rc == 0 ]] || fail "$active's amfd exited $rc on SIGTERM"
  until_true 20 eval '[[ $(active_node "$watcher") == "$other" ]]' || fail "counter/su-${other#n} did not become active"
  grep -q "holds no assignment any more" "$WORK/$active.log" ||
    fail "$active's amfd did not wait for its assignments to move (see $WORK/$active.log)"
  echo "    counter/su-${other#n} on $other active; $active's amfd exited once it held nothing; $(where "$watcher")"
  start_amfd "$active"
  until_true 30 settled "$watcher" || fail "$active did not come back with its SU as the standby"
  until_true 30 member "$watcher" "$active" || fail "$active did not rejoin the membership"
  echo "    $active's amfd started again: counter/su-${active#n} standby again"
  sleep 0.5
}

for ((r = 1; r <= ROUNDS; r++)); do
  ((ROUNDS == 1)) || echo "==> round $r of $ROUNDS"
  round
done

kill "$CLIENT" 2>/dev/null || true
wait "$CLIENT" 2>/dev/null || true
CLIENT=
# All at once: a node whose peers stopped first is cut off from the majority and may fence
# itself (exit 3) before its own SIGTERM is handled; anything else is a failure.
for n in "${!AMFD[@]}"; do kill "${AMFD[$n]}" 2>/dev/null || true; done
for n in "${!AMFD[@]}"; do
  rc=0
  wait "${AMFD[$n]}" || rc=$?
  [[ $rc == 0 || $rc == 3 ]] || fail "$n's amfd exited $rc on SIGTERM"
done
AMFD=()
left=$(pgrep -f -- "--runtime-dir $WORK/" || true)
[[ -z $left ]] || fail "amfd processes left behind: $left"
if ((NETNS)); then [[ -z $(holders) ]] || fail "ADDR is still up on $(holders) after every amfd stopped"; fi

echo "==> client-observed outage, fast profile, three nodes$( ((NETNS)) && echo ", the client on the floating address"):"
if ((ROUNDS == 1)); then
  printf '%s\n' "${SUMMARY[@]}"
else
  for fault in component node director director-alone stop; do
    [[ -n ${VALUES[$fault]:-} ]] || continue
    tr ' ' '\n' <<<"${VALUES[$fault]}" | grep . | sort -n | awk -v what="$fault" '
      { v[NR] = $1 }
      END {
        names["component"] = "the active component killed"
        names["node"] = "the active'"'"'s node killed (not the director'"'"'s)"
        names["director"] = "the director'"'"'s node killed, holding the active"
        names["director-alone"] = "the director'"'"'s node killed, not holding it"
        names["stop"] = "amfd stopped on the active'"'"'s node (switchover)"
        p90 = int(0.9 * NR); if (p90 < 1) p90 = 1; if (p90 < 0.9 * NR) p90++
        printf "  %-50s runs %3d  median %8.2f  p90 %8.2f  worst %8.2f ms\n", names[what], NR,
          (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[p90], v[NR]
      }'
  done
fi
echo "  $(grep '^requests:' "$WORK/client.log")"
LOSS=$(grep '^acknowledged increments lost:' "$WORK/client.log")
echo "  $LOSS"
# The checkpoint keeps every acknowledged increment through any one fault, and with its file
# store (checkpoint_store: file) through a second one too: an amfd that fenced itself (its lease
# ran out on a loaded machine) while it held the only replica in service gets its replicas back
# from its files, and whichever node is made active next takes the newest content. What it
# cannot outlive is a recovery that gave up on a silent replica holding newer writes, which
# amfd logs as a warning; only then does the demo say so rather than fail.
if [[ $LOSS != "acknowledged increments lost: 0;"* ]]; then
  grep -q "did not answer and may hold newer writes" "$WORK"/n?.log ||
    fail "the counter lost increments it had acknowledged (its checkpoint is synchronous and stored)"
  echo "  (a checkpoint's recovery went on without a replica that did not answer in time:" \
    "$(grep -h "did not answer and may hold newer writes" "$WORK"/n?.log | head -1))"
fi
((RESTARTED == 0)) || echo "  amfds that fenced themselves and were started again: $RESTARTED"
if ((ROUNDS == 1)); then
  echo "  (one run each on a shared machine: tools/demo/cluster_demo.sh BIN_DIR 20 gives medians)"
fi
