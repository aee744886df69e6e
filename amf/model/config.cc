#include "amf/model/config.h"

#include <algorithm>

namespace amf::model {

std::string_view instantiated_when_name(InstantiatedWhen when) {
  switch (when) {
    case InstantiatedWhen::kRegistered:
      return "registered";
    case InstantiatedWhen::kNotified:
      return "notified";
    case InstantiatedWhen::kStarted:
      return "started";
    case InstantiatedWhen::kProbed:
      return "probed";
  }
  return "?";
}

CsiAttributes CsiConfig::attributes_for(const SuId& su) const {
  const auto own = su_attributes.find(su);
  if (own == su_attributes.end()) return attributes;
  CsiAttributes out = own->second;
  for (const auto& [name, value] : attributes) {
    if (!own->second.contains(name)) out.emplace(name, value);
  }
  return out;
}

int serving_sus(const SgConfig& sg) {
  const int sus = static_cast<int>(sg.sus.size());
  switch (sg.redundancy) {
    case RedundancyModel::kTwoN:
      return std::min(1, sus);
    case RedundancyModel::kNWay: {  // each SI's active on the least loaded assigned SU
      const int assigned =
          sg.preferred_assigned_sus > 0 ? std::min(sg.preferred_assigned_sus, sus) : sus;
      return std::min(static_cast<int>(sg.sis.size()), assigned);
    }
    case RedundancyModel::kNPlusM:
      return std::min(sg.preferred_active_sus, sus);
    case RedundancyModel::kNWayActive:
      return sg.preferred_assigned_sus > 0 ? std::min(sg.preferred_assigned_sus, sus) : sus;
    case RedundancyModel::kNoRedundancy:
      break;
  }
  return std::min(static_cast<int>(sg.sis.size()), sus);
}

const NodeConfig* ClusterConfig::find_node(const NodeId& id) const {
  for (const auto& node : nodes) {
    if (node.id == id) return &node;
  }
  return nullptr;
}

std::vector<NodeId> ClusterConfig::voters() const {
  std::vector<NodeId> out;
  for (const NodeConfig& n : nodes) {
    if (n.controller || n.witness) out.push_back(n.id);
  }
  return out;
}

std::vector<const SgConfig*> ClusterConfig::service_groups() const {
  std::vector<const SgConfig*> out;
  for (const auto& app : applications) {
    for (const auto& sg : app.service_groups) out.push_back(&sg);
  }
  return out;
}

// Lookups walk the configuration in place (no list of SGs is built for each): linear, and
// meant for what is looked up once (an admin request, a script). A core that looks entities up
// per event keeps its own index (NodeDirector: its SIs, components and peers).
const SgConfig* ClusterConfig::find_sg(const SgId& id) const {
  for (const auto& app : applications) {
    for (const auto& sg : app.service_groups) {
      if (sg.id == id) return &sg;
    }
  }
  return nullptr;
}

const SuConfig* ClusterConfig::find_su(const SuId& id) const {
  for (const auto& app : applications) {
    for (const auto& sg : app.service_groups) {
      for (const auto& su : sg.sus) {
        if (su.id == id) return &su;
      }
    }
  }
  return nullptr;
}

const SgConfig* ClusterConfig::sg_of(const CompId& id) const {
  for (const auto& app : applications) {
    for (const auto& sg : app.service_groups) {
      for (const auto& su : sg.sus) {
        for (const auto& comp : su.components) {
          if (comp.id == id) return &sg;
        }
      }
    }
  }
  return nullptr;
}

const SiConfig* ClusterConfig::find_si(const SiId& id) const {
  for (const auto& app : applications) {
    for (const auto& sg : app.service_groups) {
      for (const auto& si : sg.sis) {
        if (si.id == id) return &si;
      }
    }
  }
  return nullptr;
}

const ComponentConfig* ClusterConfig::find_component(const CompId& id) const {
  for (const auto& app : applications) {
    for (const auto& sg : app.service_groups) {
      for (const auto& su : sg.sus) {
        for (const auto& comp : su.components) {
          if (comp.id == id) return &comp;
        }
      }
    }
  }
  return nullptr;
}

}  // namespace amf::model
