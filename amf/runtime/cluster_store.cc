#include "amf/runtime/cluster_store.h"

#include <nlohmann/json.hpp>

namespace amf::runtime {
namespace {

using nlohmann::json;

constexpr int kFormat = 1;  // of the admin states

}  // namespace

std::string director_key(const std::string& cluster) { return "/amf/" + cluster + "/director"; }
std::string admin_states_key(const std::string& cluster) {
  return "/amf/" + cluster + "/admin-states";
}

std::string encode_record(const membership::Record& r) {
  return json{{"director", r.director.str()}, {"epoch", r.epoch}}.dump();
}

Result<membership::Record> decode_record(const std::string& value, std::int64_t mod_revision,
                                         const std::string& key) {
  auto j = json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("director") || !j["director"].is_string() ||
      j["director"].get<std::string>().empty() || !j.contains("epoch") ||
      !j["epoch"].is_number_unsigned()) {
    return fail("etcd key " + key + " does not hold a director record ({\"director\": node, " +
                "\"epoch\": number}): '" + value.substr(0, 80) + "'");
  }
  return membership::Record{NodeId(j["director"].get<std::string>()),
                            j["epoch"].get<std::uint64_t>(), mod_revision};
}

Result<director::AdminStates> parse_admin_states(const std::string& text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return fail(std::string("not JSON: ") + e.what());  // it names the line and column
  }
  if (!doc.is_object() || !doc.contains("amf_admin_states")) {
    return fail("not an amf admin-state store (no \"amf_admin_states\" key)");
  }
  if (doc["amf_admin_states"] != kFormat) {
    return fail("format " + doc["amf_admin_states"].dump() + " is not one this amfd reads (" +
                std::to_string(kFormat) + ")");
  }
  if (!doc.contains("states") || !doc["states"].is_array()) {
    return fail("\"states\" is missing or not a list");
  }
  director::AdminStates out;
  std::size_t index = 0;
  for (const json& entry : doc["states"]) {
    const std::string where = "states[" + std::to_string(index++) + "]";
    auto text_of = [&](const char* key) -> Result<std::string> {
      if (!entry.is_object() || !entry.contains(key) || !entry[key].is_string()) {
        return fail(where + ": \"" + key + "\" is missing or not a string");
      }
      return entry[key].get<std::string>();
    };
    auto kind_text = text_of("kind");
    if (!kind_text) return tl::unexpected(kind_text.error());
    auto entity = text_of("entity");
    if (!entity) return tl::unexpected(entity.error());
    auto state_text = text_of("state");
    if (!state_text) return tl::unexpected(state_text.error());
    const auto kind = director::parse_entity_kind(*kind_text);
    if (!kind) {
      return fail(where + ": unknown kind '" + *kind_text + "' (" + director::entity_kinds() + ")");
    }
    const auto state = model::parse_admin_state(*state_text);
    if (!state) {
      return fail(where + ": unknown admin state '" + *state_text +
                  "' (unlocked, locked, locked-instantiation, shutting-down)");
    }
    // What no director sets: amfctl's kinds and states, but not together.
    if (*kind == director::EntityKind::kComp) {
      return fail(where + ": a component has no admin state (its SU has)");
    }
    if (*kind == director::EntityKind::kSi && *state == model::AdminState::kLockedInstantiation) {
      return fail(where +
                  ": an SI is never locked-instantiation (unlocked, locked, "
                  "shutting-down)");
    }
    if (!out.emplace(std::pair{*kind, *entity}, *state).second) {
      return fail(where + ": " + *kind_text + " '" + *entity + "' is in the store twice");
    }
  }
  return out;
}

std::string admin_states_json(const director::AdminStates& states) {
  json entries = json::array();
  for (const auto& [key, state] : states) {
    entries.push_back({{"kind", std::string(director::to_string(key.first))},
                       {"entity", key.second},
                       {"state", std::string(model::to_string(state))}});
  }
  return json{{"amf_admin_states", kFormat}, {"states", std::move(entries)}}.dump(2) + "\n";
}

}  // namespace amf::runtime
