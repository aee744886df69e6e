#pragma once

#include <string>

#include "amf/core/result.h"
#include "amf/director/director.h"
#include "amf/runtime/cluster_store.h"

namespace amf::daemon {

// amfd's admin-state store: the admin states the director changed (AdminStateChanged, unlocked
// included), kept in one JSON file so that an amfd that restarts starts from what the operator
// set, not from the configuration again, as OpenSAF keeps saAmf*AdminState in IMM.
//
// The file is rewritten whole on every change (a temporary file beside it, fsync, rename, fsync
// of the directory): after a crash it holds the states before or after a change, never a mix.
// A one-node cluster's store; a cluster of several nodes keeps admin states in etcd.
// The store's format is amf/runtime/cluster_store.h's: in the file here, and in etcd where a
// cluster of several nodes keeps it.

class AdminStore {
 public:
  // Reads `path` where it exists (a missing file is an empty store). A file that cannot be read
  // or is not a store (not JSON, an unknown kind or state, a state its kind never has, an
  // entry twice) is an error that names the file and the entry: amfd refuses to start rather
  // than forget an operator's lock.
  static Result<AdminStore> open(std::string path);

  const director::AdminStates& states() const { return states_; }
  const std::string& path() const { return path_; }

  // Keeps `change` (written through; on failure the file keeps what it held and the change is
  // still in memory, written with the next one).
  Result<void> put(const director::AdminStateChanged& change);
  // Keeps `states` instead of what it held.
  Result<void> replace(director::AdminStates states);

 private:
  explicit AdminStore(std::string path) : path_(std::move(path)) {}
  Result<void> write() const;

  std::string path_;
  director::AdminStates states_;
};

}  // namespace amf::daemon
