#include "config/opensaf_import.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "amf/core/dn.h"
#include "config/reader.h"
#include "config/text.h"

namespace amf::config {
namespace {

namespace pt = boost::property_tree;
using amf::Rdn;
using amf::split_dn;

// Far above any application configuration: IMM files of a whole system are a few MB.
constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;
// An IMM file nests four levels (contents, object, attr, value); Boost's parser recurses per
// level, so a hostile file of nested elements is refused before it is parsed.
constexpr int kMaxXmlDepth = 32;

// ---- IMM objects -----------------------------------------------------------------------------

struct Object {
  std::string cls;
  std::string dn;
  std::string file;
  std::vector<std::pair<std::string, std::vector<std::string>>> attrs;  // in file order
  mutable std::set<std::string, std::less<>> used;  // attributes carried over or explained

  const std::vector<std::string>* values(std::string_view name) const {
    for (const auto& [key, list] : attrs) {
      if (key == name) {
        used.emplace(name);
        return &list;
      }
    }
    return nullptr;
  }
  std::optional<std::string> value(std::string_view name) const {
    const std::vector<std::string>* list = values(name);
    if (list == nullptr || list->empty()) return std::nullopt;
    return list->front();
  }
};

// The value of the first RDN named `key`, "" when there is none.
std::string rdn(std::string_view dn, std::string_view key) {
  for (const Rdn& r : split_dn(dn)) {
    if (r.key == key) return r.value;
  }
  return "";
}

// The DN without its first RDN.
std::string parent_dn(std::string_view dn) {
  for (std::size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\') {
      ++i;
    } else if (dn[i] == ',') {
      return std::string(dn.substr(i + 1));
    }
  }
  return "";
}

// The deepest element nesting of an XML text, counted so that it is never below what Boost's
// parser (rapidxml) will recurse into: comments, CDATA, processing instructions and
// declarations are skipped to their real ends, quoted attribute values are skipped inside
// tags, and a closing tag without an open element is malformed (nullopt), as is a construct
// that does not end.
std::optional<int> xml_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  auto skip_to = [&](std::size_t from, std::string_view end) -> std::optional<std::size_t> {
    std::size_t at = text.find(end, from);
    if (at == std::string_view::npos) return std::nullopt;
    return at + end.size() - 1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '<') continue;
    std::optional<std::size_t> end;
    const std::string_view rest = text.substr(i);
    if (rest.starts_with("<!--")) {
      end = skip_to(i + 4, "-->");
    } else if (rest.starts_with("<![CDATA[")) {
      end = skip_to(i + 9, "]]>");
    } else if (rest.starts_with("<?")) {
      end = skip_to(i + 2, "?>");
    } else if (rest.starts_with("<!DOCTYPE")) {  // brackets nest; '>' outside them ends it
      int brackets = 0;
      for (std::size_t j = i + 9; j < text.size() && !end; ++j) {
        if (text[j] == '[') ++brackets;
        if (text[j] == ']') --brackets;
        if (text[j] == '>' && brackets <= 0) end = j;
      }
    } else if (rest.starts_with("<!")) {  // anything else the parser skips to its first '>'
      end = skip_to(i + 2, ">");
    } else {
      // A tag: quoted attribute values may hold '>' and "/>".
      const bool closing = rest.starts_with("</");
      char quote = 0;
      for (std::size_t j = i + 1; j < text.size() && !end; ++j) {
        if (quote != 0) {
          if (text[j] == quote) quote = 0;
        } else if (text[j] == '"' || text[j] == '\'') {
          quote = text[j];
        } else if (text[j] == '>') {
          end = j;
        }
      }
      if (end) {
        if (closing) {
          if (--depth < 0) return std::nullopt;
        } else if (text[*end - 1] != '/') {
          deepest = std::max(deepest, ++depth);
        }
      }
    }
    if (!end) return std::nullopt;
    i = *end;
  }
  return deepest;
}

std::vector<std::string> read_objects(const ImportSource& source, std::vector<Object>& objects) {
  std::vector<std::string> errors;
  if (source.text.size() > kMaxFileBytes) {
    return {source.name + ": larger than " + std::to_string(kMaxFileBytes) + " bytes"};
  }
  // amf's configuration is UTF-8 without NULs (config/README.md), and so is IMM XML.
  if (auto bad = detail::first_invalid_utf8(source.text)) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(source.text[*bad]));
    return {source.name + ": byte " + byte + " at offset " + std::to_string(*bad) +
            " is not UTF-8; IMM XML files are UTF-8"};
  }
  if (auto nul = source.text.find('\0'); nul != std::string::npos) {
    return {source.name + ": a NUL byte at offset " + std::to_string(nul)};
  }
  const std::optional<int> depth = xml_depth(source.text);
  if (!depth) {
    return {source.name +
            ": not well-formed XML: a tag, comment or declaration that does not "
            "end, or a closing tag without its element"};
  }
  if (*depth > kMaxXmlDepth) {
    return {source.name + ": elements nested deeper than " + std::to_string(kMaxXmlDepth) +
            " levels; IMM XML nests four"};
  }
  pt::ptree tree;
  try {
    std::istringstream in(source.text);
    pt::read_xml(in, tree, pt::xml_parser::trim_whitespace | pt::xml_parser::no_comments);
  } catch (const pt::xml_parser_error& e) {
    return {source.name + ":" + std::to_string(e.line()) + ": not well-formed XML: " + e.message()};
  }
  const std::string root = tree.empty() ? "" : tree.front().first;
  if (root != "imm:IMM-contents") {
    return {source.name + ": not OpenSAF IMM XML: the root element is '" + detail::printable(root) +
            "', not 'imm:IMM-contents'"};
  }
  int index = 0;
  for (const auto& [tag, node] : tree.front().second) {
    if (tag != "object") continue;  // <class> definitions (the schema), attributes of the root
    ++index;
    Object object;
    object.file = source.name;
    object.cls = node.get<std::string>("<xmlattr>.class", "");
    object.dn = node.get<std::string>("dn", "");
    if (object.dn.empty() || object.cls.empty()) {
      errors.push_back(source.name + ": object " + std::to_string(index) + " (class '" +
                       detail::printable(object.cls) + "') has no " +
                       (object.dn.empty() ? "<dn>" : "class attribute"));
      continue;
    }
    for (const auto& [attr_tag, attr] : node) {
      if (attr_tag != "attr") continue;
      std::vector<std::string> values;
      for (const auto& [value_tag, value] : attr) {
        if (value_tag == "value") values.push_back(value.data());
      }
      std::string name = attr.get<std::string>("name", "");
      if (std::any_of(object.attrs.begin(), object.attrs.end(),
                      [&](const auto& a) { return a.first == name; })) {
        errors.push_back(source.name + ": " + object.dn + ": attribute '" + name +
                         "' given twice; give its values in one <attr>");
        continue;
      }
      object.attrs.emplace_back(std::move(name), std::move(values));
    }
    objects.push_back(std::move(object));
  }
  return errors;
}

