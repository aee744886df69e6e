#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "config/parse.h"

namespace amf::config::detail {
namespace {

using TypeTable = std::map<std::string, TypeDef, std::less<>>;

const MapEntry* find_entry(const Node& mapping, std::string_view key) {
  for (const MapEntry& entry : mapping.entries) {
    if (entry.key.is_scalar() && entry.key.scalar == key) return &entry;
  }
  return nullptr;
}

void add_size(const Node& node, TypeDef& def) {
  ++def.nodes;
  def.bytes += node.scalar.size();
  for (const Node& item : node.items) add_size(item, def);
  for (const MapEntry& entry : node.entries) {
    add_size(entry.key, def);
    add_size(entry.value, def);
  }
}

bool is_type_key(const MapEntry& entry, const std::vector<std::string_view>& keys) {
  return entry.key.is_scalar() && entry.key.scalar != "name" &&
         std::find(keys.begin(), keys.end(), entry.key.scalar) != keys.end();
}

// Checks every entry of the sequence `key` of `top` with `check` and enters each one whose name
// could be read in `table`, with the size of what it copies into an instance.
void read_type_list(const MapReader& top, std::string_view key, std::string_view what,
                    void (*check)(const Node&, NameSet&, Diagnostics&),
                    const std::vector<std::string_view>& keys, TypeTable& table,
                    Diagnostics& diags) {
  const Node* list = top.sequence(key);
  if (list == nullptr) return;
  NameSet names(std::string(what) + " name");
  for (const Node& item : list->items) {
    check(item, names, diags);
    const MapEntry* name = item.is_mapping() ? find_entry(item, "name") : nullptr;
    if (name == nullptr || !name->value.is_scalar() || !is_valid_name(name->value.scalar)) {
      continue;
    }
    TypeDef def{&item, 0, 0};
    for (const MapEntry& entry : item.entries) {
      if (is_type_key(entry, keys)) {
        add_size(entry.key, def);
        add_size(entry.value, def);
      }
    }
    table.emplace(name->value.scalar, def);  // the first of a duplicated name
  }
}

std::vector<std::string_view> names_of(const TypeTable& types) {
  std::vector<std::string_view> names;
  for (const auto& [name, def] : types) names.push_back(name);
  return names;
}

}  // namespace

Types read_types(const MapReader& top, Diagnostics& diags) {
  Types types;
  diags.remember_positions(true);
  read_type_list(top, "component_types", "component type", check_component_type, kComponentTypeKeys,
                 types.components, diags);
  read_type_list(top, "service_group_types", "service group type", check_sg_type, kSgTypeKeys,
                 types.service_groups, diags);
  diags.remember_positions(false);
  return types;
}

Typed with_type(const Node& instance, TypeKind kind, Types& types, Diagnostics& diags) {
  const bool component = kind == TypeKind::kComponent;
  const TypeTable& table = component ? types.components : types.service_groups;
  const std::string what = component ? "component type" : "service group type";
  Typed typed;
  if (!instance.is_mapping()) return typed;
  const MapEntry* type_entry = find_entry(instance, "type");
  if (type_entry == nullptr) return typed;
  const Mark at = value_position(type_entry->value, type_entry->key.mark);
  std::optional<std::string> name =
      read_string(type_entry->value, at, "'type' (a " + what + ")", diags);
  if (!name) {
    typed.type_known = false;
    return typed;
  }
  auto it = table.find(*name);
  if (it == table.end()) {
    std::string message = "unknown " + what + " '" + *name + "'";
    std::vector<std::string_view> known = names_of(table);
    if (known.empty()) {
      message += "; none is defined (define it in '" +
                 std::string(component ? "component_types" : "service_group_types") +
                 "' at the top level)";
    } else {
      message += "; known: " + join(known);
      if (auto suggestion = closest(*name, known)) {
        message += "; did you mean '" + std::string(*suggestion) + "'?";
      }
    }
    diags.error(at, message);
    typed.type_known = false;
    return typed;
  }
  const TypeDef& def = it->second;
  const bool over = types.copied_nodes > kMaxDocumentNodes ||
                    types.copied_bytes > kMaxDocumentTextBytes;  // reported where it was crossed
  types.copied_nodes += def.nodes;
  types.copied_bytes += def.bytes;
  if (over) {
    typed.type_known = false;
    return typed;
  }
  if (types.copied_nodes > kMaxDocumentNodes || types.copied_bytes > kMaxDocumentTextBytes) {
    diags.error(at, "the types' keys copied into the instances that name them come to more than " +
                        (types.copied_nodes > kMaxDocumentNodes
                             ? std::to_string(kMaxDocumentNodes) + " YAML nodes"
                             : std::to_string(kMaxDocumentTextBytes) + " bytes of text") +
                        " by here (the limit of a document, aliases counted as copies)");
    typed.type_known = false;
    return typed;
  }
  const std::vector<std::string_view>& keys = component ? kComponentTypeKeys : kSgTypeKeys;
  static const std::vector<std::string_view> kMerged{"env", "timeouts", "hooks"};
  Node& node = typed.merged.emplace(instance);
  std::map<std::string_view, std::size_t> own;  // the instance's keys: the first of each
  for (std::size_t i = 0; i < node.entries.size(); ++i) {
    if (node.entries[i].key.is_scalar()) own.emplace(node.entries[i].key.scalar, i);
  }
  std::vector<MapEntry> inherited;
  for (const MapEntry& entry : def.node->entries) {
    // Keys a type may not have were reported at the type and are not inherited.
    if (!is_type_key(entry, keys)) continue;
    auto mine = own.find(entry.key.scalar);
    if (mine == own.end()) {
      inherited.push_back(entry);
      continue;
    }
    MapEntry& own_entry = node.entries[mine->second];
    const bool merge =
        component && std::find(kMerged.begin(), kMerged.end(), entry.key.scalar) != kMerged.end();
    if (!merge || !own_entry.value.is_mapping() || !entry.value.is_mapping()) continue;
    // The instance's mapping extends the type's and overrides what it gives again.
    std::set<std::string_view> given;
    for (const MapEntry& e : own_entry.value.entries) {
      if (e.key.is_scalar()) given.insert(e.key.scalar);
    }
    std::vector<MapEntry> entries;
    for (const MapEntry& e : entry.value.entries) {
      if (!e.key.is_scalar() || !given.contains(e.key.scalar)) entries.push_back(e);
    }
    for (MapEntry& e : own_entry.value.entries) entries.push_back(std::move(e));
    own_entry.value.entries = std::move(entries);
  }
  for (MapEntry& entry : inherited) node.entries.push_back(std::move(entry));
  return typed;
}

}  // namespace amf::config::detail
