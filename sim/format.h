#pragma once

#include <string>

#include "amf/director/director.h"
#include "amf/model/notification.h"
#include "amf/node/node_director.h"

namespace amf::sim {

// One-line texts of what flows between the cores, for the trace and transcripts. Stable: the
// golden scenario transcripts and the determinism tests compare them byte for byte.
std::string describe(const node::Event& event);
std::string describe(const node::Effect& effect);
std::string describe(const director::Effect& effect);
std::string describe(const protocol::NodeCommand& command);
std::string describe(const director::AdminRequest& request);
std::string describe(const director::AdminResult& result);
// "presence app/su-1/server instantiated -> terminating (cause)", no time.
std::string describe(const model::Notification& n);

}  // namespace amf::sim
