// amfctl: the amf admin console.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "amf/daemon/runtime_dir.h"
#include "amf/keys/cluster_key.h"
#include "amf/wire/codec.h"
#include "config/kubernetes_export.h"
#include "config/loader.h"
#include "config/opensaf_import.h"
#include "tools/amfctl/admin_client.h"

namespace {

// Exit codes: 0 done, 1 amfd refused or failed, 2 usage or no permission to use the admin
// socket, 3 no amfd reachable.
constexpr int kUsage = 2;
constexpr int kNoDaemon = 3;

// Prints rows as left-aligned columns two spaces apart.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

// A generation is the director command that made the replica active: its epoch in the upper
// half, its number in the epoch in the lower ("1.3"); one node's director has epoch 0.
std::string generation_text(std::uint64_t g) {
  return std::to_string(g >> 32) + "." + std::to_string(g & 0xffffffffu);
}

std::string position_text(const amf::checkpoint::Position& p) {
  return generation_text(p.generation) + ":" + std::to_string(p.seq);
}

// This node's replica: the active one (recovering: still asking the other replicas for newer
// content, writes wait), one in service (it holds every acknowledged write), or one catching up
// (a cold sync, or not yet told it is in service).
std::string replica_text(const amf::checkpoint::CheckpointStatus& c) {
  if (c.active) return c.recovering ? "recovering" : "active";
  return c.in_service ? "in service" : "syncing";
}

void print_checkpoints(const amf::wire::CheckpointList& list) {
  std::vector<std::vector<std::string>> rows{
      {"CHECKPOINT", "MODE", "REPLICA", "POSITION", "SECTIONS", "BYTES", "OPEN", "ACTIVE ON"}};
  for (const auto& view : list.checkpoints) {
    const auto& c = view.status;
    rows.push_back({c.name.str(), std::string(amf::checkpoint::to_string(c.attributes.mode)),
                    replica_text(c), position_text(c.position), std::to_string(c.sections),
                    std::to_string(c.bytes), std::to_string(c.opened_here),
                    c.active_node.empty() ? "-" : c.active_node.str()});
  }
  std::cout << "node " << list.node << "\n";
  print_table(rows);
}

void print_checkpoint(const amf::wire::CheckpointView& view, const std::string& node) {
  const auto& c = view.status;
  const auto& a = c.attributes;
  std::cout << "checkpoint " << c.name.str() << " on node " << node << ": "
            << amf::checkpoint::to_string(a.mode) << ", at most " << a.max_sections
            << " sections of " << a.max_section_size << " bytes, retention "
            << std::chrono::duration_cast<std::chrono::milliseconds>(a.retention).count() << " ms\n"
            << "replica " << replica_text(c) << " at " << position_text(c.position)
            << " (generation " << generation_text(c.generation) << ", active on "
            << (c.active_node.empty() ? "-" : c.active_node.str()) << "), " << c.opened_here
            << " open here\n\n";
  std::vector<std::vector<std::string>> sections{{"SECTION", "BYTES", "EXPIRES IN"}};
  for (const auto& s : view.sections) {
    sections.push_back(
        {s.id.str(), std::to_string(s.size),
         s.expires_in
             ? std::to_string(
                   std::chrono::duration_cast<std::chrono::milliseconds>(*s.expires_in).count()) +
                   " ms"
             : "never"});
  }
  print_table(sections);
  if (!c.active) return;
  std::cout << "\n";
  std::vector<std::vector<std::string>> peers{{"REPLICA ON", "ACKNOWLEDGED", "IN SERVICE"}};
  for (const auto& p : c.peers) {
    peers.push_back({p.node.str(), position_text(p.acked), p.in_service ? "yes" : "no"});
  }
  print_table(peers);
}

// "40 ms", "2.3 s".
std::string elapsed_text(std::int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms) / 1000.0);
  return text;
}

