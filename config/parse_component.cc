#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <utility>

#include "config/parse.h"

namespace amf::config::detail {
namespace {

constexpr std::string_view kRecoveryValues =
    "component-restart, component-failover, su-restart, su-failover, node-switchover, "
    "node-failover, node-failfast";

// Variables the node director sets for every component (AMF_COMP_NAME, ...).
constexpr std::string_view kReservedEnvPrefix = "AMF_";

std::optional<std::string> env_name_problem(const std::string& name) {
  auto is_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  auto is_char = [&](char c) { return is_start(c) || std::isdigit(static_cast<unsigned char>(c)); };
  if (name.empty() || !is_start(name.front()) || !std::all_of(name.begin(), name.end(), is_char)) {
    return "invalid environment variable name '" + name + "': must match [A-Za-z_][A-Za-z0-9_]*";
  }
  if (name.starts_with(kReservedEnvPrefix)) {
    return "environment variable '" + name + "' is reserved: names starting with " +
           std::string(kReservedEnvPrefix) + " are set by amf";
  }
  return std::nullopt;
}

// What parse_component reads: a component (of a known type or none), a component whose `type`
// names no type (its required keys may be in that type: not reported missing), or a component
// type (nothing required but its name; rules that span keys are left to its instances).
enum class Mode { kComponent, kUnknownType, kType };

void read_args(const MapReader& r, model::ComponentConfig& comp) {
  const Node* args = r.sequence("args");
  if (args == nullptr) return;
  std::string what = "an entry of 'args' in " + r.label();
  for (const Node& arg : args->items) {
    if (auto text = read_string(arg, arg.mark, what, r.diags())) comp.args.push_back(*text);
  }
}

void read_cs_types(const MapReader& r, model::ComponentConfig& comp) {
  const Node* cs_types = r.nonempty_sequence("cs_types", "cs_type");
  if (cs_types == nullptr) return;
  std::string what = "a cs_type of " + r.label();
  NameSet seen("cs_type", r.label());
  for (const Node& item : cs_types->items) {
    std::optional<std::string> cs_type = read_name(item, item.mark, what, kCsTypeName, r.diags());
    if (cs_type && seen.add(*cs_type, item.mark, r.diags())) comp.cs_types.push_back(*cs_type);
  }
}

void read_recovery(const MapReader& r, model::ComponentConfig& comp) {
  std::optional<std::string> text = r.string("recovery");
  if (!text) return;
  if (auto recovery = model::parse_recovery(*text)) {
    comp.recovery = *recovery;
    return;
  }
  r.diags().error(r.value_mark("recovery"), "invalid recovery '" + *text + "' in " + r.label() +
                                                "; valid values: " + std::string(kRecoveryValues));
}

void read_timeouts(const MapReader& owner, model::ComponentTimeouts& timeouts) {
  const Node* node = owner.value("timeouts");
  if (node == nullptr) return;
  MapReader r(*node, owner.value_mark("timeouts"), "timeouts of " + owner.label(),
              {"instantiate_ms", "terminate_ms", "cleanup_ms", "csi_set_ms", "csi_remove_ms"}, {},
              owner.diags());
  if (auto ms = r.duration("instantiate_ms")) timeouts.instantiate = *ms;
  if (auto ms = r.duration("terminate_ms")) timeouts.terminate = *ms;
  if (auto ms = r.duration("cleanup_ms")) timeouts.cleanup = *ms;
  if (auto ms = r.duration("csi_set_ms")) timeouts.csi_set = *ms;
  if (auto ms = r.duration("csi_remove_ms")) timeouts.csi_remove = *ms;
}

void read_health_check(const MapReader& owner, model::ComponentConfig& comp) {
  const Node* node = owner.value("health_check");
  if (node == nullptr) return;
  MapReader r(*node, owner.value_mark("health_check"), "health_check of " + owner.label(),
              {"key", "period_ms", "max_duration_ms", "invoked_by"}, {"key"}, owner.diags());
  if (!r.is_mapping()) return;
  model::HealthCheckConfig check;
  if (auto key = r.string("key")) {
    if (key->empty())
      r.diags().error(r.value_mark("key"), "'key' in " + r.label() + " must not be empty");
    check.key = *key;
  }
  if (auto ms = r.duration("period_ms")) check.period = *ms;
  if (auto ms = r.duration("max_duration_ms")) check.max_duration = *ms;
  if (auto by = r.string("invoked_by")) {
    if (*by == "component") {
      check.component_invoked = true;
    } else if (*by != "amf") {
      r.diags().error(r.value_mark("invoked_by"), "invalid invoked_by '" + *by + "' in " +
                                                      r.label() + "; valid values: amf, component");
    }
  }
  comp.health_check = std::move(check);
}

void read_runtime(const MapReader& r, model::ComponentConfig& comp, Mode mode) {
  if (auto runtime = r.string("runtime")) {
    if (*runtime == "oci") {
      comp.runtime = model::Runtime::kOci;
    } else if (*runtime != "process") {
      r.diags().error(r.value_mark("runtime"), "invalid runtime '" + *runtime + "' in " +
                                                   r.label() + "; valid values: process, oci");
    }
  }
  const Node* node = r.value("container");
  if (node == nullptr) return;
  if (comp.runtime != model::Runtime::kOci && mode != Mode::kType) {
    r.diags().error(r.key_mark("container"),
                    "'container' in " + r.label() + " needs 'runtime: oci'");
  }
  MapReader c(*node, r.value_mark("container"), "container of " + r.label(),
              {"rootfs", "network", "memory_limit_mb", "pids_limit"}, {}, r.diags());
  if (!c.is_mapping()) return;
  if (auto rootfs = c.string("rootfs")) {
    if (*rootfs != "host" && !rootfs->starts_with("/")) {
      c.diags().error(c.value_mark("rootfs"),
                      "'rootfs' in " + c.label() +
                          " must be an absolute directory or 'host', not '" + *rootfs + "'");
    }
    comp.container.rootfs = *rootfs;
  }
  if (auto network = c.string("network")) {
    if (*network == "none") {
      comp.container.own_network = true;
    } else if (*network != "host") {
      c.diags().error(c.value_mark("network"), "invalid network '" + *network + "' in " +
                                                   c.label() + "; valid values: host, none");
    }
  }
  if (auto mb = c.integer("memory_limit_mb", 4, 1'048'576)) comp.container.memory_limit_mb = *mb;
  if (auto pids = c.integer("pids_limit", 1, 1'000'000)) comp.container.pids_limit = *pids;
}

void read_lifecycle(const MapReader& r, model::ComponentConfig& comp, Mode mode) {
  if (auto when = r.string("instantiated_when")) {
    if (*when == "notified") {
      comp.instantiated_when = model::InstantiatedWhen::kNotified;
    } else if (*when == "started") {
      comp.instantiated_when = model::InstantiatedWhen::kStarted;
    } else if (*when == "probed") {
      comp.instantiated_when = model::InstantiatedWhen::kProbed;
      if (!r.has("probe") && mode != Mode::kType) {
        r.diags().error(r.value_mark("instantiated_when"),
                        "'instantiated_when: probed' in " + r.label() +
                            " needs a 'probe' (it is instantiated once the probe first succeeds)");
      }
    } else if (*when != "registered") {
      r.diags().error(r.value_mark("instantiated_when"),
                      "invalid instantiated_when '" + *when + "' in " + r.label() +
                          "; valid values: registered, notified, started, probed");
    }
  }
  if (mode == Mode::kType) {
    if (auto ms = r.duration("watchdog_ms")) {
      comp.health_check =
          model::HealthCheckConfig{"watchdog", *ms, std::chrono::milliseconds(0), true};
    }
    return;
  }
  if (r.has("health_check") && !comp.sa_aware()) {
    r.diags().error(r.key_mark("health_check"),
                    "'health_check' in " + r.label() +
                        " needs 'instantiated_when: registered' (only an SA-aware component "
                        "answers health checks; use watchdog_ms with notified)");
  }
  if (auto ms = r.duration("watchdog_ms")) {
    if (comp.instantiated_when != model::InstantiatedWhen::kNotified) {
      r.diags().error(r.key_mark("watchdog_ms"),
                      "'watchdog_ms' in " + r.label() + " needs 'instantiated_when: notified'");
    } else {
      comp.health_check =
          model::HealthCheckConfig{"watchdog", *ms, std::chrono::milliseconds(0), true};
    }
  }
}

void read_hooks(const MapReader& owner, model::ComponentConfig& comp, Mode mode) {
  const Node* node = owner.value("hooks");
  if (node == nullptr) return;
  if (comp.sa_aware() && mode != Mode::kType) {
    owner.diags().error(owner.key_mark("hooks"),
                        "'hooks' in " + owner.label() +
                            " needs 'instantiated_when' notified, started or probed (an SA-aware "
                            "component takes its HA states through callbacks)");
  }
  MapReader r(*node, owner.value_mark("hooks"), "hooks of " + owner.label(),
              {"on_active", "on_standby", "on_quiesced", "on_remove"}, {}, owner.diags());
  if (!r.is_mapping()) return;
  for (auto [key, field] : {std::pair{"on_active", &model::ComponentConfig::Hooks::on_active},
                            std::pair{"on_standby", &model::ComponentConfig::Hooks::on_standby},
                            std::pair{"on_quiesced", &model::ComponentConfig::Hooks::on_quiesced},
                            std::pair{"on_remove", &model::ComponentConfig::Hooks::on_remove}}) {
    if (auto command = r.string(key)) {
      if (command->empty()) {
        r.diags().error(r.value_mark(key),
                        "'" + std::string(key) + "' in " + r.label() + " must not be empty");
      }
      comp.hooks.*field = *command;
    }
  }
}

void read_probe(const MapReader& owner, model::ComponentConfig& comp, Mode mode) {
  const Node* node = owner.value("probe");
  if (node == nullptr) return;
  MapReader r(*node, owner.value_mark("probe"), "probe of " + owner.label(),
              {"exec", "tcp_port", "http_port", "http_path", "period_ms", "timeout_ms",
               "failure_threshold", "startup_period_ms"},
              {}, owner.diags());
  if (!r.is_mapping()) return;
  const std::size_t errors_before = r.diags().count();
  model::ProbeConfig probe;
  int kinds = 0;
  if (const Node* exec = r.sequence("exec")) {
    ++kinds;
    probe.kind = model::ProbeConfig::Kind::kExec;
    for (const Node& arg : exec->items) {
      if (auto text = read_string(arg, arg.mark, "an entry of 'exec' in " + r.label(), r.diags())) {
        probe.command.push_back(*text);
      }
    }
    if (probe.command.empty()) {
      r.diags().error(r.value_mark("exec"), "'exec' in " + r.label() + " needs a command");
    }
  }
  if (auto port = r.integer("tcp_port", 1, 65535)) {
    ++kinds;
    probe.kind = model::ProbeConfig::Kind::kTcp;
    probe.port = *port;
  }
  if (auto port = r.integer("http_port", 1, 65535)) {
    ++kinds;
    probe.kind = model::ProbeConfig::Kind::kHttp;
    probe.port = *port;
  }
  if (auto path = r.string("http_path")) {
    if (probe.kind != model::ProbeConfig::Kind::kHttp || !path->starts_with("/")) {
      r.diags().error(r.value_mark("http_path"),
                      "'http_path' in " + r.label() + " needs http_port and must start with '/'");
    }
    probe.path = *path;
  }
  if (kinds != 1 && r.diags().count() == errors_before) {
    r.diags().error(r.mark(), r.label() + " needs exactly one of exec, tcp_port, http_port");
  }
  if (auto ms = r.duration("period_ms")) probe.period = *ms;
  if (auto ms = r.duration("timeout_ms")) probe.timeout = *ms;
  if (auto n = r.integer("failure_threshold", 1, 1000)) probe.failure_threshold = *n;
  if (auto ms = r.duration("startup_period_ms")) {
    if (comp.instantiated_when != model::InstantiatedWhen::kProbed && mode != Mode::kType) {
      r.diags().error(r.key_mark("startup_period_ms"),
                      "'startup_period_ms' in " + r.label() +
                          " needs 'instantiated_when: probed' in its component");
    }
    probe.startup_period = *ms;
  }
  comp.probe = std::move(probe);
}

const std::vector<std::string_view> kComponentKeys{"name",
                                                   "type",
                                                   "command",
                                                   "args",
                                                   "env",
                                                   "cs_types",
                                                   "recovery",
                                                   "instantiate_retries",
                                                   "instantiate_retries_with_delay",
                                                   "instantiate_delay_ms",
                                                   "disable_restart",
                                                   "timeouts",
                                                   "health_check",
                                                   "runtime",
                                                   "container",
                                                   "instantiated_when",
                                                   "watchdog_ms",
                                                   "hooks",
                                                   "probe",
                                                   "terminate_command",
                                                   "cleanup_command",
                                                   "pid_file",
                                                   "working_dir"};

// Where a component's name is (where the component is, when it has none).
Mark name_position(const Node& item) {
  for (const MapEntry& entry : item.entries) {
    if (entry.key.is_scalar() && entry.key.scalar == "name") {
      return value_position(entry.value, entry.key.mark);
    }
  }
  return item.mark;
}

// `names` holds the names of the components before this one in the same SU (or of the
// component types before this one).
model::ComponentConfig parse_component(const Node& node, NameSet& names, Diagnostics& diags,
                                       Mode mode) {
  static const std::vector<std::string_view> kRequired{"name", "command", "cs_types"};
  static const std::vector<std::string_view> kName{"name"};
  MapReader r(node, node.mark, mode == Mode::kType ? "component type" : "component",
              mode == Mode::kType ? kComponentTypeKeys : kComponentKeys,
              mode == Mode::kComponent ? kRequired : kName, diags);
  model::ComponentConfig comp;
  if (!r.is_mapping()) return comp;
  if (auto name = r.name("name", mode == Mode::kType ? kTypeName : kComponentName)) {
    comp.name = *name;
    names.add(*name, r.value_mark("name"), diags);
  }
  if (auto command = r.string("command")) {
    if (command->empty()) {
      diags.error(r.value_mark("command"), "'command' in " + r.label() + " must not be empty");
    }
    comp.command = *command;
  }
  read_args(r, comp);
  if (auto env = r.string_map("env", env_name_problem)) comp.env = std::move(*env);
  read_cs_types(r, comp);
  read_recovery(r, comp);
  if (auto retries = r.integer("instantiate_retries_with_delay", 0, kMaxCount)) {
    comp.instantiate_retries_with_delay = *retries;
  }
  if (auto ms = r.duration("instantiate_delay_ms")) comp.instantiate_delay = *ms;
  if (auto retries = r.integer("instantiate_retries", 0, kMaxCount)) {
    comp.instantiate_retries = *retries;
  }
  if (auto disable = r.boolean("disable_restart")) comp.disable_restart = *disable;
  read_timeouts(r, comp.timeouts);
  read_health_check(r, comp);
  read_runtime(r, comp, mode);
  read_lifecycle(r, comp, mode);
  read_hooks(r, comp, mode);
  read_probe(r, comp, mode);
  for (auto [key, field] :
       {std::pair{"terminate_command", &model::ComponentConfig::terminate_command},
        std::pair{"cleanup_command", &model::ComponentConfig::cleanup_command},
        std::pair{"pid_file", &model::ComponentConfig::pid_file},
        std::pair{"working_dir", &model::ComponentConfig::working_dir}}) {
    if (auto command = r.string(key)) {
      if (command->empty()) {
        r.diags().error(r.value_mark(key),
                        "'" + std::string(key) + "' in " + r.label() + " must not be empty");
      }
      comp.*field = *command;
    }
  }
  if (std::filesystem::path dir(comp.working_dir);
      !comp.working_dir.empty() && dir.is_relative() &&
      (std::find(dir.begin(), dir.end(), "..") != dir.end() || dir.lexically_normal() == "." ||
       dir.lexically_normal() == "./")) {
    r.diags().error(r.value_mark("working_dir"),
                    "'working_dir' in " + r.label() + " must be absolute or name a directory " +
                        "inside RUNTIME/work (no '..', not '.'), not '" + comp.working_dir + "'");
  }
  if (!comp.pid_file.empty() && comp.runtime == model::Runtime::kOci && mode != Mode::kType) {
    r.diags().error(r.key_mark("pid_file"),
                    "'pid_file' in " + r.label() + " is for processes, not 'runtime: oci'");
  }
  return comp;
}

}  // namespace

const std::vector<std::string_view> kComponentTypeKeys = [] {
  std::vector<std::string_view> keys = kComponentKeys;
  keys.erase(std::find(keys.begin(), keys.end(), "type"));
  return keys;
}();

void check_component_type(const Node& node, NameSet& names, Diagnostics& diags) {
  parse_component(node, names, diags, Mode::kType);
}

ParsedComponents parse_components(const MapReader& owner, Types& types, Diagnostics& diags) {
  ParsedComponents out;
  std::size_t errors_before = diags.count();
  bool types_known = true;
  const Node* components = owner.nonempty_sequence("components", "component");
  if (components != nullptr) {
    NameSet names("component name", owner.label());
    for (const Node& item : components->items) {
      Typed typed = with_type(item, TypeKind::kComponent, types, diags);
      types_known = types_known && typed.type_known;
      out.list.push_back(parse_component(typed.node(item), names, diags,
                                         typed.type_known ? Mode::kComponent : Mode::kUnknownType));
      out.name_marks.push_back(name_position(item));
    }
  }
  out.complete = diags.count() == errors_before && types_known;
  return out;
}

void set_component_ids(model::SuConfig& su) {
  for (model::ComponentConfig& comp : su.components) {
    comp.id = CompId(su.id.str() + "/" + comp.name);
  }
}

void ComponentFiles::check_pid_file(const model::SuConfig& su, const model::ComponentConfig& comp,
                                    Mark at, Diagnostics& diags) {
  // Without a working_dir a relative pid file is in the component's own directory.
  if (comp.pid_file.empty() || (comp.pid_file[0] != '/' && comp.working_dir.empty())) return;
  const std::string path =
      comp.pid_file[0] == '/'
          ? comp.pid_file
          : (comp.working_dir[0] == '/' ? comp.working_dir : "RUNTIME/work/" + comp.working_dir) +
                "/" + comp.pid_file;
  const std::string key =
      su.node.str() + " " + std::filesystem::path(path).lexically_normal().string();
  auto [it, inserted] = pid_files_.emplace(key, Owner{comp.id.str(), at.line});
  if (inserted || it->second.id == comp.id.str()) return;
  if (!pid_reported_.emplace(at.line, at.column).second) return;  // a template's next stamp
  diags.error(at, "component '" + comp.id.str() + "' and component '" + it->second.id + "' (line " +
                      std::to_string(it->second.line) + ") would read the same pid " +
                      "file on node " + su.node.str() + ", " + path +
                      ", and could not tell their daemons apart; give each its own (a relative " +
                      "'pid_file' without 'working_dir' is in the component's own directory)");
}

void ComponentFiles::check(const model::SuConfig& su, const std::vector<Mark>& name_marks,
                           Diagnostics& diags) {
  // An SU or SG name with errors is left empty; a stamped SU name may be too long (reported at
  // its template's name_prefix).
  const std::string& su_id = su.id.str();
  if (su.name.empty() || su.name.size() > kSuName.max_length || su_id.starts_with("/")) return;
  for (std::size_t i = 0; i < su.components.size() && i < name_marks.size(); ++i) {
    const model::ComponentConfig& comp = su.components[i];
    if (comp.name.empty()) continue;
    const std::string& id = comp.id.str();
    const Mark at = name_marks[i];
    if (id.size() > kMaxComponentIdLength) {
      if (reported_.emplace(at.line, at.column).second) {
        diags.error(at, "component identifier '" + id + "' is " + std::to_string(id.size()) +
                            " characters long; at most " + std::to_string(kMaxComponentIdLength) +
                            ": amfd names the component's log file and sd_notify socket after "
                            "it, and a socket's path is at most 107 bytes. Shorten the service "
                            "group, service unit or component name" +
                            // An SG whose name another application uses is APP.SG in ids.
                            (su_id.substr(0, su_id.find('/')).find('.') != std::string::npos
                                 ? " (or the application's: an SG whose name another "
                                   "application's SG has too is APP.SG in ids)"
                                 : ""));
      }
      continue;
    }
    check_pid_file(su, comp, at, diags);
    std::string file = id;
    std::replace(file.begin(), file.end(), '/', '_');
    auto [it, inserted] = owners_.emplace(file, Owner{id, at.line});
    if (!inserted && it->second.id != id && reported_.emplace(at.line, at.column).second) {
      diags.error(at, "component '" + id + "' and component '" + it->second.id + "' (line " +
                          std::to_string(it->second.line) + ") would share the file name " + file +
                          " (amfd's " + file + ".log and " + file +
                          ".notify, where '/' becomes '_'); rename one");
    }
  }
}

}  // namespace amf::config::detail
