#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "config/parse.h"

namespace amf::config::detail {
namespace {

constexpr std::string_view kRedundancyValues = "no-redundancy, 2n, n+m, n-way, n-way-active";

const std::vector<std::string_view> kSgKeys = {
    "name",
    "type",
    "redundancy",
    "auto_repair",
    "auto_adjust",
    "auto_adjust_probation_ms",
    "preferred_active_sus",
    "preferred_standby_sus",
    "preferred_inservice_sus",
    "preferred_assigned_sus",
    "max_active_sis_per_su",
    "max_standby_sis_per_su",
    "comp_restart_max",
    "comp_restart_probation_ms",
    "su_restart_max",
    "su_restart_probation_ms",
    "su_template",
    "service_units",
    "service_instances",
    "admin_state",
};

std::optional<model::RedundancyModel> read_redundancy(const MapReader& r) {
  std::optional<std::string> text = r.string("redundancy");
  if (!text) return std::nullopt;
  std::optional<model::RedundancyModel> model = model::parse_redundancy_model(*text);
  if (!model) {
    r.diags().error(r.value_mark("redundancy"),
                    "invalid redundancy '" + *text + "' in " + r.label() +
                        "; valid values: " + std::string(kRedundancyValues));
  }
  return model;
}

// The SG's own scalar settings; false when one of them could not be read.
bool read_sg_options(const MapReader& r, model::SgConfig& sg) {
  std::size_t errors_before = r.diags().count();
  if (auto value = r.boolean("auto_repair")) sg.auto_repair = *value;
  sg.admin_state = read_admin_state(r);
  if (auto value = r.boolean("auto_adjust")) sg.auto_adjust = *value;
  if (auto ms = r.duration("auto_adjust_probation_ms")) sg.auto_adjust_probation = *ms;
  auto count = [&](std::string_view key, int& field) {
    if (auto value = r.integer(key, 0, kMaxCount)) field = *value;
  };
  count("preferred_active_sus", sg.preferred_active_sus);
  count("preferred_standby_sus", sg.preferred_standby_sus);
  count("preferred_inservice_sus", sg.preferred_inservice_sus);
  count("preferred_assigned_sus", sg.preferred_assigned_sus);
  count("max_active_sis_per_su", sg.max_active_sis_per_su);
  count("max_standby_sis_per_su", sg.max_standby_sis_per_su);
  count("comp_restart_max", sg.comp_restart_max);
  count("su_restart_max", sg.su_restart_max);
  if (auto ms = r.duration("comp_restart_probation_ms")) sg.comp_restart_probation = *ms;
  if (auto ms = r.duration("su_restart_probation_ms")) sg.su_restart_probation = *ms;
  return r.diags().count() == errors_before;
}

struct SuContext {
  Types& types;
  model::SgConfig& sg;
  SgSource& source;
  NameSet& su_names;
  const KnownNodes& nodes;
  ComponentFiles& files;
};

// su_template: SUs <prefix>-1, <prefix>-2, ... ranked 1, 2, ..., one per entry of `nodes`.
void read_su_template(const MapReader& sg_reader, SuContext& ctx) {
  const Node* node = sg_reader.value("su_template");
  if (node == nullptr) return;
  Diagnostics& diags = sg_reader.diags();
  MapReader r(*node, sg_reader.value_mark("su_template"), "su_template of " + sg_reader.label(),
              {"name_prefix", "nodes", "components", "admin_state"}, {"nodes", "components"},
              diags);
  if (!r.is_mapping()) return;
  std::string prefix = r.name("name_prefix", kSuName).value_or("su");
  const model::AdminState admin_state = read_admin_state(r);
  const Node* node_list = r.nonempty_sequence("nodes", "node");
  ParsedComponents components = parse_components(r, ctx.types, diags);
  if (node_list == nullptr) return;
  // The last stamped name is the longest.
  const std::string last = prefix + "-" + std::to_string(node_list->items.size());
  if (last.size() > kSuName.max_length) {
    diags.error(r.value_mark("name_prefix"),
                "stamped service unit name '" + last + "' is " + std::to_string(last.size()) +
                    " characters long; " + std::string(kSuName.plural) + " are at most " +
                    std::to_string(kSuName.max_length) + " characters");
  }
  std::string origin =
      "stamped by su_template at line " + std::to_string(sg_reader.key_mark("su_template").line);
  std::string what = "an entry of 'nodes' in " + r.label();
  int rank = 0;
  for (const Node& item : node_list->items) {
    ++rank;
    model::SuConfig su;
    su.name = prefix + "-" + std::to_string(rank);
    su.id = SuId(ctx.sg.id.str() + "/" + su.name);
    su.rank = rank;
    su.admin_state = admin_state;
    if (auto node_name = read_name(item, item.mark, what, kNodeName, diags)) {
      su.node = NodeId(*node_name);
      ctx.nodes.check(*node_name, item.mark, r.label(), diags);
    }
    su.components = components.list;
    set_component_ids(su);
    ctx.files.check(su, components.name_marks, diags);
    ctx.su_names.add_with_origin(su.name, origin);
    ctx.sg.sus.push_back(std::move(su));
    ctx.source.sus.push_back(SuSource{item.mark, components.complete, /*from_template=*/true});
  }
}

void read_service_unit(const Node& item, SuContext& ctx, Diagnostics& diags) {
  MapReader r(item, item.mark, "service unit",
              {"name", "node", "rank", "components", "admin_state"}, {"name", "node", "components"},
              diags);
  model::SuConfig su;
  SuSource source{item.mark, /*complete=*/false, /*from_template=*/false};
  if (r.is_mapping()) {
    if (auto name = r.name("name", kSuName)) {
      su.name = *name;
      su.id = SuId(ctx.sg.id.str() + "/" + su.name);
      ctx.su_names.add(*name, r.value_mark("name"), diags);
    }
    if (auto node_name = r.name("node", kNodeName)) {
      su.node = NodeId(*node_name);
      ctx.nodes.check(*node_name, r.value_mark("node"), r.label(), diags);
    }
    if (auto rank = r.integer("rank", 0, kMaxCount)) su.rank = *rank;
    su.admin_state = read_admin_state(r);
    ParsedComponents components = parse_components(r, ctx.types, diags);
    su.components = std::move(components.list);
    set_component_ids(su);
    ctx.files.check(su, components.name_marks, diags);
    source.complete = components.complete && !su.name.empty();
  }
  ctx.sg.sus.push_back(std::move(su));
  ctx.source.sus.push_back(source);
}

void read_service_units(const MapReader& r, SuContext& ctx) {
  std::size_t errors_before = r.diags().count();
  read_su_template(r, ctx);
  if (const Node* list = r.sequence("service_units")) {
    for (const Node& item : list->items) read_service_unit(item, ctx, r.diags());
  }
  if (ctx.sg.sus.empty() && r.diags().count() == errors_before) {
    r.diags().error(r.mark(),
                    r.label() + " has no service units; add 'su_template' or 'service_units'");
  }
}

// `su_attributes`: a list of {su, attributes}, the values one SU's component gets instead.
void read_su_attributes(const MapReader& csi_reader, const model::SgConfig& sg, bool sus_complete,
                        model::CsiConfig& csi) {
  const Node* list = csi_reader.sequence("su_attributes");
  if (list == nullptr) return;
  std::map<std::string, int> first_line;
  for (const Node& item : list->items) {
    MapReader r(item, item.mark, "su_attributes entry of " + csi_reader.label(),
                {"su", "attributes"}, {"su", "attributes"}, csi_reader.diags());
    if (!r.is_mapping()) continue;
    const auto name = r.string("su");
    const auto any_key = [](const std::string&) -> std::optional<std::string> {
      return std::nullopt;
    };
    auto attributes = r.string_lists("attributes", any_key);
    if (!name) continue;
    const auto su = std::find_if(sg.sus.begin(), sg.sus.end(),
                                 [&](const model::SuConfig& s) { return s.name == *name; });
    if (su == sg.sus.end()) {
      if (!sus_complete) continue;  // its SU may be one that had errors
      std::vector<std::string_view> known;
      for (const auto& s : sg.sus) known.push_back(s.name);
      r.diags().error(r.value_mark("su"), "unknown service unit '" + *name + "' in " + r.label() +
                                              "; service units of " + sg.name + ": " + join(known));
      continue;
    }
    if (auto [it, first] = first_line.emplace(*name, r.value_mark("su").line); !first) {
      r.diags().error(r.value_mark("su"),
                      "service unit '" + *name + "'" + " given twice in su_attributes of " +
                          csi_reader.label() + "; first at line " + std::to_string(it->second));
      continue;
    }
    if (attributes) csi.su_attributes.emplace(su->id, std::move(*attributes));
  }
}

model::CsiConfig read_csi(const Node& item, const SiId& si, const model::SgConfig& sg,
                          bool sus_complete, NameSet& names, SiSource& source, Diagnostics& diags) {
  MapReader r(item, item.mark, "CSI", {"name", "cs_type", "attributes", "su_attributes"},
              {"name", "cs_type"}, diags);
  model::CsiConfig csi;
  CsiSource csi_source{r.value_mark("cs_type"), /*complete=*/false};
  if (r.is_mapping()) {
    if (auto name = r.name("name", kCsiName)) {
      csi.name = *name;
      csi.id = CsiId(si.str() + "/" + csi.name);
      names.add(*name, r.value_mark("name"), diags);
    }
    if (auto cs_type = r.name("cs_type", kCsTypeName)) {
      csi.cs_type = *cs_type;
      csi_source.complete = true;
    }
    auto any_key = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    if (auto attributes = r.string_lists("attributes", any_key)) csi.attributes = *attributes;
    read_su_attributes(r, sg, sus_complete, csi);
  }
  source.csis.push_back(csi_source);
  return csi;
}

void read_dependencies(const MapReader& si_reader, const SiId& dependent, const std::string& sg,
                       std::vector<DependencyRef>& refs) {
  const Node* list = si_reader.sequence("dependencies");
  if (list == nullptr) return;
  for (const Node& item : list->items) {
    MapReader r(item, item.mark, "dependency of " + si_reader.label(), {"sponsor", "tolerance_ms"},
                {"sponsor"}, si_reader.diags());
    if (!r.is_mapping()) continue;
    std::chrono::milliseconds tolerance{1'000};
    if (auto ms = r.duration("tolerance_ms")) tolerance = *ms;
    if (auto sponsor = r.string("sponsor")) {
      refs.push_back({dependent, *sponsor, sg, tolerance, r.value_mark("sponsor")});
    }
  }
}

// `service_address: {address: 10.0.0.100/24, interface: eth0}`: an IPv4 or IPv6 literal with
// its prefix, written as the kernel writes it (so that one address is not floated twice under
// two spellings), on an interface whose name the kernel could accept.
std::optional<model::ServiceAddress> read_service_address(const MapReader& si_reader,
                                                          const model::SgConfig& sg,
                                                          NameSet& addresses) {
  const Node* node = si_reader.mapping("service_address");
  if (node == nullptr) return std::nullopt;
  Diagnostics& diags = si_reader.diags();
  MapReader r(*node, si_reader.value_mark("service_address"),
              "service address of " + si_reader.label(), {"address", "interface"},
              {"address", "interface"}, diags);
  if (!r.is_mapping()) return std::nullopt;
  const std::size_t errors_before = diags.count();
  model::ServiceAddress out;
  if (auto text = r.string("address")) {
    const Mark at = r.value_mark("address");
    const auto slash = text->find('/');
    const std::string host = text->substr(0, slash);
    unsigned char bytes[sizeof(in6_addr)];
    out.ipv6 = host.find(':') != std::string::npos;
    const int family = out.ipv6 ? AF_INET6 : AF_INET;
    const int max_prefix = out.ipv6 ? 128 : 32;
    char canonical[INET6_ADDRSTRLEN] = {};
    int prefix = -1;
    if (slash != std::string::npos) {
      const std::string digits = text->substr(slash + 1);
      if (!digits.empty() && digits.size() <= 3 &&
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        prefix = std::stoi(digits);
      }
    }
    if (slash == std::string::npos || ::inet_pton(family, host.c_str(), bytes) != 1 || prefix < 0 ||
        prefix > max_prefix) {
      diags.error(at, "'address' in " + r.label() + " is '" + *text +
                          "'; expected an IP address with its prefix length, such as "
                          "10.0.0.100/24 or fd00::100/64");
    } else if (::inet_ntop(family, bytes, canonical, sizeof canonical) == nullptr ||
               host != canonical) {
      diags.error(at, "'address' in " + r.label() + " is '" + host + "', written '" + canonical +
                          "' by the kernel; write it so");
    } else {
      out.address = host;
      out.prefix = prefix;
      addresses.add(out.address, at, diags);
    }
  }
  if (auto name = r.string("interface")) {
    // The kernel's rule (dev_valid_name): 1 to 15 bytes, not "." or "..", no '/', ':' or
    // white space.
    const bool valid = !name->empty() && name->size() < 16 && *name != "." && *name != ".." &&
                       std::none_of(name->begin(), name->end(), [](char c) {
                         return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n';
                       });
    if (!valid) {
      diags.error(r.value_mark("interface"),
                  "'interface' in " + r.label() + " is '" + *name +
                      "'; an interface name has 1 to 15 characters and no '/', ':' or space");
    }
    out.interface = *name;
  }
  if (sg.redundancy == model::RedundancyModel::kNWayActive) {
    diags.error(si_reader.key_mark("service_address"),
                "'service_address' in " + si_reader.label() + ": service group '" + sg.name +
                    "' is n-way-active, whose SIs have several actives; an address can follow "
                    "only one (use 2n, n+m, n-way or no-redundancy)");
  }
  if (diags.count() != errors_before) return std::nullopt;
  return out;
}

void read_service_instance(const Node& item, model::SgConfig& sg, bool sus_complete, NameSet& names,
                           SgSource& sg_source, SgContext& ctx, Diagnostics& diags) {
  std::vector<DependencyRef>& refs = ctx.dependencies;
  MapReader r(item, item.mark, "service instance",
              {"name", "rank", "preferred_active_assignments", "preferred_standby_assignments",
               "dependencies", "csis", "admin_state", "service_address"},
              {"name", "csis"}, diags);
  model::SiConfig si;
  SiSource source{item.mark, std::nullopt, std::nullopt, {}, true};
  if (r.is_mapping()) {
    if (auto name = r.name("name", kSiName)) {
      si.name = *name;
      si.id = SiId(sg.id.str() + "/" + si.name);
      names.add(*name, r.value_mark("name"), diags);
    }
    if (auto rank = r.integer("rank", 0, kMaxCount)) si.rank = *rank;
    si.admin_state = read_admin_state(r, /*instantiable=*/false);
    std::size_t errors_before = diags.count();
    if (auto active = r.integer("preferred_active_assignments", 0, kMaxCount)) {
      si.preferred_active_assignments = *active;
      source.active_assignments = r.value_mark("preferred_active_assignments");
    }
    if (auto standby = r.integer("preferred_standby_assignments", 0, kMaxCount)) {
      si.preferred_standby_assignments = *standby;
      source.standby_assignments = r.value_mark("preferred_standby_assignments");
    }
    source.counts_complete = diags.count() == errors_before;
    read_dependencies(r, si.id, sg.id.str(), refs);  // resolved once the whole cluster is read
    si.service_address = read_service_address(r, sg, ctx.service_addresses);
    if (const Node* csis = r.nonempty_sequence("csis", "CSI")) {
      NameSet csi_names("CSI name", r.label());
      for (const Node& csi : csis->items) {
        si.csis.push_back(read_csi(csi, si.id, sg, sus_complete, csi_names, source, diags));
      }
    }
  }
  sg.sis.push_back(std::move(si));
  sg_source.sis.push_back(std::move(source));
}

}  // namespace

Mark SgSource::at(std::string_view key) const {
  auto it = keys.find(key);
  return it != keys.end() ? it->second : mark;
}

void KnownNodes::check(const std::string& name, Mark at, std::string_view referrer,
                       Diagnostics& diags) const {
  if (!complete || names.contains(name)) return;
  diags.error(at, "unknown node '" + name + "' in " + std::string(referrer) +
                      "; known nodes: " + join(names.names()));
}

model::SgConfig parse_service_group(const Node& instance, Mark at, const AppId& app, SgContext& ctx,
                                    Diagnostics& diags) {
  static const std::vector<std::string_view> kRequired{"name", "redundancy", "service_instances"};
  static const std::vector<std::string_view> kRequiredOfUnknownType{"name", "service_instances"};
  const Typed typed = with_type(instance, TypeKind::kServiceGroup, ctx.types, diags);
  const Node& node = typed.node(instance);
  MapReader r(node, at, "service group", kSgKeys,
              typed.type_known ? kRequired : kRequiredOfUnknownType, diags);
  model::SgConfig sg;
  sg.app = app;
  if (!r.is_mapping()) return sg;
  SgSource source{r.mark(), {}, {}, {}};
  for (std::string_view key : kSgKeys) {
    if (r.has(key)) source.keys.emplace(key, r.value_mark(key));
  }
  if (auto name = r.name("name", kSgName)) {
    sg.name = *name;
    // An SG name that several applications use is told apart by its application, as its DN
    // is: its id (and the ids of its SUs, SIs, CSIs and components) is APP.SG.
    sg.id = SgId(ctx.shared_sg_names.count(*name) ? app.str() + "." + *name : *name);
    // A name twice in one application is reported as such; an id that another SG's name
    // already is (an SG named a.g beside a's "g" that another application shares) as an id.
    if (ctx.sg_names == nullptr || ctx.sg_names->add(*name, r.value_mark("name"), diags)) {
      ctx.sg_ids.add(sg.id.str(), r.value_mark("name"), diags);
    }
  }
  std::optional<model::RedundancyModel> redundancy = read_redundancy(r);
  if (redundancy) sg.redundancy = *redundancy;
  bool options_read = read_sg_options(r, sg);

  NameSet su_names("service unit name", r.label());
  SuContext su_context{ctx.types, sg, source, su_names, ctx.nodes, ctx.files};
  const std::size_t errors_before_sus = diags.count();
  read_service_units(r, su_context);
  const bool sus_complete = diags.count() == errors_before_sus;
  if (const Node* sis = r.nonempty_sequence("service_instances", "service instance")) {
    NameSet si_names("service instance name", r.label());
    for (const Node& item : sis->items) {
      read_service_instance(item, sg, sus_complete, si_names, source, ctx, diags);
    }
  }

  if (redundancy && options_read) check_counts(sg, source, diags);
  check_cs_types(sg, source, diags);
  return sg;
}

const std::vector<std::string_view> kSgTypeKeys = [] {
  std::vector<std::string_view> keys;
  for (std::string_view key : kSgKeys) {
    if (key != "type" && key != "admin_state" && key != "su_template" && key != "service_units" &&
        key != "service_instances") {
      keys.push_back(key);
    }
  }
  return keys;
}();

void check_sg_type(const Node& node, NameSet& names, Diagnostics& diags) {
  MapReader r(node, node.mark, "service group type", kSgTypeKeys, {"name"}, diags);
  if (!r.is_mapping()) return;
  if (auto name = r.name("name", kTypeName)) names.add(*name, r.value_mark("name"), diags);
  model::SgConfig ignored;
  read_redundancy(r);
  read_sg_options(r, ignored);
}

}  // namespace amf::config::detail