std::string store_text(const amf::wire::StoreHealthStatus& store) {
  std::string text = "etcd " + store.state;
  if (store.state == "unreachable") {
    text += " for " + elapsed_text(store.failing_ms);
    text += store.last_answer_ms < 0
                ? " (never answered)"
                : " (last answer " + elapsed_text(store.last_answer_ms) + " ago)";
    if (!store.error.empty()) text += ": " + store.error;
  } else if (store.last_answer_ms >= 0) {
    text += " (answered " + elapsed_text(store.last_answer_ms) + " ago)";
  }
  return text;
}

void print_status(const amf::wire::ClusterStatus& s) {
  const bool several_nodes = s.incarnation != 0;
  std::cout << "Cluster " << s.cluster << " (" << s.admin_state << "), node " << s.node;
  if (several_nodes) {
    std::cout << " (life " << s.incarnation << "), director "
              << (s.director.empty() ? "unknown"
                                     : s.director + " (epoch " + std::to_string(s.epoch) + ")")
              << ", view " << s.view_epoch << "." << s.view_number << "\n"
              << store_text(s.store);
  }
  if (!s.partial.empty()) {
    std::cout << "\nThis node's own service units only, without the director's states: "
              << s.partial;
  }
  for (const auto& missing : s.components_missing) {
    std::cout << "\nComponents not shown for node " << missing;
  }
  std::cout << "\n\n";
  std::vector<std::vector<std::string>> nodes{{"NODE", "ADMIN"}};
  if (several_nodes) nodes[0].insert(nodes[0].end(), {"MEMBERSHIP", "LIFE"});
  for (const auto& n : s.nodes) {
    nodes.push_back({n.name, n.admin_state});
    if (several_nodes) {
      nodes.back().insert(nodes.back().end(),
                          {n.membership, n.incarnation ? std::to_string(n.incarnation) : "-"});
    }
  }
  print_table(nodes);
  std::cout << "\n";
  std::vector<std::vector<std::string>> apps{{"APPLICATION", "ADMIN"}};
  for (const auto& a : s.applications) apps.push_back({a.name, a.admin_state});
  print_table(apps);
  for (const auto& sg : s.service_groups) {
    std::cout << "\nService group " << sg.name << " (" << sg.redundancy_model << "), "
              << sg.admin_state << (sg.busy ? ", assignment change in progress" : "") << "\n\n";
    std::vector<std::vector<std::string>> units{
        {"SERVICE UNIT", "NODE", "ADMIN", "OPER", "PRESENCE", "READINESS"}};
    std::vector<std::vector<std::string>> comps{
        {"COMPONENT", "PRESENCE", "PID", "REGISTERED", "CSIS"}};
    for (const auto& su : sg.service_units) {
      units.push_back(
          {su.name, su.node, su.admin_state, su.oper_state, su.presence_state, su.readiness_state});
      for (const auto& c : su.components) {
        std::string csis;
        for (const auto& csi : c.csis) {
          csis += (csis.empty() ? "" : ", ") + csi.csi + " " + csi.ha_state;
        }
        comps.push_back({c.name, c.presence_state, c.pid ? std::to_string(c.pid) : "-",
                         c.registered ? "yes" : "no", csis.empty() ? "-" : csis});
      }
    }
    print_table(units);
    std::cout << "\n";
    print_table(comps);
    std::cout << "\n";
    std::vector<std::vector<std::string>> sis{{"SERVICE INSTANCE", "ADMIN", "ASSIGNMENTS"}};
    const bool addresses = std::any_of(sg.service_instances.begin(), sg.service_instances.end(),
                                       [](const auto& si) { return !si.service_address.empty(); });
    if (addresses) sis[0].push_back("SERVICE ADDRESS");
    for (const auto& si : sg.service_instances) {
      std::string text;
      for (const auto& a : si.assignments) {
        text += (text.empty() ? "" : ", ") + a.service_unit + " " + a.ha_state;
      }
      // A node's own status without the director's (partial) knows no assignments.
      sis.push_back({si.name, si.admin_state,
                     !text.empty()           ? text
                     : si.admin_state == "-" ? "-"
                                             : "unassigned"});
      if (!addresses) continue;
      std::string where;
      for (const auto& n : si.address_up_on) where += (where.empty() ? "" : ", ") + n;
      sis.back().push_back(si.service_address.empty() ? "-"
                           : where.empty()            ? si.service_address + " (down)"
                                           : si.service_address + " (up on " + where + ")");
    }
    print_table(sis);
  }
}

