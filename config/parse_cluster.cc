#include <arpa/inet.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "amf/membership/membership.h"
#include "config/parse.h"

namespace amf::config::detail {
namespace {

constexpr std::string_view kDefaultAddress = "127.0.0.1";

model::NodeConfig read_node(const Node& item, KnownNodes& known, bool& controller_unreadable,
                            Diagnostics& diags) {
  MapReader r(item, item.mark, "node",
              {"name", "address", "controller", "witness", "membership_port", "command_port",
               "checkpoint_port", "su_failover_max", "su_failover_probation_ms", "admin_state"},
              {"name"}, diags);
  model::NodeConfig node;
  node.address = kDefaultAddress;
  if (!r.is_mapping()) {
    known.complete = false;
    return node;
  }
  if (auto name = r.name("name", kNodeName)) {
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
  node.admin_state = read_admin_state(r);
  if (auto controller = r.boolean("controller")) {
    node.controller = *controller;
  } else if (r.has("controller")) {
    controller_unreadable = true;
  }
  if (auto witness = r.boolean("witness")) node.witness = *witness;
  if (node.witness && node.controller) {
    diags.error(r.key_mark("witness"),
                "'witness' on " + r.label() +
                    ", which is a controller: a controller votes already; a witness is a node "
                    "that votes without running the director");
  }
  if (auto port = r.integer("membership_port", 1, 65535)) node.membership_port = *port;
  if (auto port = r.integer("command_port", 1, 65535)) node.command_port = *port;
  if (auto port = r.integer("checkpoint_port", 1, 65535)) node.checkpoint_port = *port;
  return node;
}

// The etcd members' client addresses, "HOST:PORT" with an IPv4 literal or a bracketed IPv6 one
// (daemon::EtcdClient connects to literals only: a name would need a resolver on the path of
// every election).
std::vector<std::string> read_etcd_members(const Node& list, Diagnostics& diags) {
  std::vector<std::string> out;
  NameSet seen("etcd member", "'etcd'");
  for (const Node& item : list.items) {
    if (!item.is_scalar()) {
      diags.error(item.mark, "an etcd member is written HOST:PORT (127.0.0.1:2379)");
      continue;
    }
    const std::string& text = item.scalar;
    const auto colon = text.rfind(':');
    bool well_formed = colon != std::string::npos && colon + 1 < text.size() &&
                       colon + 6 >= text.size() &&
                       text.find_first_not_of("0123456789", colon + 1) == std::string::npos;
    if (well_formed) {
      const unsigned long port = std::stoul(text.substr(colon + 1));
      const bool bracketed = text.size() > 2 && text.front() == '[' && text[colon - 1] == ']';
      const std::string host = bracketed ? text.substr(1, colon - 2) : text.substr(0, colon);
      unsigned char address[sizeof(in6_addr)];
      well_formed = port >= 1 && port <= 65535 &&
                    ::inet_pton(bracketed ? AF_INET6 : AF_INET, host.c_str(), address) == 1;
    }
    if (!well_formed) {
      diags.error(item.mark, "etcd member '" + text +
                                 "' is not HOST:PORT with an IP address (127.0.0.1:2379 or "
                                 "[::1]:2379) and a port from 1 to 65535");
      continue;
    }
    if (seen.add(text, item.mark, diags)) out.push_back(text);
  }
  if (list.items.empty()) diags.error(list.mark, "'etcd' in cluster needs at least one member");
  return out;
}

// Several nodes: the voters must keep a majority when one of them is lost
// (amf/membership/README.md).
void check_membership(const MapReader& top, const model::ClusterConfig& config,
                      Diagnostics& diags) {
  const std::vector<NodeId> voters = config.voters();
  if (voters.size() == 2) {
    diags.error(top.key_mark("nodes"),
                "two voters (" + voters[0].str() + " and " + voters[1].str() +
                    ") cannot keep a majority when either is lost, so every node would fence "
                    "itself: add a witness ('witness: true' on a third node, which also runs the "
                    "third etcd member) or a third controller");
  }
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
  if (config.nodes.size() > 1 && !controller_unreadable) check_membership(top, config, diags);
  return known;
}

// The value of `key` in a mapping node, if it has one.
const Node* value_of_key(const Node& mapping, std::string_view key) {
  if (!mapping.is_mapping()) return nullptr;
  for (const MapEntry& e : mapping.entries) {
    if (e.key.is_scalar() && e.key.scalar == key) return &e.value;
  }
  return nullptr;
}

// The SG names that more than one application uses (read before the applications are, since
// they change the ids of those SGs and everything in them).
std::set<std::string> shared_sg_names(const Node& apps) {
  std::map<std::string, std::set<std::string>> apps_of;  // SG name: the applications using it
  for (const Node& app : apps.items) {
    const Node* name = value_of_key(app, "name");
    const Node* sgs = value_of_key(app, "service_groups");
    if (name == nullptr || !name->is_scalar() || sgs == nullptr || !sgs->is_sequence()) continue;
    for (const Node& sg : sgs->items) {
      const Node* sg_name = value_of_key(sg, "name");
      if (sg_name != nullptr && sg_name->is_scalar()) apps_of[sg_name->scalar].insert(name->scalar);
    }
  }
  std::set<std::string> shared;
  for (const auto& [sg, apps_using] : apps_of) {
    if (apps_using.size() > 1) shared.insert(sg);
  }
  return shared;
}

model::ApplicationConfig read_application(const Node& item, NameSet& app_names, SgContext& ctx,
                                          Diagnostics& diags) {
  MapReader r(item, item.mark, "application", {"name", "service_groups", "admin_state"},
              {"name", "service_groups"}, diags);
  model::ApplicationConfig app;
  if (!r.is_mapping()) return app;
  app.admin_state = read_admin_state(r);
  if (auto name = r.name("name", kApplicationName)) {
    app.name = *name;
    app.id = AppId(*name);
    app_names.add(*name, r.value_mark("name"), diags);
  }
  if (const Node* sgs = r.nonempty_sequence("service_groups", "service group")) {
    NameSet sg_names("service group name", "application '" + app.name + "'");
    ctx.sg_names = &sg_names;
    for (const Node& sg : sgs->items) {
      app.service_groups.push_back(parse_service_group(sg, sg.mark, app.id, ctx, diags));
    }
    ctx.sg_names = nullptr;
  }
  return app;
}

}  // namespace

model::AdminState read_admin_state(const MapReader& r, bool instantiable) {
  const std::optional<std::string> text = r.string("admin_state");
  if (!text) return model::AdminState::kUnlocked;
  if (*text == "unlocked") return model::AdminState::kUnlocked;
  if (*text == "locked") return model::AdminState::kLocked;
  if (*text == "locked-instantiation" && instantiable)
    return model::AdminState::kLockedInstantiation;
  r.diags().error(
      r.value_mark("admin_state"),
      "invalid admin_state '" + *text + "' in " + r.label() + "; valid values: " +
          (instantiable ? "unlocked, locked, locked-instantiation" : "unlocked, locked"));
  return model::AdminState::kUnlocked;
}

model::ClusterConfig parse_cluster(const Node& root, Diagnostics& diags) {
  model::ClusterConfig config;
  if (root.is_null()) {
    diags.error(Mark{1, 1},
                "the configuration is empty; expected a mapping with keys cluster, "
                "nodes and applications");
    return config;
  }
  MapReader top(root, root.mark, "the configuration",
                {"cluster", "nodes", "applications", "component_types", "service_group_types",
                 kExtensionKeys},
                {"cluster", "nodes"}, diags);
  if (!top.is_mapping()) return config;
  Types types = read_types(top, diags);
  if (const Node* cluster = top.value("cluster")) {
    MapReader r(
        *cluster, top.value_mark("cluster"), "cluster",
        {"name", "membership_profile", "checkpoint_store", "checkpoint_recovery_wait_ms", "etcd"},
        {"name"}, diags);
    if (auto name = r.name("name", kClusterName)) config.name = *name;
    if (auto profile = r.string("membership_profile")) {
      if (auto known = membership::profile_named(*profile)) {
        config.membership_profile = *profile;
      } else {
        diags.error(r.value_mark("membership_profile"), known.error().message());
      }
    }
    if (auto store = r.string("checkpoint_store")) {
      if (*store == "memory") {
        config.checkpoint_store = model::CheckpointStorage::kMemory;
      } else if (*store == "file") {
        config.checkpoint_store = model::CheckpointStorage::kFile;
      } else {
        diags.error(
            r.value_mark("checkpoint_store"),
            "'checkpoint_store' in the cluster is '" + *store + "'; it must be 'memory' or 'file'");
      }
    }
    if (auto wait = r.duration("checkpoint_recovery_wait_ms")) {
      config.checkpoint_recovery_wait = *wait;
    }
    if (const Node* etcd = r.sequence("etcd")) config.etcd = read_etcd_members(*etcd, diags);
  }
  KnownNodes nodes = read_nodes(top, config, diags);
  if (const Node* apps = top.sequence("applications")) {
    NameSet app_names("application name");
    NameSet sg_ids("service group id", "the cluster");
    const std::set<std::string> shared = shared_sg_names(*apps);
    std::vector<DependencyRef> dependencies;
    ComponentFiles files;
    NameSet service_addresses("service address", "the cluster");
    SgContext ctx{types, nodes, sg_ids, nullptr, shared, dependencies, files, service_addresses};
    for (const Node& item : apps->items) {
      config.applications.push_back(read_application(item, app_names, ctx, diags));
    }
    resolve_dependencies(config, dependencies, diags);
  }
  // Each component's SA Forum name, which OpenSAF gives it in SA_AMF_COMPONENT_NAME.
  for (auto& app : config.applications) {
    for (auto& sg : app.service_groups) {
      for (auto& su : sg.sus) {
        for (auto& comp : su.components) {
          comp.dn = "safComp=" + comp.name + ",safSu=" + su.name + ",safSg=" + sg.name +
                    ",safApp=" + app.name;
        }
      }
    }
  }
  return config;
}

void resolve_dependencies(model::ClusterConfig& config, const std::vector<DependencyRef>& refs,
                          Diagnostics& diags) {
  // A sponsor is named within the dependent's SG ("si-1") or across SGs ("sg/si-1").
  auto find_si = [&](const SiId& id) -> model::SiConfig* {
    for (auto& app : config.applications) {
      for (auto& sg : app.service_groups) {
        for (auto& si : sg.sis) {
          if (si.id == id) return &si;
        }
      }
    }
    return nullptr;
  };
  for (const DependencyRef& ref : refs) {
    const SiId sponsor(ref.sponsor.find('/') == std::string::npos ? ref.sg + "/" + ref.sponsor
                                                                  : ref.sponsor);
    model::SiConfig* dependent = find_si(ref.dependent);
    if (dependent == nullptr) continue;  // the SI itself had errors
    if (sponsor == ref.dependent) {
      diags.error(ref.at, "service instance '" + ref.dependent.str() + "' cannot depend on itself");
    } else if (find_si(sponsor) == nullptr) {
      // A group named by a name that several applications share: say what its ids are.
      std::string ids;
      const std::string group = ref.sponsor.substr(0, ref.sponsor.find('/'));
      if (ref.sponsor.find('/') != std::string::npos) {
        for (const auto& app : config.applications) {
          for (const auto& sg : app.service_groups) {
            if (sg.name == group && sg.id.str() != group) {
              ids += (ids.empty() ? "" : ", ") + sg.id.str();
            }
          }
        }
      }
      diags.error(
          ref.at,
          "unknown sponsor '" + ref.sponsor + "' in the dependencies of '" + ref.dependent.str() +
              "' (name an SI of the same service group, or "
              "another group's as 'group/si'" +
              (ids.empty() ? std::string()
                           : "; the service groups named '" + group + "' are " + ids + " in ids") +
              ")");
    } else {
      dependent->dependencies.push_back({sponsor, ref.tolerance});
    }
  }
  // No cycles: follow sponsors from every SI; meeting the start again is a cycle.
  for (const DependencyRef& ref : refs) {
    std::vector<SiId> path{ref.dependent};
    std::set<SiId> seen;
    bool cycle = false;
    std::function<void(const SiId&)> walk = [&](const SiId& id) {
      const model::SiConfig* si = find_si(id);
      if (si == nullptr || cycle || !seen.insert(id).second) return;
      for (const auto& d : si->dependencies) {
        if (d.sponsor == ref.dependent) cycle = true;
        walk(d.sponsor);
      }
    };
    walk(ref.dependent);
    if (cycle) {
      diags.error(ref.at, "the dependencies of '" + ref.dependent.str() +
                              "' lead back to it (a dependency cycle)");
    }
  }
}

}  // namespace amf::config::detail
