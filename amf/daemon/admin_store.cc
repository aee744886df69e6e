#include "amf/daemon/admin_store.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "amf/daemon/durable_file.h"

namespace amf::daemon {
namespace {

using nlohmann::json;

// The file's format: {"amf_admin_states": 1, "states": [{"kind": "su", "entity":
// "app/su-1", "state": "locked-instantiation"}, ...]}, kinds and states as amfctl spells them.
constexpr int kFormat = 1;

std::string errno_text() { return std::strerror(errno); }

}  // namespace

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

Result<AdminStore> AdminStore::open(std::string path) {
  AdminStore store(std::move(path));
  std::error_code ec;
  if (!std::filesystem::exists(store.path_, ec) && !ec) return store;  // nothing kept yet
  if (!ec && !std::filesystem::is_regular_file(store.path_, ec) && !ec) {
    return fail("the admin-state store " + store.path_ + " is not a file; remove it");
  }
  std::ifstream in(store.path_);
  if (ec || !in) {
    return fail("cannot read the admin-state store " + store.path_ + ": " +
                (ec ? ec.message() : errno_text()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto states = parse_admin_states(text.str());
  if (!states) {
    return fail("admin-state store " + store.path_ + ": " + states.error().message() +
                "; mend it or remove it (amfd then starts from the configured admin states)");
  }
  store.states_ = std::move(*states);
  return store;
}

Result<void> AdminStore::put(const director::AdminStateChanged& change) {
  states_[{change.kind, change.entity}] = change.state;
  return write();
}

Result<void> AdminStore::replace(director::AdminStates states) {
  states_ = std::move(states);
  return write();
}

Result<void> AdminStore::write() const {
  return write_durably(path_, admin_states_json(states_), "the admin-state store");
}

}  // namespace amf::daemon
