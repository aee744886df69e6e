#pragma once

#include <string>
#include <vector>

#include "amf/model/config.h"

namespace amf::director {

// What a valid configuration asks for that the cores (director, node director, redundancy
// models) do not implement yet, one sentence per problem naming the entity (empty: all of
// it runs). amfd adds the limits of its own (daemon/supported.h); the simulator uses this as
// it is. The loader accepts the whole AMF vocabulary; these refuse rather than silently do
// something else.
std::vector<std::string> unsupported_features(const model::ClusterConfig& config);

}  // namespace amf::director
