# Sourced by the cluster tests and the three-node demo: the namespaces they run nodes in, and
# the configuration they share.
#
# make_cluster_netns TAG NET: a namespace TAG-br with a bridge br0 (and lo up), and three node
# namespaces TAG-n1..TAG-n3, each with eth0 (address NET1..NET3/24, e.g. NET=10.213.7.) on a
# veth pair whose other end, TAG-v1..TAG-v3, is a port of the bridge. The caller removes them
# (ip netns del) when it ends.
make_cluster_netns() {
  local tag=$1 net=$2 i ns
  ip netns add "$tag-br"
  ip -n "$tag-br" link set lo up
  ip -n "$tag-br" link add br0 type bridge
  ip -n "$tag-br" link set br0 up
  for i in 1 2 3; do
    ns=$tag-n$i
    ip netns add "$ns"
    ip link add "$tag-v$i" type veth peer name eth0 netns "$ns"
    ip link set "$tag-v$i" netns "$tag-br"
    ip -n "$tag-br" link set "$tag-v$i" master br0 up
    ip -n "$ns" addr add "${net}$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
}

# counter_sg_yaml SG SI RECOVERY SI_LINES ATTRIBUTES: one 2N SG of amf-demo-counter under the
# application, on stdout: its SUs on n1 and n2, its component's RECOVERY (empty: the
# configuration's default), its one SI named SI with the extra lines SI_LINES (its service
# address, say; may be empty) and a CSI with ATTRIBUTES (a YAML map).
counter_sg_yaml() {
  local sg=$1 si=$2 recovery=$3 si_lines=$4 attributes=$5
  cat <<YAML
      - name: $sg
        redundancy: 2n
        su_template:
          nodes: [n1, n2]
          components:
            - name: server
              command: amf-demo-counter
              cs_types: [counter]
${recovery:+              recovery: $recovery
}              timeouts: {instantiate_ms: 3000, csi_set_ms: 2000}
        service_instances:
          - name: $si
${si_lines:+$si_lines
}            csis:
              - name: endpoint
                cs_type: counter
                attributes: $attributes
YAML
}

# counter_cluster_yaml NAME PROFILE ETCD SI_LINES ATTRIBUTES [STORE]: the configuration that the
# cluster tests and the demo share, on stdout: nodes n1..n3 at ${NET}1..3 (NET as for
# make_cluster_netns), all controllers; the membership PROFILE; etcd's members ETCD (a YAML
# list); a 2N SG 'counter' (counter_sg_yaml, component-failover) whose SI si-1 has SI_LINES and
# whose CSI has ATTRIBUTES; checkpoints kept in STORE (memory, the default, or file). A caller
# may append more SGs under the application.
counter_cluster_yaml() {
  local name=$1 profile=$2 etcd=$3 si_lines=$4 attributes=$5 store=${6:-memory}
  cat <<YAML
cluster:
  name: $name
  membership_profile: $profile
  etcd: $etcd
  checkpoint_store: $store
nodes:
  - {name: n1, address: ${NET}1, controller: true}
  - {name: n2, address: ${NET}2, controller: true}
  - {name: n3, address: ${NET}3, controller: true}
applications:
  - name: counter
    service_groups:
YAML
  counter_sg_yaml counter si-1 component-failover "$si_lines" "$attributes"
}

# running PID: whether the process lives (not ended, not a zombie waiting to be reaped) and is
# this shell's child (a PID that ended and was reaped may belong to another process by now).
running() {
  local stat
  stat=$(cut -d' ' -f3,4 "/proc/$1/stat" 2>/dev/null) || return 1
  [[ ${stat%% *} != Z && ${stat#* } == "$$" ]]
}

# end_processes PID...: SIGTERM to each, up to 5 s in all for them to end, then SIGKILL to any
# still running (an etcd member whose peers are gone has been seen to outlive its SIGTERM and
# keep its namespace); reaps those that are the caller's children. Only PIDs the caller started.
end_processes() {
  local pid deadline=$((SECONDS + 5))
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    while running "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
    if running "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  done
}
