#include <algorithm>
#include <string>
#include <utility>

#include "config/parse.h"

namespace amf::config::detail {
namespace {

using TypeTable = std::map<std::string, const Node*, std::less<>>;

// Checks every entry of the sequence `key` of `top` with `check` and enters each one whose name
// could be read in `table`.
void read_type_list(const MapReader& top, std::string_view key, std::string_view what,
                    void (*check)(const Node&, NameSet&, Diagnostics&), TypeTable& table,
                    Diagnostics& diags) {
  const Node* list = top.sequence(key);
  if (list == nullptr) return;
  NameSet names(std::string(what) + " name");
  for (const Node& item : list->items) {
    check(item, names, diags);
    if (!item.is_mapping()) continue;
    for (const MapEntry& entry : item.entries) {
      if (entry.key.is_scalar() && entry.key.scalar == "name" && entry.value.is_scalar() &&
          is_valid_name(entry.value.scalar)) {
        table.emplace(entry.value.scalar, &item);  // the first of a duplicated name
        break;
      }
    }
  }
}

const MapEntry* find_entry(const Node& mapping, std::string_view key) {
  for (const MapEntry& entry : mapping.entries) {
    if (entry.key.is_scalar() && entry.key.scalar == key) return &entry;
  }
  return nullptr;
}

std::size_t count_nodes(const Node& node) {
  std::size_t n = 1;
  for (const Node& item : node.items) n += count_nodes(item);
  for (const MapEntry& entry : node.entries) n += count_nodes(entry.key) + count_nodes(entry.value);
  return n;
}

std::vector<std::string_view> names_of(const TypeTable& types) {
  std::vector<std::string_view> names;
  for (const auto& [name, node] : types) names.push_back(name);
  return names;
}

}  // namespace

Types read_types(const MapReader& top, Diagnostics& diags) {
  Types types;
  diags.remember_positions(true);
  read_type_list(top, "component_types", "component type", check_component_type, types.components,
                 diags);
  read_type_list(top, "service_group_types", "service group type", check_sg_type,
                 types.service_groups, diags);
  diags.remember_positions(false);
  return types;
}

Typed with_type(const Node& instance, const TypeTable& types, std::string_view what,
                std::initializer_list<std::string_view> merged, std::size_t& copied,
                Diagnostics& diags) {
  Typed typed;
  if (!instance.is_mapping()) return typed;
  const MapEntry* type_entry = find_entry(instance, "type");
  if (type_entry == nullptr) return typed;
  const Mark at = value_position(type_entry->value, type_entry->key.mark);
  std::optional<std::string> name =
      read_string(type_entry->value, at, "'type' (a " + std::string(what) + ")", diags);
  if (!name) {
    typed.type_known = false;
    return typed;
  }
  auto it = types.find(*name);
  if (it == types.end()) {
    std::string message = "unknown " + std::string(what) + " '" + *name + "'";
    std::vector<std::string_view> known = names_of(types);
    if (known.empty()) {
      std::string section(what);  // "component type": component_types
      std::replace(section.begin(), section.end(), ' ', '_');
      message += "; none is defined (define it in '" + section + "s' at the top level)";
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
  if (copied > kMaxDocumentNodes) {  // reported where the bound was crossed
    typed.type_known = false;
    return typed;
  }
  copied += count_nodes(*it->second);
  if (copied > kMaxDocumentNodes) {
    diags.error(at, "the types' keys copied into the instances that name them come to more than " +
                        std::to_string(kMaxDocumentNodes) +
                        " YAML nodes by here (the limit of a document, aliases counted as copies)");
    typed.type_known = false;
    return typed;
  }
  Node& node = typed.merged.emplace(instance);
  for (const MapEntry& inherited : it->second->entries) {
    if (!inherited.key.is_scalar() || inherited.key.scalar == "name") continue;
    const std::string& key = inherited.key.scalar;
    MapEntry* own = nullptr;
    for (MapEntry& entry : node.entries) {
      if (entry.key.is_scalar() && entry.key.scalar == key) {
        own = &entry;
        break;
      }
    }
    if (own == nullptr) {
      node.entries.push_back(inherited);
      continue;
    }
    const bool merge = std::find(merged.begin(), merged.end(), key) != merged.end();
    if (!merge || !own->value.is_mapping() || !inherited.value.is_mapping()) continue;
    // The instance's mapping extends the type's and overrides what it gives again.
    std::vector<MapEntry> entries;
    for (const MapEntry& entry : inherited.value.entries) {
      if (!entry.key.is_scalar() || find_entry(own->value, entry.key.scalar) == nullptr) {
        entries.push_back(entry);
      }
    }
    for (MapEntry& entry : own->value.entries) entries.push_back(std::move(entry));
    own->value.entries = std::move(entries);
  }
  return typed;
}

}  // namespace amf::config::detail
