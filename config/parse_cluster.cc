#include <algorithm>
#include <string>
#include <utility>

#include "config/parse.h"

namespace amf::config::detail {
namespace {

constexpr std::string_view kDefaultAddress = "127.0.0.1";

model::NodeConfig read_node(const Node& item, KnownNodes& known, bool& controller_unreadable,
                            Diagnostics& diags) {
  MapReader r(item, item.mark, "node",
              {"name", "address", "controller", "su_failover_max", "su_failover_probation_ms"},
              {"name"}, diags);
  model::NodeConfig node;
  node.address = kDefaultAddress;
  if (!r.is_mapping()) {
    known.complete = false;
    return node;
  }
  if (auto name = r.name("name")) {
    node.name = *name;
    node.id = NodeId(*name);
    known.names.add(*name, r.value_mark("name"), diags);
  } else {
    known.complete = false;
  }
  if (auto address = r.string("address")) {
    if (address->empty()) {
      diags.error(r.value_mark("address"), "'address' in " + r.label() + " must not be empty");
    }
    node.address = *address;
  }
  if (auto max = r.integer("su_failover_max", 0, kMaxCount)) node.su_failover_max = *max;
  if (auto ms = r.duration("su_failover_probation_ms")) node.su_failover_probation = *ms;
  if (auto controller = r.boolean("controller")) {
    node.controller = *controller;
  } else if (r.has("controller")) {
    controller_unreadable = true;
  }
  return node;
}

KnownNodes read_nodes(const MapReader& top, model::ClusterConfig& config, Diagnostics& diags) {
  KnownNodes known;
  const Node* list = top.nonempty_sequence("nodes", "node");
  if (list == nullptr) {
    known.complete = false;
    return known;
  }
  bool controller_unreadable = false;
  for (const Node& item : list->items) {
    config.nodes.push_back(read_node(item, known, controller_unreadable, diags));
  }
  bool any_controller = std::any_of(config.nodes.begin(), config.nodes.end(),
                                    [](const model::NodeConfig& n) { return n.controller; });
  if (!any_controller && !controller_unreadable) {
    diags.error(top.key_mark("nodes"),
                "no controller node: set 'controller: true' on at least one node (a controller "
                "may run the director)");
  }
  return known;
}

model::ApplicationConfig read_application(const Node& item, NameSet& app_names, SgContext& ctx,
                                          Diagnostics& diags) {
  MapReader r(item, item.mark, "application", {"name", "service_groups"},
              {"name", "service_groups"}, diags);
  model::ApplicationConfig app;
  if (!r.is_mapping()) return app;
  if (auto name = r.name("name")) {
    app.name = *name;
    app.id = AppId(*name);
    app_names.add(*name, r.value_mark("name"), diags);
  }
  if (const Node* sgs = r.nonempty_sequence("service_groups", "service group")) {
    for (const Node& sg : sgs->items) {
      app.service_groups.push_back(parse_service_group(sg, sg.mark, app.id, ctx, diags));
    }
  }
  return app;
}

}  // namespace

model::ClusterConfig parse_cluster(const Node& root, Diagnostics& diags) {
  model::ClusterConfig config;
  if (root.is_null()) {
    diags.error(Mark{1, 1},
                "the configuration is empty; expected a mapping with keys cluster, "
                "nodes and applications");
    return config;
  }
  MapReader top(root, root.mark, "the configuration", {"cluster", "nodes", "applications"},
                {"cluster", "nodes"}, diags);
  if (!top.is_mapping()) return config;
  if (const Node* cluster = top.value("cluster")) {
    MapReader r(*cluster, top.value_mark("cluster"), "cluster", {"name"}, {"name"}, diags);
    if (auto name = r.name("name")) config.name = *name;
  }
  KnownNodes nodes = read_nodes(top, config, diags);
  if (const Node* apps = top.sequence("applications")) {
    NameSet app_names("application name");
    NameSet sg_names("service group name", "the cluster");
    SgContext ctx{nodes, sg_names};
    for (const Node& item : apps->items) {
      config.applications.push_back(read_application(item, app_names, ctx, diags));
    }
  }
  return config;
}

}  // namespace amf::config::detail
