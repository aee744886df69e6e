#pragma once

#include <memory>
#include <string>

#include "amf/model/config.h"

namespace amf::test {

// A one-application cluster built in code, for core tests that must not depend on the YAML
// loader: SG "app", SUs "app/su-1".."app/su-N" ranked 1..N with one component "server" each,
// SIs "app/si-1".."app/si-M" with one CSI "csi" of CS type "svc". All on node "node-1" unless
// `nodes` names one node per SU.
struct ClusterSpec {
  model::RedundancyModel redundancy = model::RedundancyModel::kTwoN;
  int sus = 2;
  int sis = 1;
  model::Recovery recovery = model::Recovery::kComponentFailover;
  int instantiate_retries = 2;
  std::vector<std::string> nodes;  // empty: all on node-1
};

inline std::shared_ptr<const model::ClusterConfig> make_cluster(const ClusterSpec& spec) {
  auto config = std::make_shared<model::ClusterConfig>();
  config->name = "test";
  auto add_node = [&](const std::string& name) {
    if (config->find_node(NodeId(name))) return;
    config->nodes.push_back({NodeId(name), name, "127.0.0.1", true});
  };
  add_node("node-1");
  model::ApplicationConfig app{AppId("app"), "app", {}};
  model::SgConfig sg;
  sg.id = SgId("app");
  sg.app = app.id;
  sg.name = "app";
  sg.redundancy = spec.redundancy;
  for (int i = 1; i <= spec.sus; ++i) {
    const std::string su_name = "su-" + std::to_string(i);
    const std::string node = spec.nodes.empty() ? "node-1" : spec.nodes.at(i - 1);
    add_node(node);
    model::SuConfig su{SuId("app/" + su_name), su_name, NodeId(node), i, {}};
    model::ComponentConfig comp;
    comp.id = CompId(su.id.str() + "/server");
    comp.name = "server";
    comp.command = "server";
    comp.cs_types = {"svc"};
    comp.recovery = spec.recovery;
    comp.instantiate_retries = spec.instantiate_retries;
    su.components.push_back(comp);
    sg.sus.push_back(su);
  }
  for (int i = 1; i <= spec.sis; ++i) {
    const std::string si_name = "si-" + std::to_string(i);
    model::SiConfig si;
    si.id = SiId("app/" + si_name);
    si.name = si_name;
    si.rank = i;
    si.csis.push_back({CsiId(si.id.str() + "/csi"), "csi", "svc", {{"port", "7000"}}});
    sg.sis.push_back(si);
  }
  app.service_groups.push_back(sg);
  config->applications.push_back(app);
  return config;
}

inline SuId su(int i) { return SuId("app/su-" + std::to_string(i)); }
inline SiId si(int i) { return SiId("app/si-" + std::to_string(i)); }
inline CompId comp(int i) { return CompId("app/su-" + std::to_string(i) + "/server"); }

}  // namespace amf::test