// ---- conversion ------------------------------------------------------------------------------

// OpenSAF enumerations (saAmf.h), as amf names them.
std::optional<std::string> redundancy_name(const std::string& value) {
  static const std::map<std::string, std::string> names{
      {"1", "2n"}, {"2", "n+m"}, {"3", "n-way"}, {"4", "n-way-active"}, {"5", "no-redundancy"}};
  auto it = names.find(value);
  if (it == names.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> admin_state_name(const std::string& value) {
  if (value == "1") return "unlocked";
  if (value == "2") return "locked";
  if (value == "3") return "locked-instantiation";
  return std::nullopt;
}

std::optional<std::string> recovery_name(const std::string& value) {
  static const std::map<std::string, std::string> names{{"2", "component-restart"},
                                                        {"3", "component-failover"},
                                                        {"4", "node-switchover"},
                                                        {"5", "node-failover"},
                                                        {"6", "node-failfast"}};
  auto it = names.find(value);
  if (it == names.end()) return std::nullopt;
  return it->second;
}

bool is_amf_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Single-quoted for /bin/sh.
std::string shell_quote(const std::string& word) {
  if (!word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
        return is_amf_name_char(c) || c == '/' || c == '=' || c == ':' || c == ',';
      })) {
    return word;
  }
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class Importer {
 public:
  explicit Importer(std::vector<Object> objects) : objects_(std::move(objects)) {
    for (const Object& o : objects_) {
      by_dn_.emplace(o.dn, &o);
      by_class_[o.cls].push_back(&o);
      children_[std::pair(o.cls, parent_dn(o.dn))].push_back(&o);
    }
  }

  Imported run() {
    collect_nodes();
    name_types();
    YAML::Emitter out;
    out << YAML::Comment("amf configuration imported from OpenSAF IMM XML by amfctl import opensaf")
        << YAML::Newline;
    out << YAML::BeginMap;
    out << YAML::Key << "cluster" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
        << "name" << YAML::Value << cluster_ << YAML::EndMap;
    emit_nodes(out);
    emit_component_types(out);
    emit_sg_types(out);
    emit_applications(out);
    out << YAML::EndMap;
    if (!out.good()) throw YAML::Exception(YAML::Mark::null_mark(), out.GetLastError());
    report_leftovers();
    Imported imported;
    imported.yaml = std::string(out.c_str()) + "\n";
    imported.report = std::move(report_);
    return imported;
  }

 private:
  // ---- the report ----
  // One line of the report, escaped (text.h): DNs and values are the files' text.
  void add(const std::string& line) { report_.push_back(detail::printable(line)); }

  void note(const Object& o, std::string_view attr, const std::string& why) {
    if (!attr.empty()) o.used.emplace(attr);
    add(o.file + ": " + o.dn + (attr.empty() ? "" : ": " + std::string(attr)) + ": " + why);
  }
  // Marks attributes as carried over by the structure (type links, names) without a value.
  static void uses(const Object& o, std::initializer_list<std::string_view> attrs) {
    for (std::string_view a : attrs) o.used.emplace(a);
  }

  void report_leftovers() {
    static const std::set<std::string, std::less<>> kStructure{
        "SaAmfAppBaseType",  "SaAmfAppType",        "SaAmfSGBaseType", "SaAmfSUBaseType",
        "SaAmfCompBaseType", "SaAmfSvcBaseType",    "SaAmfCSBaseType", "SaAmfSvcType",
        "SaAmfSutCompType",  "SaAmfSvcTypeCSTypes", "SaSmfSwBundle",   "SaAmfCSType",
        "SaAmfCluster"};
    // Attributes of the structure classes that only link types together.
    static const std::set<std::string, std::less<>> kLinks{"saAmfApptSGTypes", "saAmfCSAttrName"};
    for (const Object& o : objects_) {
      if (o.cls == "SaSmfSwBundle") continue;  // SMF's, for installing the software
      if (kStructure.contains(o.cls)) {
        for (const auto& [name, values] : o.attrs) {
          if (!kLinks.contains(name)) note(o, name, "not carried over: amf has no such setting");
        }
        continue;
      }
      if (!handled_.contains(&o)) {
        static const std::set<std::string, std::less<>> kKnown{
            "SaAmfSUType", "SaAmfCtCsType",     "SaAmfHealthcheckType", "SaAmfSI",
            "SaAmfCSI",    "SaAmfCSIAttribute", "SaAmfSIDependency",    "SaAmfSU",
            "SaAmfComp",   "SaAmfCompCsType",   "SaAmfHealthcheck"};
        note(o, "",
             kKnown.contains(o.cls)
                 ? "not carried over: nothing in these files leads to it (the object it belongs "
                   "to, or that names it, is missing)"
                 : "class " + o.cls + " not carried over: amf has no such object");
        continue;
      }
      for (const auto& [name, values] : o.attrs) {
        if (!o.used.contains(name)) note(o, name, "not carried over: amf has no such setting");
      }
    }
  }

  // ---- lookups ----
  std::vector<const Object*> of_class(std::string_view cls) const {
    auto it = by_class_.find(cls);
    return it != by_class_.end() ? it->second : std::vector<const Object*>{};
  }
  // Objects of `cls` whose parent DN is `parent`, in file order.
  std::vector<const Object*> children(std::string_view cls, std::string_view parent) const {
    auto it = children_.find(std::pair(std::string(cls), std::string(parent)));
    return it != children_.end() ? it->second : std::vector<const Object*>{};
  }
  const Object* find(const std::string& dn, std::string_view cls) const {
    auto it = by_dn_.find(dn);
    return it != by_dn_.end() && it->second->cls == cls ? it->second : nullptr;
  }

  // An amf name for an OpenSAF one: characters amf names cannot hold become '-'.
  std::string amf_name(const Object& o, const std::string& name, std::string_view what) {
    const std::string out = amf_name_quiet(name);
    if (out != name) {
      note(o, "",
           std::string(what) + " '" + name + "' is named '" + out +
               "' in amf (names match [A-Za-z0-9][A-Za-z0-9._-]*)");
    }
    return out;
  }

  // Nanoseconds (SaTimeT) to milliseconds for a `_ms` key; nullopt (reported) when unusable.
  std::optional<long long> to_ms(const Object& o, std::string_view attr, const std::string& ns) {
    long long value = 0;
    try {
      std::size_t used = 0;
      value = std::stoll(ns, &used);
      if (used != ns.size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      note(o, attr, "'" + ns + "' is not a time in nanoseconds; left to amf's default");
      return std::nullopt;
    }
    constexpr long long kMaxNs = static_cast<long long>(detail::kMaxDurationMs) * 1'000'000;
    if (value <= 0 || value > kMaxNs) {
      note(o, attr, ns + " ns is outside amf's durations (1 ms to 24 h); left to amf's default");
      return std::nullopt;
    }
    const long long ms = (value + 999'999) / 1'000'000;
    if (ms * 1'000'000 != value) {
      note(o, attr, ns + " ns rounded up to " + std::to_string(ms) + " ms (amf counts in ms)");
    }
    return ms;
  }

  std::optional<int> to_count(const Object& o, std::string_view attr, const std::string& text) {
    try {
      std::size_t used = 0;
      long long value = std::stoll(text, &used);
      if (used == text.size() && value >= 0 && value <= detail::kMaxCount) {
        return static_cast<int>(value);
      }
    } catch (const std::exception&) {
    }
    note(o, attr,
         "'" + text + "' is not a count from 0 to " + std::to_string(detail::kMaxCount) +
             "; left to amf's default");
    return std::nullopt;
  }

  // ---- nodes ----
  void add_node(const std::string& name) {
    if (std::find(nodes_.begin(), nodes_.end(), name) == nodes_.end()) nodes_.push_back(name);
  }

  void collect_nodes() {
    for (const Object* o : of_class("SaAmfNode")) {
      handled_.insert(o);
      add_node(rdn(o->dn, "safAmfNode"));
      node_objects_.emplace(rdn(o->dn, "safAmfNode"), o);
      if (cluster_.empty()) cluster_ = rdn(o->dn, "safAmfCluster");
    }
    for (const Object* o : of_class("SaAmfNodeGroup")) {
      handled_.insert(o);
      std::vector<std::string>& members = node_groups_[o->dn];
      if (const auto* list = o->values("saAmfNGNodeList")) {
        for (const std::string& node_dn : *list) {
          members.push_back(rdn(node_dn, "safAmfNode"));
          add_node(members.back());
        }
      }
    }
    for (const Object* o : of_class("SaAmfNodeSwBundle")) {
      handled_.insert(o);
      const std::string node = rdn(o->dn, "safAmfNode");
      add_node(node);
      if (cluster_.empty()) cluster_ = rdn(o->dn, "safAmfCluster");
      if (auto prefix = o->value("saAmfNodeSwBundlePathPrefix")) {
        bundle_prefixes_[rdn(o->dn, "safInstalledSwBundle")].emplace_back(node, *prefix);
      }
    }
    for (const Object* o : of_class("SaAmfSU")) {
      if (auto host = o->value("saAmfSUHostNodeOrNodeGroup")) {
        if (std::string node = rdn(*host, "safAmfNode"); !node.empty()) add_node(node);
      }
    }
    if (cluster_.empty()) cluster_ = "opensaf";
    cluster_ = amf_name_quiet(cluster_);
  }

  // The same without a report, for names whose change says nothing to the operator.
  static std::string amf_name_quiet(std::string name) {
    for (char& c : name) {
      if (!is_amf_name_char(c)) c = '-';
    }
    while (!name.empty() && (name.front() == '.' || name.front() == '-')) name.erase(0, 1);
    return name.empty() ? "x" : name;
  }

  void emit_nodes(YAML::Emitter& out) {
    if (nodes_.empty()) {
      nodes_.push_back("SC-1");
      add("no node is named by these files (SaAmfNode, SaAmfNodeGroup, SaAmfNodeSwBundle, "
          "saAmfSUHostNodeOrNodeGroup): every SU is placed on node SC-1; edit 'nodes'");
    }
    // amf needs a controller; two voters alone cannot keep a majority (config/README.md).
    std::string controller = nodes_.front();
    for (const std::string& n : nodes_) {
      if (n.starts_with("SC")) {
        controller = n;
        break;
      }
    }
    std::size_t system_controllers = std::count_if(
        nodes_.begin(), nodes_.end(), [](const std::string& n) { return n.starts_with("SC"); });
    if (system_controllers > 1 || (system_controllers == 0 && nodes_.size() > 1)) {
      add("nodes: " + controller +
          " is the controller (controller: true); amf needs one controller, or "
          "three or more voters (two controllers need a witness): see "
          "config/README.md, nodes");
    }
    out << YAML::Key << "nodes" << YAML::Value << YAML::BeginSeq;
    for (const std::string& n : nodes_) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << amf_name_quiet(n);
      if (n == controller) out << YAML::Key << "controller" << YAML::Value << true;
      if (auto it = node_objects_.find(n); it != node_objects_.end()) {
        const Object& node = *it->second;
        emit_sg_settings(out, node, {}, {{"saAmfNodeSuFailOverProb", "su_failover_probation_ms"}},
                         {{"saAmfNodeSuFailoverMax", "su_failover_max"}});
        if (auto state = node.value("saAmfNodeAdminState")) {
          emit_admin_state(out, node, "saAmfNodeAdminState", *state, true);
        }
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }

  // ---- types ----
  // amf names for the versioned types: "T" for safVersion=V,safCompType=T, "T-vV" when the
  // files hold several versions of T.
  void name_types() {
    auto name_all = [&](std::string_view cls, std::string_view base_key,
                        std::map<std::string, std::string>& names) {
      std::map<std::string, int> versions;
      for (const Object* o : of_class(cls)) ++versions[rdn(o->dn, base_key)];
      for (const Object* o : of_class(cls)) {
        std::string base = rdn(o->dn, base_key);
        std::string name = versions[base] > 1 ? base + "-v" + rdn(o->dn, "safVersion") : base;
        names[o->dn] = amf_name(*o, name, "type");
      }
    };
    name_all("SaAmfCompType", "safCompType", comp_types_);
    name_all("SaAmfSGType", "safSgType", sg_types_);
    for (const Object* o : of_class("SaAmfCSType")) {
      cs_types_[o->dn] = amf_name_quiet(rdn(o->dn, "safCSType"));
    }
  }

  // The amf CS type name for an SaAmfCSType DN (safVersion=1,safCSType=X).
  std::string cs_type_name(const std::string& dn) const {
    auto it = cs_types_.find(dn);
    return it != cs_types_.end() ? it->second : amf_name_quiet(rdn(dn, "safCSType"));
  }

  // A command from a CLC-CLI path and arguments: the path is relative to the software bundle's
  // path prefix on the node (saAmfNodeSwBundlePathPrefix).
  std::string command_path(const Object& type, std::string_view attr, const std::string& path) {
    if (path.starts_with("/")) return path;
    const std::string bundle = rdn(type.value("saAmfCtSwBundle").value_or(""), "safSmfBundle");
    auto it = bundle_prefixes_.find("safSmfBundle=" + bundle);
    if (bundle.empty() || it == bundle_prefixes_.end() || it->second.empty()) {
      note(type, attr,
           "relative path '" + path +
               "' kept as it is (no saAmfNodeSwBundlePathPrefix for its bundle in these files): "
               "amf looks it up on the node's PATH");
      return path;
    }
    const std::string& prefix = it->second.front().second;
    for (const auto& [node, other] : it->second) {
      if (other != prefix) {
        note(type, attr,
             "the bundle's path prefix differs between nodes ('" + prefix + "' on " +
                 it->second.front().first + ", '" + other + "' on " + node + "); amf runs '" +
                 prefix + "/" + path + "' on every node");
        break;
      }
    }
    return prefix + (prefix.ends_with("/") ? "" : "/") + path;
  }

  std::string shell_command(const std::string& path, const std::vector<std::string>* args) {
    std::string line = shell_quote(path);
    if (args != nullptr) {
      for (const std::string& a : *args) line += " " + shell_quote(a);
    }
    return line;
  }

  // NAME=VALUE entries into `env`; names amf cannot pass are reported.
  void read_env(const Object& o, std::string_view attr, std::map<std::string, std::string>& env) {
    const std::vector<std::string>* list = o.values(attr);
    if (list == nullptr) return;
    for (const std::string& entry : *list) {
      std::size_t eq = entry.find('=');
      std::string name = entry.substr(0, eq);
      if (eq == std::string::npos || name.empty()) {
        note(o, attr, "'" + entry + "' is not NAME=VALUE; not carried over");
      } else if (name.starts_with("AMF_")) {
        note(o, attr,
             "'" + name +
                 "' not carried over: amf reserves names starting with AMF_ for the variables "
                 "it sets; rename the variable in the component and here");
      } else if (!std::all_of(name.begin(), name.end(),
                              [](char c) { return is_amf_name_char(c) && c != '.' && c != '-'; }) ||
                 (name.front() >= '0' && name.front() <= '9')) {
        note(o, attr, "'" + name + "' is not a valid environment variable name; not carried over");
      } else {
        env[name] = entry.substr(eq + 1);
      }
    }
  }

  // A type's or a component's instantiate arguments and environment (the component's extend
  // its type's through the loader's type merge).
  void emit_args_and_env(YAML::Emitter& out, const Object& o, std::string_view args_attr,
                         std::string_view env_attr) {
    if (const auto* args = o.values(args_attr); args && !args->empty()) {
      out << YAML::Key << "args" << YAML::Value;
      emit_strings(out, *args);
    }
    std::map<std::string, std::string> env;
    read_env(o, env_attr, env);
    if (!env.empty()) {
      out << YAML::Key << "env" << YAML::Value;
      emit_string_map(out, env);
    }
  }

  static void emit_string_map(YAML::Emitter& out, const std::map<std::string, std::string>& map) {
    out << YAML::BeginMap;
    for (const auto& [k, v] : map) {
      out << YAML::Key << YAML::DoubleQuoted << k << YAML::Value << YAML::DoubleQuoted << v;
    }
    out << YAML::EndMap;
  }
  static void emit_strings(YAML::Emitter& out, const std::vector<std::string>& list) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const std::string& s : list) out << YAML::DoubleQuoted << s;
    out << YAML::EndSeq;
  }

  void emit_component_types(YAML::Emitter& out) {
    std::vector<const Object*> types = of_class("SaAmfCompType");
    if (types.empty()) return;
    out << YAML::Key << "component_types" << YAML::Value << YAML::BeginSeq;
    for (const Object* t : types) {
      handled_.insert(t);
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << comp_types_[t->dn];
      uses(*t, {"saAmfCtSwBundle"});
      // Category (SaAmfCompCategoryT bits): SA-aware (1) components register; the others are
      // processes amf starts and watches. Proxy (2), proxied (4), container (0x10) and
      // contained (0x20) components have no counterpart.
      const std::string category_text = t->value("saAmfCtCompCategory").value_or("1");
      int category = 1;
      if (auto n = to_count(*t, "saAmfCtCompCategory", category_text)) category = *n;
      if ((category & (2 | 4 | 0x10 | 0x20)) != 0) {
        note(*t, "saAmfCtCompCategory",
             "category " + category_text +
                 ": proxy, proxied, container and contained components are not supported; "
                 "carried over as " +
                 ((category & 1) != 0 ? "an SA-aware component"
                                      : "a process amf starts and watches"));
      }
      if ((category & 1) == 0) {
        note(*t, "saAmfCtCompCategory",
             "a non-SA-aware component: OpenSAF starts it when its SU is assigned and stops it "
             "when the assignment goes; amf starts it with its SU, the standby's too "
             "(instantiated_when: started): give it hooks (on_active, on_standby) if a standby "
             "must not serve");
        out << YAML::Key << "instantiated_when" << YAML::Value << "started";
      } else {
        sa_aware_types_.insert(t->dn);
      }
      if (auto path = t->value("saAmfCtRelPathInstantiateCmd")) {
        out << YAML::Key << "command" << YAML::Value << YAML::DoubleQuoted
            << command_path(*t, "saAmfCtRelPathInstantiateCmd", *path);
      }
      emit_args_and_env(out, *t, "saAmfCtDefInstantiateCmdArgv", "saAmfCtDefCmdEnv");
      std::vector<std::string> cs_types;
      for (const Object* ct : children("SaAmfCtCsType", t->dn)) {
        handled_.insert(ct);
        cs_types.push_back(cs_type_name(
            rdn(ct->dn, "safSupportedCsType").empty() ? "" : split_dn(ct->dn).front().value));
        if (auto cap = ct->value("saAmfCtCompCapability"); cap && *cap != "1") {
          note(*ct, "saAmfCtCompCapability",
               "capability model " + *cap +
                   " not carried over: amf gives a component at most what its SG's "
                   "redundancy model assigns to its SU");
        }
      }
      if (!cs_types.empty()) {
        out << YAML::Key << "cs_types" << YAML::Value;
        emit_strings(out, cs_types);
      }
      if (auto r = t->value("saAmfCtDefRecoveryOnError")) {
        if (auto name = recovery_name(*r)) {
          out << YAML::Key << "recovery" << YAML::Value << *name;
        } else {
          note(*t, "saAmfCtDefRecoveryOnError",
               "recovery " + *r +
                   " not carried over (amf has component-restart, "
                   "component-failover, node-switchover, node-failover and "
                   "node-failfast); amf's default is component-failover");
        }
      }
      if (auto d = t->value("saAmfCtDefDisableRestart"); d && *d == "1") {
        out << YAML::Key << "disable_restart" << YAML::Value << true;
      }
      std::map<std::string, long long> timeouts;
      if (auto ns = t->value("saAmfCtDefClcCliTimeout")) {
        if (auto ms = to_ms(*t, "saAmfCtDefClcCliTimeout", *ns)) {
          timeouts["instantiate_ms"] = timeouts["terminate_ms"] = timeouts["cleanup_ms"] = *ms;
        }
      }
      if (auto ns = t->value("saAmfCtDefCallbackTimeout")) {
        if (auto ms = to_ms(*t, "saAmfCtDefCallbackTimeout", *ns)) {
          timeouts["csi_set_ms"] = timeouts["csi_remove_ms"] = *ms;
        }
      }
      emit_timeouts(out, timeouts);
      emit_clc_command(out, *t, "terminate_command", "saAmfCtRelPathTerminateCmd",
                       "saAmfCtDefTerminateCmdArgv");
      emit_clc_command(out, *t, "cleanup_command", "saAmfCtRelPathCleanupCmd",
                       "saAmfCtDefCleanupCmdArgv");
      if (t->value("saAmfCtDefQuiescingCompleteTimeout")) {
        note(*t, "saAmfCtDefQuiescingCompleteTimeout",
             "not carried over: amf waits csi_set_ms for a quiescing to complete");
      }
      if (t->value("saAmfCtDefInstantiationLevel")) {
        note(*t, "saAmfCtDefInstantiationLevel",
             "not carried over: amf instantiates the components of an SU together");
      }
      emit_health_check_type(out, *t);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }

  void emit_timeouts(YAML::Emitter& out, const std::map<std::string, long long>& timeouts) {
    if (timeouts.empty()) return;
    out << YAML::Key << "timeouts" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (const auto& [k, v] : timeouts) out << YAML::Key << k << YAML::Value << v;
    out << YAML::EndMap;
  }

  void emit_clc_command(YAML::Emitter& out, const Object& t, std::string_view key,
                        std::string_view path_attr, std::string_view args_attr) {
    auto path = t.value(path_attr);
    if (!path) {
      if (t.values(args_attr) != nullptr) {
        note(t, args_attr, "not carried over: there is no command to pass them to");
      }
      return;
    }
    out << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted
        << shell_command(command_path(t, path_attr, *path), t.values(args_attr));
  }

  // The type's first health check key; amf has one per component.
  void emit_health_check_type(YAML::Emitter& out, const Object& t) {
    std::vector<const Object*> checks = children("SaAmfHealthcheckType", t.dn);
    for (std::size_t i = 0; i < checks.size(); ++i) {
      const Object& h = *checks[i];
      handled_.insert(&h);
      if (i > 0 || !sa_aware_types_.contains(t.dn)) {
        note(h, "",
             i > 0 ? "not carried over: amf has one health check per component"
                   : "not carried over: only an SA-aware component answers health checks");
        uses(h, {"saAmfHctDefPeriod", "saAmfHctDefMaxDuration"});
        continue;
      }
      out << YAML::Key << "health_check" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
          << "key" << YAML::Value << YAML::DoubleQuoted << rdn(h.dn, "safHealthcheckKey");
      if (auto ns = h.value("saAmfHctDefPeriod")) {
        if (auto ms = to_ms(h, "saAmfHctDefPeriod", *ns)) {
          out << YAML::Key << "period_ms" << YAML::Value << *ms;
        }
      }
      if (auto ns = h.value("saAmfHctDefMaxDuration")) {
        if (auto ms = to_ms(h, "saAmfHctDefMaxDuration", *ns)) {
          out << YAML::Key << "max_duration_ms" << YAML::Value << *ms;
        }
      }
      out << YAML::EndMap;
    }
  }

  void emit_sg_types(YAML::Emitter& out) {
    std::vector<const Object*> types = of_class("SaAmfSGType");
    if (types.empty()) return;
    out << YAML::Key << "service_group_types" << YAML::Value << YAML::BeginSeq;
    for (const Object* t : types) {
      handled_.insert(t);
      uses(*t, {"saAmfSgtValidSuTypes"});
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << sg_types_[t->dn];
      if (auto model = t->value("saAmfSgtRedundancyModel")) {
        if (auto name = redundancy_name(*model)) {
          sg_type_models_[t->dn] = *name;
          out << YAML::Key << "redundancy" << YAML::Value << *name;
        } else {
          note(*t, "saAmfSgtRedundancyModel", "unknown redundancy model " + *model);
        }
      }
      emit_sg_settings(
          out, *t,
          {{"saAmfSgtDefAutoRepair", "auto_repair"}, {"saAmfSgtDefAutoAdjust", "auto_adjust"}},
          {{"saAmfSgtDefAutoAdjustProb", "auto_adjust_probation_ms"},
           {"saAmfSgtDefCompRestartProb", "comp_restart_probation_ms"},
           {"saAmfSgtDefSuRestartProb", "su_restart_probation_ms"}},
          {{"saAmfSgtDefCompRestartMax", "comp_restart_max"},
           {"saAmfSgtDefSuRestartMax", "su_restart_max"}});
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }

  using KeyPairs = std::initializer_list<std::pair<std::string_view, std::string_view>>;
  void emit_sg_settings(YAML::Emitter& out, const Object& o, KeyPairs booleans, KeyPairs durations,
                        KeyPairs counts) {
    for (auto [attr, key] : booleans) {
      if (auto v = o.value(attr)) {
        out << YAML::Key << std::string(key) << YAML::Value << (*v != "0");
      }
    }
    for (auto [attr, key] : durations) {
      if (auto ns = o.value(attr)) {
        if (auto ms = to_ms(o, attr, *ns))
          out << YAML::Key << std::string(key) << YAML::Value << *ms;
      }
    }
    for (auto [attr, key] : counts) {
      if (auto text = o.value(attr)) {
        if (auto n = to_count(o, attr, *text)) {
          out << YAML::Key << std::string(key) << YAML::Value << *n;
        }
      }
    }
  }

  // ---- applications ----
  void emit_applications(YAML::Emitter& out) {
    std::vector<const Object*> apps = of_class("SaAmfApplication");
    // SGs, SIs whose application is not among the files still need one.
    std::set<std::string> app_dns;
    for (const Object* a : apps) app_dns.insert(a->dn);
    std::vector<std::string> implicit;
    for (const Object* sg : of_class("SaAmfSG")) {
      const std::string app = parent_dn(sg->dn);
      if (!app_dns.contains(app) &&
          std::find(implicit.begin(), implicit.end(), app) == implicit.end()) {
        implicit.push_back(app);
        add(sg->file + ": " + sg->dn + ": its application " + app +
            " is not in these files; it is created with its defaults");
      }
    }
    if (apps.empty() && implicit.empty()) return;
    // SGs keep their names; amf tells apart those of one name in several applications as
    // OpenSAF's DNs do, by their application: their ids are APP.SG (what a sponsor in another
    // SG is named by).
    std::map<std::string, std::set<std::string>> apps_of;  // SG name: applications
    for (const Object* sg : of_class("SaAmfSG")) {
      const std::string name = amf_name(*sg, rdn(sg->dn, "safSg"), "service group");
      sg_names_[sg->dn] = name;
      apps_of[name].insert(amf_name_quiet(rdn(sg->dn, "safApp")));
    }
    for (const Object* sg : of_class("SaAmfSG")) {
      const std::string& name = sg_names_[sg->dn];
      sg_ids_[sg->dn] =
          apps_of[name].size() > 1 ? amf_name_quiet(rdn(sg->dn, "safApp")) + "." + name : name;
    }
    out << YAML::Key << "applications" << YAML::Value << YAML::BeginSeq;
    for (const Object* a : apps) {
      handled_.insert(a);
      uses(*a, {"saAmfAppType"});
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << amf_name(*a, rdn(a->dn, "safApp"), "application");
      if (auto state = a->value("saAmfApplicationAdminState")) {
        emit_admin_state(out, *a, "saAmfApplicationAdminState", *state, true);
      }
      emit_service_groups(out, a->dn);
      out << YAML::EndMap;
    }
    for (const std::string& app : implicit) {
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << amf_name_quiet(rdn(app, "safApp"));
      emit_service_groups(out, app);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }

  void emit_admin_state(YAML::Emitter& out, const Object& o, std::string_view attr,
                        const std::string& value, bool instantiable) {
    std::optional<std::string> name = admin_state_name(value);
    if (name && (instantiable || *name != "locked-instantiation")) {
      if (*name != "unlocked") out << YAML::Key << "admin_state" << YAML::Value << *name;
    } else {
      note(o, attr,
           "admin state " + value + " is not an initial admin state in amf; left unlocked");
    }
  }

  void emit_service_groups(YAML::Emitter& out, const std::string& app_dn) {
    std::vector<const Object*> sgs = children("SaAmfSG", app_dn);
    out << YAML::Key << "service_groups" << YAML::Value << YAML::BeginSeq;
    for (const Object* sg : sgs) emit_service_group(out, *sg);
    out << YAML::EndSeq;
  }

  void emit_service_group(YAML::Emitter& out, const Object& sg) {
    handled_.insert(&sg);
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << sg_names_[sg.dn];
    std::string model;
    if (auto type = sg.value("saAmfSGType")) {
      if (find(*type, "SaAmfSGType") != nullptr) {
        out << YAML::Key << "type" << YAML::Value << sg_types_[*type];
        model = sg_type_models_[*type];
      } else {
        note(sg, "saAmfSGType", "its SG type " + *type + " is not in these files");
      }
    }
    if (auto state = sg.value("saAmfSGAdminState")) {
      emit_admin_state(out, sg, "saAmfSGAdminState", *state, true);
    }
    std::vector<const Object*> sus = children("SaAmfSU", sg.dn);
    emit_sg_settings(
        out, sg, {{"saAmfSGAutoRepair", "auto_repair"}, {"saAmfSGAutoAdjust", "auto_adjust"}},
        {{"saAmfSGAutoAdjustProb", "auto_adjust_probation_ms"},
         {"saAmfSGCompRestartProb", "comp_restart_probation_ms"},
         {"saAmfSGSuRestartProb", "su_restart_probation_ms"}},
        {{"saAmfSGCompRestartMax", "comp_restart_max"}, {"saAmfSGSuRestartMax", "su_restart_max"}});
    // Counts that belong to one redundancy model only; amf refuses them in the others.
    struct Count {
      std::string_view attr;
      std::string_view key;
      std::set<std::string> models;
      bool at_most_sus;  // above the SU count it means "all" in OpenSAF: left out (0 = all)
    };
    const std::vector<Count> counts{
        {"saAmfSGNumPrefActiveSUs", "preferred_active_sus", {"n+m"}, false},
        {"saAmfSGNumPrefStandbySUs", "preferred_standby_sus", {"n+m"}, false},
        {"saAmfSGNumPrefInserviceSUs",
         "preferred_inservice_sus",
         {"2n", "n+m", "n-way", "n-way-active", "no-redundancy"},
         true},
        {"saAmfSGNumPrefAssignedSUs", "preferred_assigned_sus", {"n-way", "n-way-active"}, true},
        {"saAmfSGMaxActiveSIsperSU",
         "max_active_sis_per_su",
         {"n+m", "n-way", "n-way-active"},
         false},
        {"saAmfSGMaxStandbySIsperSU", "max_standby_sis_per_su", {"n+m", "n-way"}, false},
    };
    for (const Count& c : counts) {
      auto text = sg.value(c.attr);
      if (!text) continue;
      auto n = to_count(sg, c.attr, *text);
      if (!n) continue;
      if (!c.models.contains(model)) {
        note(sg, c.attr,
             "not carried over: it has no meaning in the " + (model.empty() ? "(unknown)" : model) +
                 " redundancy model");
      } else if (c.at_most_sus && static_cast<std::size_t>(*n) >= sus.size()) {
        // All SUs, which amf's default (0) says.
      } else {
        out << YAML::Key << std::string(c.key) << YAML::Value << *n;
      }
    }
    std::vector<std::string> group_nodes;
    if (auto group = sg.value("saAmfSGSuHostNodeGroup")) {
      auto it = node_groups_.find(*group);
      if (it != node_groups_.end()) group_nodes = it->second;
    }
    emit_service_units(out, sg, sus, group_nodes);
    emit_service_instances(out, sg, model);
    out << YAML::EndMap;
  }

  void emit_service_units(YAML::Emitter& out, const Object& sg,
                          const std::vector<const Object*>& sus,
                          const std::vector<std::string>& group_nodes) {
    if (sus.empty()) return;
    // In rank order, so that SUs placed round-robin go to the nodes in that order.
    std::vector<const Object*> ordered = sus;
    std::stable_sort(ordered.begin(), ordered.end(), [](const Object* a, const Object* b) {
      auto rank = [](const Object* o) {
        int r = std::atoi(o->value("saAmfSURank").value_or("0").c_str());
        return r == 0 ? INT32_MAX : r;
      };
      return rank(a) < rank(b);
    });
    const std::vector<std::string>& candidates = group_nodes.empty() ? nodes_ : group_nodes;
    std::size_t next = 0;
    out << YAML::Key << "service_units" << YAML::Value << YAML::BeginSeq;
    for (const Object* su : ordered) {
      handled_.insert(su);
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << amf_name(*su, rdn(su->dn, "safSu"), "service unit");
      std::string node;
      const std::vector<std::string>* choices = &candidates;
      std::string group;  // the SU's own node group, when its host is one
      if (auto host = su->value("saAmfSUHostNodeOrNodeGroup")) {
        node = rdn(*host, "safAmfNode");
        if (auto it = node_groups_.find(*host); node.empty() && it != node_groups_.end()) {
          choices = &it->second;
          group = *host;
        }
      }
      if (node.empty()) {
        node = choices->empty() ? "SC-1" : (*choices)[next++ % choices->size()];
        note(*su, "",
             "placed on node " + node +
                 (group.empty() ? " (OpenSAF picks a node of the SG's node group"
                                : " (OpenSAF picks a node of its node group " + group) +
                 " when the SU is instantiated; amf places SUs in the configuration: edit "
                 "'node', or name a node in saAmfSUHostNodeOrNodeGroup)");
      }
      out << YAML::Key << "node" << YAML::Value << amf_name_quiet(node);
      if (auto rank = su->value("saAmfSURank")) {
        if (auto n = to_count(*su, "saAmfSURank", *rank); n && *n > 0) {
          out << YAML::Key << "rank" << YAML::Value << *n;
        }
      }
      if (auto state = su->value("saAmfSUAdminState")) {
        emit_admin_state(out, *su, "saAmfSUAdminState", *state, true);
      }
      if (auto type = su->value("saAmfSUType")) {
        if (const Object* sut = find(*type, "SaAmfSUType")) {
          handled_.insert(sut);
          uses(*sut, {"saAmfSutProvidesSvcTypes"});
          if (auto external = sut->value("saAmfSutIsExternal"); external && *external != "0") {
            note(*sut, "saAmfSutIsExternal", "external SUs are not supported: imported as local");
          }
          if (auto failover = sut->value("saAmfSutDefSUFailover"); failover && *failover == "0") {
            note(*sut, "saAmfSutDefSUFailover",
                 "not carried over: amf fails the whole SU over when a component fails over");
          }
        }
      }
      if (auto failover = su->value("saAmfSUFailover"); failover && *failover == "0") {
        note(*su, "saAmfSUFailover",
             "not carried over: amf fails the whole SU over when a component fails over");
      }
      emit_components(out, *su);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
    (void)sg;
  }

  void emit_components(YAML::Emitter& out, const Object& su) {
    std::vector<const Object*> comps = children("SaAmfComp", su.dn);
    if (comps.empty()) return;
    out << YAML::Key << "components" << YAML::Value << YAML::BeginSeq;
    for (const Object* c : comps) {
      handled_.insert(c);
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << amf_name(*c, rdn(c->dn, "safComp"), "component");
      const Object* type = nullptr;
      if (auto type_dn = c->value("saAmfCompType")) {
        type = find(*type_dn, "SaAmfCompType");
        if (type != nullptr) {
          out << YAML::Key << "type" << YAML::Value << comp_types_[*type_dn];
        } else {
          note(*c, "saAmfCompType", "its component type " + *type_dn + " is not in these files");
        }
      }
      emit_args_and_env(out, *c, "saAmfCompInstantiateCmdArgv", "saAmfCompCmdEnv");
      std::vector<std::string> cs_types;
      for (const Object* cct : children("SaAmfCompCsType", c->dn)) {
        handled_.insert(cct);
        cs_types.push_back(cs_type_name(split_dn(cct->dn).front().value));
      }
      if (!cs_types.empty()) {
        out << YAML::Key << "cs_types" << YAML::Value;
        emit_strings(out, cs_types);
      }
      if (auto r = c->value("saAmfCompRecoveryOnError")) {
        if (auto name = recovery_name(*r)) {
          out << YAML::Key << "recovery" << YAML::Value << *name;
        } else {
          note(*c, "saAmfCompRecoveryOnError", "recovery " + *r + " not carried over");
        }
      }
      if (auto d = c->value("saAmfCompDisableRestart")) {
        out << YAML::Key << "disable_restart" << YAML::Value << (*d != "0");
      }
      // OpenSAF counts the first attempt among those without delay; amf counts the retries
      // after it. The delayed ones are "this many more" in both.
      if (auto text = c->value("saAmfCompNumMaxInstantiateWithoutDelay")) {
        if (auto n = to_count(*c, "saAmfCompNumMaxInstantiateWithoutDelay", *text)) {
          if (*n == 0) {
            note(*c, "saAmfCompNumMaxInstantiateWithoutDelay",
                 "0 attempts: amf always makes the first, so instantiate_retries is 0");
          }
          out << YAML::Key << "instantiate_retries" << YAML::Value << std::max(*n - 1, 0);
        }
      }
      if (auto text = c->value("saAmfCompNumMaxInstantiateWithDelay")) {
        if (auto n = to_count(*c, "saAmfCompNumMaxInstantiateWithDelay", *text)) {
          out << YAML::Key << "instantiate_retries_with_delay" << YAML::Value << *n;
        }
      }
      if (auto ns = c->value("saAmfCompDelayBetweenInstantiateAttempts")) {
        if (auto ms = to_ms(*c, "saAmfCompDelayBetweenInstantiateAttempts", *ns)) {
          out << YAML::Key << "instantiate_delay_ms" << YAML::Value << *ms;
        }
      }
      std::map<std::string, long long> timeouts;
      for (auto [attr, key] : {std::pair{"saAmfCompInstantiateTimeout", "instantiate_ms"},
                               std::pair{"saAmfCompTerminateTimeout", "terminate_ms"},
                               std::pair{"saAmfCompCleanupTimeout", "cleanup_ms"},
                               std::pair{"saAmfCompCSISetCallbackTimeout", "csi_set_ms"},
                               std::pair{"saAmfCompCSIRmvCallbackTimeout", "csi_remove_ms"}}) {
        if (auto ns = c->value(attr)) {
          if (auto ms = to_ms(*c, attr, *ns)) timeouts[key] = *ms;
        }
      }
      emit_timeouts(out, timeouts);
      if (type != nullptr) {
        // The component's own CLC-CLI arguments with its type's commands.
        for (auto [key, path_attr, args_attr] :
             {std::tuple{"terminate_command", "saAmfCtRelPathTerminateCmd",
                         "saAmfCompTerminateCmdArgv"},
              std::tuple{"cleanup_command", "saAmfCtRelPathCleanupCmd",
                         "saAmfCompCleanupCmdArgv"}}) {
          const auto* args = c->values(args_attr);
          if (args == nullptr) continue;
          if (auto path = type->value(path_attr)) {
            out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted
                << shell_command(command_path(*type, path_attr, *path), args);
          } else {
            note(*c, args_attr, "not carried over: its type has no command to pass them to");
          }
        }
      }
      for (const Object* h : children("SaAmfHealthcheck", c->dn)) {
        handled_.insert(h);
        note(*h, "",
             "not carried over: amf takes the health check period and maximum duration from "
             "the component type (edit health_check in the component to change them)");
        uses(*h, {"saAmfHealthcheckPeriod", "saAmfHealthcheckMaxDuration"});
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }

  void emit_service_instances(YAML::Emitter& out, const Object& sg, const std::string& model) {
    std::vector<const Object*> sis;
    for (const Object* si : of_class("SaAmfSI")) {
      if (si->value("saAmfSIProtectedbySG").value_or("") == sg.dn) sis.push_back(si);
    }
    if (sis.empty()) return;
    out << YAML::Key << "service_instances" << YAML::Value << YAML::BeginSeq;
    for (const Object* si : sis) {
      handled_.insert(si);
      uses(*si, {"saAmfSvcType"});
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << amf_name(*si, rdn(si->dn, "safSi"), "service instance");
      if (auto rank = si->value("saAmfSIRank")) {
        if (auto n = to_count(*si, "saAmfSIRank", *rank); n && *n > 0) {
          out << YAML::Key << "rank" << YAML::Value << *n;
        }
      }
      if (auto state = si->value("saAmfSIAdminState")) {
        emit_admin_state(out, *si, "saAmfSIAdminState", *state, false);
      }
      for (auto [attr, key, for_model] :
           {std::tuple{"saAmfSIPrefActiveAssignments", "preferred_active_assignments",
                       "n-way-active"},
            std::tuple{"saAmfSIPrefStandbyAssignments", "preferred_standby_assignments",
                       "n-way"}}) {
        auto text = si->value(attr);
        if (!text) continue;
        auto n = to_count(*si, attr, *text);
        if (!n) continue;
        if (model != for_model) {
          note(*si, attr,
               "not carried over: it has no meaning in the " +
                   (model.empty() ? "(unknown)" : model) + " redundancy model");
        } else {
          out << YAML::Key << key << YAML::Value << *n;
        }
      }
      emit_dependencies(out, *si);
      emit_csis(out, *si);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }

  // The amf name of an SI for a sponsor: "si" within the SG, "sg/si" across.
  void emit_dependencies(YAML::Emitter& out, const Object& si) {
    std::vector<const Object*> deps = children("SaAmfSIDependency", si.dn);
    if (deps.empty()) return;
    const std::string own_sg = si.value("saAmfSIProtectedbySG").value_or("");
    out << YAML::Key << "dependencies" << YAML::Value << YAML::BeginSeq;
    for (const Object* d : deps) {
      handled_.insert(d);
      const std::string sponsor_dn = split_dn(d->dn).front().value;
      std::string sponsor = amf_name_quiet(rdn(sponsor_dn, "safSi"));
      if (const Object* s = find(sponsor_dn, "SaAmfSI")) {
        const std::string sponsor_sg = s->value("saAmfSIProtectedbySG").value_or("");
        if (sponsor_sg != own_sg) sponsor = sg_ids_[sponsor_sg] + "/" + sponsor;
      }
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "sponsor" << YAML::Value << sponsor;
      if (auto ns = d->value("saAmfToleranceTime")) {
        if (auto ms = to_ms(*d, "saAmfToleranceTime", *ns)) {
          out << YAML::Key << "tolerance_ms" << YAML::Value << *ms;
        }
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }

  void emit_csis(YAML::Emitter& out, const Object& si) {
    std::vector<const Object*> csis = children("SaAmfCSI", si.dn);
    if (csis.empty()) return;
    out << YAML::Key << "csis" << YAML::Value << YAML::BeginSeq;
    for (const Object* csi : csis) {
      handled_.insert(csi);
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << amf_name(*csi, rdn(csi->dn, "safCsi"), "CSI");
      if (auto type = csi->value("saAmfCSType")) {
        out << YAML::Key << "cs_type" << YAML::Value << cs_type_name(*type);
      }
      if (csi->values("saAmfCSIDependencies") != nullptr) {
        note(*csi, "saAmfCSIDependencies",
             "not carried over: amf assigns the CSIs of an SI together");
      }
      // Every value of a multi-valued attribute, in order; none is `[]`, as amf reads it.
      std::map<std::string, std::vector<std::string>> attributes;
      for (const Object* a : children("SaAmfCSIAttribute", csi->dn)) {
        handled_.insert(a);
        const std::vector<std::string>* values = a->values("saAmfCSIAttriValue");
        attributes[rdn(a->dn, "safCsiAttr")] =
            values != nullptr ? *values : std::vector<std::string>{};
      }
      if (!attributes.empty()) {
        out << YAML::Key << "attributes" << YAML::Value << YAML::BeginMap;
        for (const auto& [name, values] : attributes) {
          out << YAML::Key << YAML::DoubleQuoted << name << YAML::Value;
          if (values.size() == 1) {
            out << YAML::DoubleQuoted << values.front();
          } else {
            emit_strings(out, values);
          }
        }
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }

  std::vector<Object> objects_;
  std::map<std::string, const Object*> by_dn_;
  std::map<std::string, std::vector<const Object*>, std::less<>> by_class_;
  std::map<std::pair<std::string, std::string>, std::vector<const Object*>> children_;
  std::set<const Object*> handled_;
  std::vector<std::string> report_;
  std::string cluster_;
  std::vector<std::string> nodes_;
  std::map<std::string, std::vector<std::string>> node_groups_;  // by DN: member node names
  std::map<std::string, const Object*> node_objects_;            // SaAmfNode by node name
  // By bundle RDN (safSmfBundle=X): each node's path prefix.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> bundle_prefixes_;
  std::map<std::string, std::string> comp_types_;      // by DN: amf type name
  std::map<std::string, std::string> sg_types_;        // by DN: amf type name
  std::map<std::string, std::string> sg_type_models_;  // by DN: amf redundancy model
  std::map<std::string, std::string> cs_types_;        // by DN: amf CS type name
  std::map<std::string, std::string> sg_names_;        // by DN: amf SG name
  std::map<std::string, std::string> sg_ids_;          // by DN: amf SG id (APP.SG if shared)
  std::set<std::string> sa_aware_types_;               // DNs
};

}  // namespace

tl::expected<Imported, std::vector<std::string>> import_opensaf(
    const std::vector<ImportSource>& sources) {
  std::vector<Object> objects;
  std::vector<std::string> errors;
  for (const ImportSource& source : sources) {
    std::vector<std::string> e = read_objects(source, objects);
    errors.insert(errors.end(), e.begin(), e.end());
  }
  std::set<std::string> seen;
  for (const Object& o : objects) {
    if (!seen.insert(o.dn).second) {
      errors.push_back(o.file + ": " + detail::printable(o.dn) +
                       ": defined twice (immcfg would refuse the second)");
    }
  }
  if (!errors.empty()) {
    for (std::string& error : errors) error = detail::printable(error);
    return tl::unexpected(std::move(errors));
  }
  try {
    return Importer(std::move(objects)).run();
  } catch (const YAML::Exception& e) {
    return tl::unexpected(std::vector<std::string>{std::string("cannot write YAML: ") + e.what()});
  }
}

tl::expected<Imported, std::vector<std::string>> import_opensaf_files(
    const std::vector<std::string>& paths) {
  std::vector<ImportSource> sources;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return tl::unexpected(std::vector<std::string>{path + ": cannot open"});
    std::string text;
    char buffer[64 * 1024];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      text.append(buffer, static_cast<std::size_t>(in.gcount()));
      if (text.size() > kMaxFileBytes) {
        return tl::unexpected(std::vector<std::string>{path + ": larger than " +
                                                       std::to_string(kMaxFileBytes) + " bytes"});
      }
    }
    sources.push_back({path, std::move(text)});
  }
  return import_opensaf(sources);
}

}  // namespace amf::config