std::string clock_text(std::int64_t realtime_ns) {
  const std::time_t secs = static_cast<std::time_t>(realtime_ns / 1'000'000'000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03d", static_cast<int>((realtime_ns / 1'000'000) % 1000));
  return std::string(buf) + ms;
}

void print_events(const amf::wire::EventList& list, bool header) {
  std::vector<std::vector<std::string>> rows;
  if (header) rows.push_back({"SEQ", "TIME", "KIND", "ENTITY", "CHANGE", "CAUSE"});
  for (const auto& e : list.events) {
    std::string entity = e.entity + (e.related.empty() ? "" : " " + e.related);
    std::string change = (e.from.empty() ? "-" : e.from) + " -> " + (e.to.empty() ? "-" : e.to);
    rows.push_back(
        {std::to_string(e.sequence), clock_text(e.realtime_ns), e.kind, entity, change, e.cause});
  }
  print_table(rows);
}

// `amfctl import opensaf FILE...`: 0 when the configuration it prints loads as it is, 1 when it
// does not (what to edit follows the report) or the files could not be read.
int run_import(const std::vector<std::string>& files) {
  auto imported = amf::config::import_opensaf_files(files);
  if (!imported) {
    for (const std::string& error : imported.error()) std::cerr << "amfctl: " << error << "\n";
    return 1;
  }
  std::cout << imported->yaml;
  std::cout.flush();
  for (const std::string& line : imported->report) std::cerr << "amfctl: " << line << "\n";
  auto loaded = amf::config::load_string(imported->yaml, "<imported>");
  if (!loaded) {
    std::cerr << "amfctl: the imported configuration does not load as it is; edit it where "
                 "these say (lines of the output above):\n";
    for (const auto& d : loaded.error()) std::cerr << "  " << d.to_string() << "\n";
    return 1;
  }
  std::cerr << "amfctl: imported " << amf::config::summary(*loaded) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"amfctl: the amf admin console"};
  app.require_subcommand(1);
  std::string runtime_dir = amf::daemon::default_runtime_dir();
  app.add_option("--runtime-dir", runtime_dir,
                 "amfd's runtime directory (default " + runtime_dir + ")");
  std::string connect;
  std::string cluster_key_file;
  app.add_option("--connect", connect,
                 "HOST:PORT of an amfd on another host (amfd --remote-admin), instead of the "
                 "local one; needs --cluster-key");
  app.add_option("--cluster-key", cluster_key_file,
                 "the cluster's key file, with which --connect is let in (CURVE)");

  std::string output = "table";
  auto* status = app.add_subcommand("status", "SGs, SUs, components and SI assignments");
  status->add_option("-o,--output", output, "table or json")
      ->check(CLI::IsMember({"table", "json"}));

  std::uint64_t after = 0;
  bool follow = false;
  auto* events = app.add_subcommand("events", "the event log: state changes and recoveries");
  events->add_option("-o,--output", output, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  events->add_option("--after", after, "only events with a sequence number above this");
  events->add_flag("-f,--follow", follow, "keep printing new events until interrupted");
  auto* ckpt = app.add_subcommand("ckpt", "the checkpoints this node holds");
  ckpt->require_subcommand(1);
  auto* ckpt_list = ckpt->add_subcommand("list", "every checkpoint with this node's replica");
  ckpt_list->add_option("-o,--output", output, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  std::string ckpt_name;
  auto* ckpt_show =
      ckpt->add_subcommand("show", "one checkpoint: its sections and, where active, its replicas");
  ckpt_show->add_option("name", ckpt_name, "the checkpoint")->required();
  ckpt_show->add_option("-o,--output", output, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  // Admin operations: amfctl OP KIND ENTITY (si-swap: amfctl si-swap SI).
  struct OpCommand {
    CLI::App* command;
    std::string kind;
    std::string entity;
  };
  std::vector<std::unique_ptr<OpCommand>> ops;
  const std::vector<std::pair<std::string, std::string>> op_help{
      {"lock", "switch the entity's assignments away (quiesce, promote the standby, remove)"},
      {"unlock", "make a locked entity available for assignments again"},
      {"lock-instantiation", "terminate the components of a locked entity"},
      {"unlock-instantiation", "instantiate them again (the entity stays locked)"},
      {"shutdown", "like lock, but actives finish their work first (quiescing)"},
      {"repair", "clear disabled SUs (of an su or a node) and instantiate them again"},
      {"adjust", "move a service group's assignments to its preferred SUs (sg only)"},
      {"restart", "restart an SU's or a component's processes in place (su, comp)"},
  };
  for (const auto& [name, help] : op_help) {
    auto op = std::make_unique<OpCommand>();
    op->command = app.add_subcommand(name, help);
    op->command->add_option("kind", op->kind, "su, node, sg, app, cluster, si or comp")
        ->required()
        ->check(CLI::IsMember({"su", "node", "sg", "app", "cluster", "si", "comp"}));
    op->command->add_option("entity", op->entity,
                            "e.g. counter/su-1, node-1, counter, counter/si-1 (none for the "
                            "cluster), or its SA Forum DN, e.g. "
                            "safSu=su-1,safSg=counter,safApp=counter");
    ops.push_back(std::move(op));
  }
  std::string key_file;
  auto* keygen = app.add_subcommand(
      "keygen",
      "make a new cluster key (it seals membership datagrams and secures the command links "
      "and remote amfctl with CURVE); copy the file to every node, readable by amfd's user "
      "only");
  keygen->add_option("file", key_file, "where to write it (never overwritten)")->required();

  std::vector<std::string> import_files;
  auto* import = app.add_subcommand(
      "import", "print an amf configuration made from another AMF's (no amfd needed)");
  import->require_subcommand(1);
  auto* import_opensaf = import->add_subcommand(
      "opensaf",
      "OpenSAF IMM XML application configurations (immcfg -f files): the amf YAML on standard "
      "output, what could not be carried over on standard error");
  import_opensaf->add_option("files", import_files, "IMM XML files, read together")
      ->required()
      ->check(CLI::ExistingFile);

  std::string export_config;
  auto* export_cmd = app.add_subcommand(
      "export", "print another system's configuration made from amf's (no amfd needed)");
  export_cmd->require_subcommand(1);
  auto* export_kubernetes = export_cmd->add_subcommand(
      "kubernetes",
      "the nearest Kubernetes manifests (a Deployment or StatefulSet and a PodDisruptionBudget "
      "per SG), with a comment for each thing Kubernetes cannot express");
  export_kubernetes->add_option("config", export_config, "the cluster's YAML configuration")
      ->required();

  auto swap = std::make_unique<OpCommand>();
  swap->kind = "si";
  swap->command = app.add_subcommand("si-swap", "swap an SI's active and standby (switchover)");
  swap->command->add_option("si", swap->entity, "e.g. counter/si-1 or safSi=si-1,safApp=counter")
      ->required();
  ops.push_back(std::move(swap));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is not an error; every usage error exits 2
  }

  if (keygen->parsed()) {
    if (auto made = amf::keys::ClusterKey::generate(key_file); !made) {
      std::cerr << "amfctl: " << made.error().message() << "\n";
      return 1;
    }
    std::cout << "wrote a new cluster key to " << key_file << " (mode 0600)\n";
    return 0;
  }

  if (import_opensaf->parsed()) return run_import(import_files);
  if (export_kubernetes->parsed()) {
    auto loaded = amf::config::load_file(export_config);
    if (!loaded) {
      for (const auto& d : loaded.error()) std::cerr << "amfctl: " << d.to_string() << "\n";
      return 1;
    }
    std::cout << amf::config::export_kubernetes(*loaded);
    return 0;
  }

  amf::tools::AdminTarget target(runtime_dir);
  if (connect.empty() && !cluster_key_file.empty()) {
    std::cerr << "amfctl: --cluster-key is for --connect HOST:PORT (the local amfd needs none)\n";
    return kUsage;
  }
  if (!connect.empty()) {
    if (cluster_key_file.empty()) {
      std::cerr << "amfctl: --connect needs --cluster-key FILE: a remote amfd lets in holders of "
                   "the cluster's key only\n";
      return kUsage;
    }
    auto key = amf::keys::ClusterKey::load(cluster_key_file);
    if (!key) {
      std::cerr << "amfctl: " << key.error().message() << "\n";
      return kUsage;
    }
    target = amf::tools::AdminTarget(runtime_dir, connect, *key);
  } else if (const auto access = amf::tools::probe_admin_socket(runtime_dir);
             access.kind != amf::tools::SocketAccess::Kind::kReachable) {
    // One answer for "may not" and one for "nobody there", before any request times out.
    std::cerr << "amfctl: " << access.message << "\n";
    return access.kind == amf::tools::SocketAccess::Kind::kPermissionDenied ? kUsage : kNoDaemon;
  }

  for (const auto& op : ops) {
    if (!op->command->parsed()) continue;
    const std::string name = op->command->get_name();
    if (op->entity.empty() && op->kind != "cluster") {
      std::cerr << "amfctl: " << name << " " << op->kind << " needs the entity's name\n";
      return 2;
    }
    auto result = amf::tools::run_operation(target, {name, op->kind, op->entity});
    if (!result) {
      std::cerr << "amfctl: " << result.error().message() << "\n";
      return kNoDaemon;
    }
    if (!result->ok) {
      std::cerr << "amfctl: " << result->message << "\n";
      return 1;
    }
    std::cout << name << " " << op->kind << (op->entity.empty() ? "" : " " + op->entity) << ": done"
              << (result->message.empty() ? "" : "; " + result->message) << "\n";
    return 0;
  }

  if (ckpt->parsed()) {
    auto reply = amf::tools::admin_request(
        target, amf::wire::CheckpointsRequest{ckpt_show->parsed() ? ckpt_name : ""});
    if (!reply) {
      std::cerr << "amfctl: " << reply.error().message() << "\n";
      return kNoDaemon;
    }
    if (const auto* refused = std::get_if<amf::wire::AdminError>(&*reply)) {
      std::cerr << "amfctl: " << refused->message << "\n";  // no such checkpoint here
      return 1;
    }
    const auto* list = std::get_if<amf::wire::CheckpointList>(&*reply);
    if (!list) {
      std::cerr << "amfctl: amfd answered a checkpoint request with something else\n";
      return kNoDaemon;
    }
    if (output == "json") {
      std::cout << amf::wire::to_json(*list);
    } else if (ckpt_show->parsed()) {
      print_checkpoint(list->checkpoints.at(0), list->node);
    } else {
      print_checkpoints(*list);
    }
    return 0;
  }

  if (status->parsed()) {
    auto s = amf::tools::fetch_status(target);
    if (!s) {
      std::cerr << "amfctl: " << s.error().message() << "\n";
      return kNoDaemon;
    }
    if (output == "json") {
      std::cout << amf::wire::to_json(*s);
    } else {
      print_status(*s);
    }
    return 0;
  }

  bool header = true;
  while (true) {
    auto list = amf::tools::fetch_events(target, after);
    if (!list) {
      std::cerr << "amfctl: " << list.error().message() << "\n";
      return kNoDaemon;
    }
    if (output == "json") {
      std::cout << amf::wire::to_json(*list);
    } else if (!list->events.empty() || header) {
      print_events(*list, header);
    }
    header = false;
    if (!list->events.empty()) after = list->events.back().sequence;
    if (!follow) return 0;
    std::cout.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}
