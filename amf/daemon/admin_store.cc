#include "amf/daemon/admin_store.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "amf/daemon/durable_file.h"

namespace amf::daemon {
namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

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
  auto states = runtime::parse_admin_states(text.str());
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
  return write_durably(path_, runtime::admin_states_json(states_), "the admin-state store");
}

}  // namespace amf::daemon
