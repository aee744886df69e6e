#include "amf/director/supported.h"

#include "models/policy.h"

namespace amf::director {

std::vector<std::string> unsupported_features(const model::ClusterConfig& config) {
  std::vector<std::string> out;
  for (const model::SgConfig* sg : config.service_groups()) {
    if (auto policy = models::make_policy(sg->redundancy); !policy) {
      out.push_back("service group " + sg->id.str() + ": " + policy.error().message());
    }
  }
  return out;
}

}  // namespace amf::director
