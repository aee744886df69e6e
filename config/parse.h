#pragma once

#include <chrono>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "amf/model/config.h"
#include "config/document.h"
#include "config/reader.h"

// Internal to config/: the schema, one function per entity. Each parses what it can, reports
// every problem to Diagnostics and keeps going; the result is only used when there were none.
namespace amf::config::detail {

// The nodes an SU may be placed on.
struct KnownNodes {
  NameSet names{"node name"};
  bool complete = true;  // false when the nodes section had errors: skip reference checks

  // Reports an unknown node `name` at `at`, referred to by `referrer`.
  void check(const std::string& name, Mark at, std::string_view referrer, Diagnostics& diags) const;
};

// `admin_state` of `r`'s entity, an initial admin state: unlocked, locked and, unless the
// entity is an SI (`instantiable` false), locked-instantiation. Unset: unlocked.
model::AdminState read_admin_state(const MapReader& r, bool instantiable = true);

// parse_cluster.cc: the whole document.
model::ClusterConfig parse_cluster(const Node& root, Diagnostics& diags);

// parse_types.cc: `component_types` and `service_group_types`, named mappings of defaults that
// an instance names with `type` (OpenSAF's SaAmfCompType and SaAmfSGType). Each type is checked
// on its own, with Diagnostics::remember_positions on, so that a problem in a type is listed
// once, at the type, however many instances inherit it.
struct TypeDef {
  const Node* node = nullptr;  // the type's mapping, in the document
  std::size_t nodes = 0;       // YAML nodes and bytes of text that its keys copy into an instance
  std::size_t bytes = 0;
};
struct Types {
  std::map<std::string, TypeDef, std::less<>> components;      // by name
  std::map<std::string, TypeDef, std::less<>> service_groups;  // by name
  // What has been copied from types into instances so far, bounded as aliases are (at most
  // kMaxDocumentNodes nodes and kMaxDocumentTextBytes bytes): a large type named by many
  // instances must not blow the configuration up.
  std::size_t copied_nodes = 0;
  std::size_t copied_bytes = 0;
};
Types read_types(const MapReader& top, Diagnostics& diags);

// An instance with its type's defaults: every key of the type that a type may have (but its
// name) and that the instance does not give, and for a component's env, timeouts and hooks,
// every entry of the type's mapping whose key the instance's mapping does not give.
struct Typed {
  std::optional<Node> merged;  // the instance with its type's defaults, when it names a type
  bool type_known = true;      // false when `type` names no type (reported): skip required keys

  const Node& node(const Node& instance) const { return merged ? *merged : instance; }
};
enum class TypeKind { kComponent, kServiceGroup };
Typed with_type(const Node& instance, TypeKind kind, Types& types, Diagnostics& diags);

// parse_component.cc: the `components` sequence of an SU or su_template. Component ids are left
// empty; set_component_ids fills them once the SU's id is known.
struct ParsedComponents {
  std::vector<model::ComponentConfig> list;
  std::vector<Mark> name_marks;  // parallel to list: where each component's name is
  bool complete = true;          // parsed without errors
};
ParsedComponents parse_components(const MapReader& owner, Types& types, Diagnostics& diags);
// Checks one entry of `component_types` on its own: its keys and each value. What spans keys
// (`hooks` needs `instantiated_when`) is checked where an instance has them all.
void check_component_type(const Node& node, NameSet& names, Diagnostics& diags);
// The keys of a component type: a component's, but `type`.
extern const std::vector<std::string_view> kComponentTypeKeys;
// The keys of a service group type: the SG's settings, without its name, type, admin state,
// SUs and SIs (parse_service_group.cc).
extern const std::vector<std::string_view> kSgTypeKeys;
void set_component_ids(model::SuConfig& su);

// amfd keeps files named after each component's identifier with '/' as '_': its log file
// (<name>.log) and, for a notified component, its sd_notify socket (<name>.notify). Checks,
// cluster-wide, that every identifier is at most kMaxComponentIdLength long and that no two
// components share a file name ("a/b_c/d" and "a_b/c/d" would), nor, on one node, a pid file
// (the same absolute `pid_file`, or the same relative one in the same `working_dir`: the SUs
// stamped by one template share both).
class ComponentFiles {
 public:
  // Checks the components of `su`, whose ids are set; `name_marks` is parallel to its
  // components. Components whose SG, SU or own name had errors are skipped. A problem is
  // reported once per position (the SUs of one template share their components' positions).
  void check(const model::SuConfig& su, const std::vector<Mark>& name_marks, Diagnostics& diags);

