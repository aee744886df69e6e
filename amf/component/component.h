#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amf/checkpoint/service.h"
#include "amf/core/result.h"
#include "amf/model/states.h"

namespace amf::component {

using Invocation = std::uint64_t;

struct CsiDescriptor {
  std::string csi;  // e.g. "counter/si-1/endpoint"
  model::HaState ha;
  model::TransitionReason reason;  // kFailover: the previous active died without handing over
  // Name and value pairs; a multi-valued attribute repeats its name, its values in configured
  // order (attributes.equal_range(name); lower_bound(name) is the first), and one without a
  // value has an empty one.
  model::CsiAttributes attributes;
  // A standby's: who holds the CSI active (its component, SU, node, and the CSI's attributes
  // as that SU has them), as SA Forum's standby descriptor names activeCompName. Absent for an
  // active, and for a standby while the SI has no active; a new CSI set (standby again) says
  // when the active moves.
  std::optional<model::ActiveDescriptor> active;
};

// A protection group told through the protection_group callback: the CSI as the component
// named it, and the group (each member marked added, removed, changed state or unchanged) or,
// when it tracks changes only, the changed members; `size` is how many members it has now.
struct ProtectionGroupUpdate {
  std::string csi;
  std::vector<model::ProtectionGroupMember> members;
  std::size_t size = 0;
};

// What the node director asks of the component. Every callback must be answered with
// Handle::response(invocation, ...) within the component's configured callback timeout;
// silence or an error answer is a component failure and triggers its recovery.
struct Callbacks {
  std::function<void(Invocation, const CsiDescriptor&)> csi_set;
  std::function<void(Invocation, const std::string& csi)> csi_remove;
  // AMF-invoked health check (health_check with invoked_by: amf). Optional: without it the
  // library answers "healthy" from dispatch(), which proves the component's loop is alive.
  std::function<void(Invocation, const std::string& key)> healthcheck;
  // amf asks the component to terminate (saAmfComponentTerminateCallback): answer, then exit.
  // Optional: without it the library answers ok and raises SIGTERM in the process, as amf did
  // before it had the callback. An error answer has the component cleaned up (SIGKILL or its
  // cleanup command).
  std::function<void(Invocation)> terminate;
  // A tracked protection group (track_protection_group with current_callback, changes or
  // changes_only).
  std::function<void(const ProtectionGroupUpdate&)> protection_group;
};

// What to track of a protection group (saAmfProtectionGroupTrack's flags): `current`, the
// group now, in the answer; `current_callback`, the group now, through the protection_group
// callback; `changes` (the whole group) or `changes_only` (its changed members), through the
// callback whenever it changes, until stop_tracking_protection_group.
struct TrackFlags {
  bool current = true;
  bool current_callback = false;
  bool changes = false;
  bool changes_only = false;
};

// amfd's answer: the group (when `current` was asked), or why it refused.
struct ProtectionGroupAnswer {
  std::vector<model::ProtectionGroupMember> members;
  model::ProtectionGroupRefusal refusal = model::ProtectionGroupRefusal::kNone;
  std::string error;
};

// A component's connection to its node director (the SA Forum AMF library handle).
//
// Usage, in the component's own event loop:
//   auto handle = Handle::initialize(callbacks);      // reads AMF_COMPONENT_NAME/_SOCKET
//   handle->register_component();                     // the component is now instantiated
//   loop: poll selection_fd() for POLLIN together with your own fds, with a zero timeout
//         while pending() is true; after every wake-up call dispatch(), which runs callbacks.
// The descriptor is edge-like (a ZeroMQ socket's notification fd): it may stay quiet while
// messages wait, which is what pending() tells.
//
// Thread-compatible: use one Handle from one thread. Movable, not copyable.
class Handle {
 public:
  // Connects using AMF_COMPONENT_NAME and AMF_COMPONENT_SOCKET, which amfd sets for every
  // component it starts.
  static Result<Handle> initialize(Callbacks callbacks);
  static Result<Handle> initialize(Callbacks callbacks, std::string name, std::string endpoint);

  Handle(Handle&&) noexcept;
  Handle& operator=(Handle&&) noexcept;
  ~Handle();

  // Registers with the node director and waits for its answer (bounded by `timeout`).
  Result<void> register_component(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  int selection_fd() const;
  bool pending() const;
  // Runs the callbacks of every message waiting; never blocks.
  Result<void> dispatch();
  // Runs the callback of the first message waiting, if any (false: none was); never blocks.
  Result<bool> dispatch_one();
  Result<void> response(Invocation invocation, bool ok, const std::string& error = "");

  // Reports the component's own failure (saAmfComponentErrorReport). `recommended_recovery`
  // is a recovery name as in the configuration ("component-restart", "su-failover", ...) or
  // empty for the configured one. amfd recovers the component as it would from a crash.
  Result<void> error_report(const std::string& recommended_recovery, const std::string& reason);

  // Confirms health for a component-invoked health check (invoked_by: component).
  Result<void> healthcheck_confirm(const std::string& key);

  // A CSI's protection group: the components it is assigned to, with their HA states
  // (saAmfProtectionGroupTrack); `csi` is an id (SG/SI/CSI) or a DN (safCsi=...). Waits for
  // amfd's answer (bounded by `timeout`); callbacks that come meanwhile wait for dispatch().
  // Tracked in a cluster of one node only, for now (refusal kNotSupported otherwise).
  Result<ProtectionGroupAnswer> track_protection_group(
      const std::string& csi, TrackFlags flags,
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  Result<ProtectionGroupAnswer> stop_tracking_protection_group(
      const std::string& csi, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // ---- checkpoints (SAF's CKPT; amf/checkpoint/README.md) ----
  // Each call waits for amfd's answer (bounded by `timeout`); callbacks that come meanwhile
  // wait for dispatch(). An error says what and which checkpoint or section.
  //
  // Opens checkpoint `name` on this node, creating it with `create` if the node holds no
  // replica of it yet (one that exists must have the same attributes); `write` to write it.
  // Its replicas are on the nodes that host an SU of this component's SG.
  Result<void> checkpoint_open(const std::string& name,
                               std::optional<checkpoint::Attributes> create, bool write,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));
  Result<void> checkpoint_close(const std::string& name,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Creates, deletes, writes, overwrites a section or sets its expiration. Only a component
  // that holds an active (or quiescing) assignment writes. Returns once the checkpoint's
  // update mode says the write is done: synchronous, once every replica in service holds it.
  // One write carries at most about 60 KiB (amfd's socket takes 64 KiB a message): write a
  // larger section in parts, at offsets.
  Result<void> checkpoint_write(const std::string& name, checkpoint::Operation operation,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Up to `size` bytes of a section from `offset`, from this node's replica (at most 8 MiB an
  // answer: read a larger section in parts).
  Result<std::string> checkpoint_read(const std::string& name, const std::string& section,
                                      std::uint64_t offset = 0,
                                      std::uint64_t size = std::uint64_t{8} << 20,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Every section of this node's replica, with its size and lifetime left.
  Result<std::vector<checkpoint::SectionInfo>> checkpoint_sections(
      const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  const std::string& name() const;

 private:
  struct Impl;
  explicit Handle(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace amf::component
