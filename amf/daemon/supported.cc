#include "amf/daemon/supported.h"

#include <map>
#include <tuple>

#include "amf/director/supported.h"

namespace amf::daemon {

std::vector<std::string> unsupported_features(const model::ClusterConfig& config) {
  std::vector<std::string> out;
  if (config.nodes.size() > 1) {
    if (config.etcd.empty()) {
      out.push_back("the cluster has " + std::to_string(config.nodes.size()) +
                    " nodes, and a cluster of several nodes elects its director through etcd: "
                    "list the etcd members' client addresses under cluster: etcd: [HOST:PORT, "
                    "...]");
    }
    // Several nodes on one machine (or namespace) each need their own ports: UDP for the
    // membership, TCP for the command and checkpoint links.
    std::map<std::tuple<std::string, std::string, int>, std::string> bound;
    for (const model::NodeConfig& n : config.nodes) {
      for (const auto& [protocol, key, port] :
           {std::tuple<std::string, std::string, int>{"udp", "membership_port", n.membership_port},
            {"tcp", "command_port", n.command_port},
            {"tcp", "checkpoint_port", n.checkpoint_port}}) {
        auto [it, added] = bound.try_emplace({n.address, protocol, port}, n.name + "'s " + key);
        if (added) continue;
        out.push_back(it->second + " and " + n.name + "'s " + key + " are both " + protocol +
                      " port " + std::to_string(port) + " on " + n.address +
                      ": nodes on one address need ports of their own");
      }
    }
  }
  for (auto& problem : director::unsupported_features(config)) out.push_back(std::move(problem));
  return out;
}

}  // namespace amf::daemon
