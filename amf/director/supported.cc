#include "amf/director/supported.h"

#include "models/policy.h"

namespace amf::director {

std::vector<std::string> unsupported_features(const model::ClusterConfig& config) {
  std::vector<std::string> out;
  for (const model::SgConfig* sg : config.service_groups()) {
    if (auto policy = models::make_policy(sg->redundancy); !policy) {
      out.push_back("service group " + sg->id.str() + ": " + policy.error().message());
    }
    for (const auto& su : sg->sus) {
      for (const auto& comp : su.components) {
        if (comp.recovery == model::Recovery::kNodeSwitchover) {
          out.push_back("component " + comp.id.str() +
                        ": recovery 'node-switchover' is not implemented yet (implemented: "
                        "component-restart, component-failover, su-restart, su-failover, "
                        "node-failover, node-failfast)");
        }
      }
    }
  }
  return out;
}

}  // namespace amf::director
