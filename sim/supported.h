#pragma once

#include <string>
#include <vector>

#include "amf/model/config.h"

namespace amf::sim {

// What in `config` the cores cannot run yet, one sentence each (empty: all of it runs).
// The same limits as amfd's (amf/daemon/supported.cc), minus the single-node one: the
// simulator routes commands to every node director in memory (though it injects no node
// fault: the director has no NodeDown yet).
std::vector<std::string> unsupported_features(const model::ClusterConfig& config);

}  // namespace amf::sim
