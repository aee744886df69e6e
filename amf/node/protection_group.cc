// Protection groups (saAmfProtectionGroupTrack): which components a CSI is assigned to, in
// which HA state, told to the components that ask, and again when it changes.
//
// The node director answers from what it knows, its own node's components: the whole group
// in a cluster of one node, which is what amfd runs today. In a cluster of several nodes a
// group spans nodes and only the director knows it whole, so there requests are refused as not
// supported until the director answers them (issue 11).
#include <algorithm>
#include <string>

#include "amf/node/node_director.h"

namespace amf::node {

using model::ProtectionGroupChange;
using model::ProtectionGroupMember;
using model::ProtectionGroupRefusal;

Result<CsiId> NodeDirector::resolve_csi(const std::string& name) const {
  // safCsi=CSI,safSi=SI,safApp=APP, in that order, as OpenSAF names them.
  std::string csi_rdn, si_rdn, app_rdn;
  const bool dn = name.rfind("safCsi=", 0) == 0;
  if (dn) {
    const auto si_at = name.find(",safSi=");
    const auto app_at = name.find(",safApp=");
    if (si_at == std::string::npos || app_at == std::string::npos || app_at < si_at) {
      return fail("'" + name + "' is not a CSI's DN (safCsi=CSI,safSi=SI,safApp=APP)");
    }
    csi_rdn = name.substr(7, si_at - 7);
    si_rdn = name.substr(si_at + 7, app_at - si_at - 7);
    app_rdn = name.substr(app_at + 8);
  }
  std::vector<CsiId> found;
  for (const auto& app : config_->applications) {
    for (const auto& sg : app.service_groups) {
      for (const auto& si : sg.sis) {
        for (const auto& csi : si.csis) {
          const bool match = dn ? csi.name == csi_rdn && si.name == si_rdn && app.name == app_rdn
                                : csi.id.str() == name;
          if (match) found.push_back(csi.id);
        }
      }
    }
  }
  if (found.size() == 1) return found[0];
  if (found.empty()) {
    return fail("no CSI named '" + name +
                "'; name it as SG/SI/CSI or as safCsi=CSI,safSi=SI,safApp=APP");
  }
  return fail("'" + name + "' names CSIs of several SGs (" + found[0].str() + ", " +
              found[1].str() + "); name it as SG/SI/CSI");
}

std::vector<ProtectionGroupMember> NodeDirector::protection_group(const CsiId& csi) const {
  std::vector<ProtectionGroupMember> members;
  for (const auto& [id, comp] : comps_) {
    auto held = comp.csis.find(csi);
    if (held == comp.csis.end()) continue;
    members.push_back({id.str(), comp.config->dn, held->second.second,
                       sus_.at(comp.su).config->rank, ProtectionGroupChange::kNoChange});
  }
  return members;
}

void NodeDirector::on(const ComponentTrackProtectionGroup& e, TimePoint now) {
  auto refuse = [&](ProtectionGroupRefusal why, const std::string& error) {
    emit(SendProtectionGroup{e.peer, e.request, e.csi, {}, why, error});
  };
  CompState* comp = find_by_peer(e.peer);
  if (comp == nullptr) {
    notify(now, model::NotificationKind::kProtocolError, "peer " + std::to_string(e.peer), "", "",
           "", "protection group request from a connection that is not a registered component");
    return refuse(ProtectionGroupRefusal::kNotRegistered, "not a registered component");
  }
  if ((e.changes && e.changes_only) ||
      !(e.current || e.current_callback || e.changes || e.changes_only)) {
    return refuse(ProtectionGroupRefusal::kBadRequest,
                  "ask for the current group, its changes, or its changes only (not both)");
  }
  if (config_->nodes.size() > 1) {
    return refuse(ProtectionGroupRefusal::kNotSupported,
                  "protection groups are not yet tracked in a cluster of several nodes");
  }
  auto csi = resolve_csi(e.csi);
  if (!csi) return refuse(ProtectionGroupRefusal::kNoSuchCsi, csi.error().message());
  std::vector<ProtectionGroupMember> members = protection_group(*csi);
  if (e.changes || e.changes_only) {
    trackers_[comp->config->id][*csi] = {e.csi, e.changes_only, members};
  }
  const std::size_t size = members.size();
  emit(SendProtectionGroup{e.peer, e.request, e.csi, e.current ? members : decltype(members){},
                           ProtectionGroupRefusal::kNone, "", size});
  if (e.current_callback) {
    emit(SendProtectionGroup{e.peer, 0, e.csi, members, ProtectionGroupRefusal::kNone, "", size});
  }
}

void NodeDirector::on(const ComponentStopTrackingProtectionGroup& e, TimePoint) {
  auto refuse = [&](ProtectionGroupRefusal why, const std::string& error) {
    emit(SendProtectionGroup{e.peer, e.request, e.csi, {}, why, error});
  };
  CompState* comp = find_by_peer(e.peer);
  if (comp == nullptr) {
    return refuse(ProtectionGroupRefusal::kNotRegistered, "not a registered component");
  }
  auto csi = resolve_csi(e.csi);
  if (!csi) return refuse(ProtectionGroupRefusal::kNoSuchCsi, csi.error().message());
  auto tracked = trackers_.find(comp->config->id);
  if (tracked == trackers_.end() || tracked->second.erase(*csi) == 0) {
    return refuse(ProtectionGroupRefusal::kNotTracked, "'" + e.csi + "' is not tracked");
  }
  if (tracked->second.empty()) trackers_.erase(tracked);
  emit(SendProtectionGroup{e.peer, e.request, e.csi, {}});
}

void NodeDirector::report_protection_groups() {
  for (auto& [comp_id, tracked] : trackers_) {
    const CompState& comp = comps_.at(comp_id);
    if (!comp.peer) continue;  // disconnect() drops its trackers
    for (auto& [csi, tracker] : tracked) {
      std::vector<ProtectionGroupMember> now = protection_group(csi);
      if (now == tracker.told) continue;
      // Each member now, marked against what the tracker was told; then the ones gone.
      std::vector<ProtectionGroupMember> report;
      for (const auto& member : now) {
        auto was = std::find_if(tracker.told.begin(), tracker.told.end(),
                                [&](const auto& m) { return m.component == member.component; });
        ProtectionGroupMember marked = member;
        marked.change = was == tracker.told.end() ? ProtectionGroupChange::kAdded
                        : was->ha != member.ha    ? ProtectionGroupChange::kStateChange
                                                  : ProtectionGroupChange::kNoChange;
        if (!tracker.changes_only || marked.change != ProtectionGroupChange::kNoChange) {
          report.push_back(marked);
        }
      }
      for (const auto& member : tracker.told) {
        const bool gone = std::none_of(
            now.begin(), now.end(), [&](const auto& m) { return m.component == member.component; });
        if (!gone) continue;
        ProtectionGroupMember removed = member;
        removed.change = ProtectionGroupChange::kRemoved;
        report.push_back(removed);
      }
      const std::size_t size = now.size();
      tracker.told = std::move(now);
      emit(SendProtectionGroup{*comp.peer, 0, tracker.name, std::move(report),
                               ProtectionGroupRefusal::kNone, "", size});
    }
  }
}

}  // namespace amf::node