 private:
  void check_pid_file(const model::SuConfig& su, const model::ComponentConfig& comp, Mark at,
                      Diagnostics& diags);
  struct Owner {
    std::string id;
    int line = 0;
  };
  std::map<std::string, Owner, std::less<>> owners_;  // by file name
  // By node and pid file path ("node-1 /run/x.pid", "node-1 work:shared/x.pid"): two
  // components that would read one pid file cannot tell their daemons apart.
  std::map<std::string, Owner, std::less<>> pid_files_;
  std::set<std::pair<int, int>> reported_;
  std::set<std::pair<int, int>> pid_reported_;
};

// Positions and parse status kept next to an SgConfig for the checks that span entities.
struct SuSource {
  Mark mark;
  bool complete = true;  // the SU's components parsed without errors
  bool from_template = false;
};
struct CsiSource {
  Mark cs_type;
  bool complete = true;  // cs_type was read
};
struct SiSource {
  Mark mark;
  std::optional<Mark> active_assignments;   // set when the key is present
  std::optional<Mark> standby_assignments;  // set when the key is present
  std::vector<CsiSource> csis;              // parallel to SiConfig::csis
  bool counts_complete = true;              // both preferred_*_assignments could be read
};
struct SgSource {
  Mark mark;
  std::map<std::string, Mark, std::less<>> keys;  // value position of each key present
  std::vector<SuSource> sus;                      // parallel to SgConfig::sus
  std::vector<SiSource> sis;                      // parallel to SgConfig::sis

  bool has(std::string_view key) const { return keys.contains(key); }
  // The value position of `key`, or the SG's position when absent.
  Mark at(std::string_view key) const;
};

// parse_service_group.cc: one entry of an application's `service_groups`.
// An SI's dependency as written, resolved once every SI of the cluster is known.
struct DependencyRef {
  SiId dependent;
  std::string sponsor;  // "si-1" (same SG) or "sg/si-1"
  std::string sg;       // the dependent's SG
  std::chrono::milliseconds tolerance;
  Mark at;
};
struct SgContext {
  Types& types;
  const KnownNodes& nodes;
  NameSet& sg_ids;              // cluster-wide
  NameSet* sg_names = nullptr;  // the application's, while it is read
  // SG names that several applications use: such an SG's id is APP.SG (its name, and so its
  // DN, stay SG), as OpenSAF's DNs tell them apart by their application.
  const std::set<std::string>& shared_sg_names;
  std::vector<DependencyRef>& dependencies;
  ComponentFiles& files;       // cluster-wide
  NameSet& service_addresses;  // cluster-wide: no two SIs float the same address
};
// parse_cluster.cc: resolves every DependencyRef into its SI's `dependencies` and checks the
// references (an SI that exists, not itself, no cycle).
void resolve_dependencies(model::ClusterConfig& config, const std::vector<DependencyRef>& refs,
                          Diagnostics& diags);
model::SgConfig parse_service_group(const Node& node, Mark at, const AppId& app, SgContext& ctx,
                                    Diagnostics& diags);
// Checks one entry of `service_group_types` on its own.
void check_sg_type(const Node& node, NameSet& names, Diagnostics& diags);

// check_service_group.cc: rules spanning a whole SG. Run only when its redundancy model was read.
void check_counts(const model::SgConfig& sg, const SgSource& source, Diagnostics& diags);
void check_cs_types(const model::SgConfig& sg, const SgSource& source, Diagnostics& diags);

}  // namespace amf::config::detail
