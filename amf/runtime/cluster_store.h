#pragma once

#include <cstdint>
#include <string>

#include "amf/core/result.h"
#include "amf/director/director.h"
#include "amf/membership/election.h"

// What a cluster of several nodes keeps in etcd, and its format: the director record and the
// admin states. Shared by the cluster node core (cluster_node.h), which reads and writes them,
// and amfd's one-node admin-state store, which keeps the admin states in a file in the same
// format.
namespace amf::runtime {

// The keys, under the cluster's name.
std::string director_key(const std::string& cluster);      // /amf/NAME/director
std::string admin_states_key(const std::string& cluster);  // /amf/NAME/admin-states

// The director record: {"director": "sc-1", "epoch": 4}. A value that is not one (written by
// hand, or by another program) is an error that names the key and quotes the value.
std::string encode_record(const membership::Record& record);
Result<membership::Record> decode_record(const std::string& value, std::int64_t mod_revision,
                                         const std::string& key);

// The admin states: {"amf_admin_states": 1, "states": [{"kind": "su", "entity": "app/su-1",
// "state": "locked-instantiation"}, ...]}, kinds and states as amfctl spells them. An error
// names the entry and what is wrong with it.
Result<director::AdminStates> parse_admin_states(const std::string& text);
std::string admin_states_json(const director::AdminStates& states);

}  // namespace amf::runtime
