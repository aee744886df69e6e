#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace amf::director {

// Administrative operations (SA Forum AMF, saAmf*AdminOp). Names as amfctl spells them.
enum class AdminOp {
  kLock,                 // switch the entity's assignments away (quiesce, promote, remove)
  kUnlock,               // make it available for assignments again
  kLockInstantiation,    // terminate a locked SU's components
  kUnlockInstantiation,  // instantiate them again (the SU stays locked)
  kShutdown,             // like lock, but actives finish their work first (quiescing)
  kRepair,               // clear a disabled SU (fault, instantiation or termination failure)
  kSiSwap,               // swap an SI's active and standby (2N, N+M: the SUs swap roles)
  kAdjust,               // move an SG's assignments to its preferred SUs (by rank)
  kRestart,              // restart an SU's (or one component's) processes in place
};

std::string_view to_string(AdminOp op);
std::optional<AdminOp> parse_admin_op(std::string_view text);

// What an admin operation applies to. Names as amfctl spells them.
enum class EntityKind { kSu, kComp, kNode, kSg, kApp, kCluster, kSi };

std::string_view to_string(EntityKind kind);
std::optional<EntityKind> parse_entity_kind(std::string_view text);
// "su, comp, node, sg, app, cluster, si": for messages about an unknown kind.
std::string entity_kinds();

// An operator's request on the entity of `kind` named `entity` ("counter/su-1"; empty or the
// cluster's name for the cluster).
// lock, unlock, shutdown, lock-instantiation and unlock-instantiation apply to su, node, sg,
// app and cluster (an SU feels the most restrictive admin state of all the levels above it);
// lock, unlock and shutdown also to si (a locked SI is assigned nowhere; shutdown lets its
// active finish its work first); repair to su and node; si-swap to si; adjust to sg; restart
// to su and comp (a component, "app/su-1/server": only the kind restart applies to).
// The director answers every request with exactly one AdminResult of the same id: at once
// when it refuses, else when the operation has completed or its time limit has run out.
struct AdminRequest {
  std::uint64_t id = 0;
  AdminOp op = AdminOp::kLock;
  EntityKind kind = EntityKind::kSu;
  std::string entity;
};

struct AdminResult {
  std::uint64_t id = 0;
  bool ok = false;
  // On refusal: what and why, and "try again" when it is only "not now". On success, what the
  // operator should know of what it did not do (empty for most).
  std::string message;
};

}  // namespace amf::director
