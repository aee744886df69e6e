#pragma once

#include <string>
#include <vector>

#include "amf/model/config.h"

namespace amf::daemon {

// What a valid configuration may ask for that this build of amfd cannot do yet, one message
// per problem (empty: amfd can run it): the cores' limits (director/supported.h) and amfd's
// own (one node). amfd refuses at start-up rather than silently doing something else.
std::vector<std::string> unsupported_features(const model::ClusterConfig& config);

}  // namespace amf::daemon
