# Sourced by the cluster tests and the three-node demo: the namespaces they run nodes in.
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
