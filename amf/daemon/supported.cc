#include "amf/daemon/supported.h"

#include "amf/director/supported.h"

namespace amf::daemon {

std::vector<std::string> unsupported_features(const model::ClusterConfig& config) {
  std::vector<std::string> out;
  if (config.nodes.size() > 1) {
    out.push_back("the cluster has " + std::to_string(config.nodes.size()) +
                  " nodes; this build runs single-node clusters only (multi-node needs the "
                  "membership layer, not built yet)");
  }
  for (auto& problem : director::unsupported_features(config)) out.push_back(std::move(problem));
  return out;
}

}  // namespace amf::daemon
