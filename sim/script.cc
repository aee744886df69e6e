// The scenario-script interpreter (tests/scenarios/README.md is the language reference).
#include "sim/script.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "sim/cluster_spec.h"
#include "sim/duration.h"
#include "sim/format.h"

namespace amf::sim {

namespace {

using Words = std::vector<std::string>;

Words split(std::string_view line) {
  Words out;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::optional<int> count_arg(const Words& w, std::size_t i, int fallback) {
  if (w.size() <= i) return fallback;
  int n = 0;
  auto [end, ec] = std::from_chars(w[i].data(), w[i].data() + w[i].size(), n);
  if (ec != std::errc() || end != w[i].data() + w[i].size() || n < 1 || n > 1000)
    return std::nullopt;
  return n;
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s + "  " : s + std::string(width - s.size() + 2, ' ');
}

// Rows as left-aligned columns, each line indented.
std::string table(const std::vector<Words>& rows, const std::string& indent) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += i + 1 < row.size() ? pad(row[i], width[i]) : row[i];
    }
    out += line + "\n";
  }
  return out;
}

class Runner {
 public:
  explicit Runner(const ScriptEnv& env) : env_(env) {}

  ScriptResult run(std::string_view text) {
    for (std::size_t start = 0; start < text.size();) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      line(std::string(text.substr(start, end - start)));
      start = end + 1;
    }
    finish();
    return std::move(result_);
  }

 private:
  void out(const std::string& s) { result_.transcript += s + "\n"; }
  void error(const std::string& what) {
    ++result_.errors;
    out("  ERROR: " + what);
  }
  void expectation(bool ok, const std::string& detail) {
    if (ok) return out("  ok");
    ++result_.failed_expectations;
    out("  FAILED: " + detail);
  }

  void line(std::string text) {
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
    const Words w = split(text);
    if (w.empty() || w[0][0] == '#') return out(text);
    out("> " + text);
    if (stopped() && w[0] != "expect" && w[0] != "show") {
      return out("  (skipped: the simulation stopped at a violation)");
    }
    command(w);
    drain_violation();
  }

  void command(const Words& w) {
    const std::string& c = w[0];
    if (c == "config" || c == "config-file" || c == "nodes" || c == "node-escalation" ||
        c == "seed" || c == "faults" || c == "latency" || c == "director-on" || c == "start") {
      return setup(w);
    }
    if (!sim_ && (c == "fail-start" || c == "slow" || c == "error" || c == "fail-cleanup")) {
      deferred_.push_back(w);  // armed right after the cluster is created, before it starts
      return;
    }
    if (!sim_) return error("'" + c + "' before 'start'");
    if (c == "advance") return advance(w);
    if (c == "settle") return settle();
    if (c == "show") return show();
    if (c == "admin") return admin(w);
    if (c == "expect") return expect(w);
    if (c == "rogue") return rogue(w);
    if (c == "crash-node" || c == "boot-node" || c == "stop-node") return node_fault(w);
    if (c == "crash-director") return director_fault(w);
    if (c == "partition") return partition(w);
    return fault(w);
  }

  // ---- setting up ----

  void setup(const Words& w) {
    const std::string& c = w[0];
    if (sim_) return error("'" + c + "' after 'start'");
    if (c == "start") return start();
    if (c == "config") {
      auto sg = parse_sg_spec(Words(w.begin() + 1, w.end()));
      if (!sg) return error(sg.error().message());
      if (sg->name == "app" && !spec_.sgs.empty())
        sg->name = "app-" + std::to_string(spec_.sgs.size() + 1);
      spec_.sgs.push_back(*sg);
      return;
    }
    if (c == "config-file") {
      if (w.size() != 2) return error("usage: config-file PATH");
      if (!env_.load_config) return error("config-file is not available here");
      auto loaded = env_.load_config(w[1]);
      if (!loaded) return error(loaded.error().message());
      file_config_ = std::make_shared<model::ClusterConfig>(std::move(*loaded));
      return;
    }
    if (c == "nodes") {
      auto n = count_arg(w, 1, 0);
      if (w.size() != 2 || !n || *n > 64) return error("usage: nodes N (1 to 64)");
      spec_.nodes = *n;
      return;
    }
    if (c == "node-escalation") {
      const auto max = count_arg(w, 1, 0);
      const auto window = w.size() == 3 ? parse_duration(w[2]) : std::nullopt;
      if (!max || !window) return error("usage: node-escalation SU_FAILOVER_MAX PROBATION");
      spec_.su_failover_max = *max;
      spec_.su_failover_probation = std::chrono::duration_cast<std::chrono::milliseconds>(*window);
      return;
    }
    if (c == "latency") return latency(w);
    if (c == "director-on") {
      if (w.size() != 2) return error("usage: director-on NODE");
      options_.director_node = NodeId(w[1]);  // checked by Simulation::create
      return;
    }
    if (c == "seed") {
      if (w.size() != 2) return error("usage: seed N");
      seed_ = std::strtoull(w[1].c_str(), nullptr, 10);
      return;
    }
    auto faults = FaultSpec::parse(w.size() == 2 ? w[1] : "");
    if (!faults || w.size() != 2) {
      return error(faults ? "usage: faults crash=0.01,..." : faults.error().message());
    }
    options_.faults = *faults;
  }

  // latency NAME=MIN[..MAX] ...: how long simulated things take (Latencies).
  void latency(const Words& w) {
    if (w.size() < 2) return error("usage: latency NAME=MIN[..MAX] ...");
    Latencies& l = options_.latencies;
    const std::map<std::string, LatencyRange*> names{{"start", &l.start},
                                                     {"registration", &l.registration},
                                                     {"callback", &l.callback},
                                                     {"kill", &l.kill},
                                                     {"terminate", &l.terminate},
                                                     {"early-exit", &l.early_exit},
                                                     {"node-detect", &l.node_detect},
                                                     {"node-boot", &l.node_boot},
                                                     {"director-elect", &l.director_elect}};
    for (std::size_t i = 1; i < w.size(); ++i) {
      const std::size_t eq = w[i].find('=');
      auto it = names.find(w[i].substr(0, eq));
      if (eq == std::string::npos || it == names.end()) {
        return error("latency: '" + w[i] +
                     "' is not NAME=MIN[..MAX] with NAME one of start, "
                     "registration, callback, kill, terminate, early-exit, node-detect, "
                     "node-boot, director-elect");
      }
      const std::string value = w[i].substr(eq + 1);
      const std::size_t dots = value.find("..");
      auto lo = parse_duration(value.substr(0, dots));
      auto hi = dots == std::string::npos ? lo : parse_duration(value.substr(dots + 2));
      if (!lo || !hi || *hi < *lo) return error("latency: bad range '" + value + "'");
      *it->second = {*lo, *hi};
    }
  }

  void start() {
    std::shared_ptr<const model::ClusterConfig> config = file_config_;
    if (!config) {
      if (spec_.sgs.empty()) return error("start: no 'config' or 'config-file' line before it");
      if (auto ok = validate(spec_); !ok) return error(ok.error().message());
      config = build(spec_);
    }
    options_.trace_sink = env_.trace_sink;
    options_.on_notification = [this](const model::Notification& n) {
      out("  " + format_time(n.time) + "  " + sim::describe(n));
    };
    options_.on_admin_result = [this](const director::AdminResult& r) {
      auto it = admin_numbers_.find(r.id);
      const std::string name = it == admin_numbers_.end() ? "?" : std::to_string(it->second);
      out("  " + format_time(sim_->now()) + "  admin #" + name + ": " + (r.ok ? "done" : "failed") +
          (r.message.empty() ? "" : ": " + r.message));
    };
    auto sim = Simulation::create(config, seed_, options_);
    if (!sim) return error(sim.error().message());
    sim_ = std::move(*sim);
    for (const Words& w : deferred_) fault(w);
    sim_->start();
    sim_->run_until(sim_->now());
  }

  // ---- running ----

  void advance(const Words& w) {
    auto d = w.size() == 2 ? parse_duration(w[1]) : std::nullopt;
    if (!d) return error("usage: advance DURATION (10s, 250ms, 5m, 1h)");
    sim_->run_for(*d);
  }

  void settle() {
    const Duration took = sim_->settle();
    if (!sim_->violation()) out("  settled after " + format_duration(took) + "; liveness holds");
  }

  void admin(const Words& w) {
    if (w.size() < 3 || w.size() > 4) return error("usage: admin OP KIND [ENTITY]");
    auto op = director::parse_admin_op(w[1]);
    if (!op) return error("unknown admin operation '" + w[1] + "'");
    auto kind = director::parse_entity_kind(w[2]);
    if (!kind) {
      return error("unknown entity kind '" + w[2] + "' (" + director::entity_kinds() + ")");
    }
    const std::uint64_t id = sim_->admin(*op, *kind, w.size() == 4 ? w[3] : "");
    admin_numbers_[id] = ++admins_;
    admin_ids_.push_back(id);
    sim_->run_until(sim_->now());
  }

  void fault(const Words& w) {
    const std::string& c = w[0];
    if (w.size() < 2 || w.size() > 3)
      return error("unknown command '" + c + "' or wrong arguments");
    const CompId comp(w[1]);
    if (sim_->config().find_component(comp) == nullptr) return error("no component " + w[1]);
    const auto n = count_arg(w, 2, 1);
    if (!n) return error("the count must be 1 to 1000");
    if (c == "kill" || c == "crash") {
      if (!sim_->crash(comp)) out("  (" + w[1] + " has no process to kill)");
    } else if (c == "hang") {
      if (!sim_->hang(comp)) out("  (" + w[1] + " has no process that can hang)");
    } else if (c == "fail-start") {
      sim_->fail_starts(comp, *n);
    } else if (c == "slow") {
      sim_->slow_callbacks(comp, *n);
    } else if (c == "error") {
      sim_->fail_callbacks(comp, *n);
    } else if (c == "fail-cleanup") {
      sim_->fail_cleanup(comp);
    } else if (c == "report") {
      if (!sim_->report_error(comp)) out("  (" + w[1] + " is not registered)");
    } else {
      return error("unknown command '" + c + "'");
    }
    sim_->run_until(sim_->now());
  }

  // crash-node NODE / stop-node NODE / boot-node NODE.
  void node_fault(const Words& w) {
    if (w.size() != 2) return error("usage: " + w[0] + " NODE");
    const NodeId node(w[1]);
    if (sim_->config().find_node(node) == nullptr) return error("no node " + w[1]);
    if (w[0] == "crash-node") {
      if (!sim_->crash_node(node)) out("  (" + w[1] + " is down already)");
    } else if (w[0] == "stop-node") {
      if (!sim_->stop_node(node)) out("  (" + w[1] + " is down or stopping already)");
    } else if (!sim_->boot_node(node)) {
      out("  (" + w[1] + " is up already)");
    }
    sim_->run_until(sim_->now());
  }

  // crash-director: the director dies; a new one takes over after the election latency.
  void director_fault(const Words& w) {
    if (w.size() != 1) return error("usage: crash-director");
    if (!sim_->crash_director()) out("  (there is no director: one is being elected)");
    sim_->run_until(sim_->now());
  }

  // partition NODE both|to-director|from-director|flapping DURATION.
  void partition(const Words& w) {
    const std::string usage = "usage: partition NODE both|to-director|from-director|flapping TIME";
    if (w.size() != 4) return error(usage);
    const NodeId node(w[1]);
    if (sim_->config().find_node(node) == nullptr) return error("no node " + w[1]);
    std::optional<Simulation::Cut> cut;
    if (w[2] == "both") cut = Simulation::Cut::kBoth;
    if (w[2] == "to-director") cut = Simulation::Cut::kToDirector;
    if (w[2] == "from-director") cut = Simulation::Cut::kFromDirector;
    if (w[2] == "flapping") cut = Simulation::Cut::kFlapping;
    const auto length = parse_duration(w[3]);
    if (!cut || !length) return error(usage);
    if (sim_->director_up() && sim_->director_node() == node) {
      return error("partition " + w[1] +
                   ": the director runs there (a cut is between a node "
                   "and the director)");
    }
    if (!sim_->partition(node, *cut, *length)) out("  (" + w[1] + " is down)");
    sim_->run_until(sim_->now());
  }

  // rogue COMP CSI HA: the component takes an HA state nobody gave it (tests of the checks).
  void rogue(const Words& w) {
    const std::optional<model::HaState> ha =
        w.size() == 4 ? model::parse_ha_state(w[3]) : std::nullopt;
    if (!ha) return error("usage: rogue COMP CSI active|standby|quiescing|quiesced");
    if (!sim_->force_belief(CompId(w[1]), CsiId(w[2]), *ha)) {
      return out("  (" + w[1] + " has no process)");
    }
    sim_->run_until(sim_->now());
  }

  // ---- looking ----

  void show();
  void expect(const Words& w);
  bool expect_state(const Words& w);

  // ---- violations ----

  bool stopped() const { return sim_ && sim_->violation(); }

  void drain_violation() {
    if (!sim_ || !sim_->violation() || reported_violation_) return;
    reported_violation_ = true;
    const Violation& v = *sim_->violation();
    out("  " + format_time(v.time) + "  VIOLATION of " + v.invariant + ": " + v.message);
  }

  void finish() {
    if (!sim_) return;
    result_.violation = sim_->violation();
    result_.trace = sim_->trace().tail(400);
  }

  const ScriptEnv& env_;
  ScriptResult result_;
  ClusterSpec spec_;
  std::shared_ptr<const model::ClusterConfig> file_config_;
  std::uint64_t seed_ = 1;
  Options options_;
  std::unique_ptr<Simulation> sim_;
  std::map<std::uint64_t, int> admin_numbers_;  // request id -> its number in the script
  std::vector<std::uint64_t> admin_ids_;
  std::vector<Words> deferred_;  // faults armed before `start`
  int admins_ = 0;
  bool reported_violation_ = false;
};

void Runner::show() {
  if (!sim_) return error("show before start");
  const auto sus = sim_->director().service_units();
  const auto procs = sim_->processes();
  std::map<CompId, node::NodeDirector::ComponentView> comps;
  for (auto& view : sim_->components()) comps.emplace(view.id, view);
  // The director, once one has died (before that, always the first, of epoch 1).
  if (!sim_->director_up()) {
    out("  director: none (being elected; the tables are the last director's)");
  } else if (sim_->director_epoch() > 1 || sim_->director_node()) {
    out("  director: epoch " + std::to_string(sim_->director_epoch()) +
        (sim_->director_node() ? " on " + sim_->director_node()->str() : ""));
  }
  for (const model::SgConfig* sg : sim_->config().service_groups()) {
    out("  service group " + sg->id.str() + " (" + std::string(model::to_string(sg->redundancy)) +
        ")" + (sim_->director().busy(sg->id) ? ", changing assignments" : ""));
    std::vector<Words> rows{{"SU", "ADMIN", "OPER", "PRESENCE", "READINESS"}};
    for (const auto& su : sus) {
      if (su.sg != sg->id) continue;
      rows.push_back({su.id.str(), std::string(model::to_string(su.admin)),
                      std::string(model::to_string(su.oper)),
                      std::string(model::to_string(su.presence)),
                      std::string(model::to_string(su.readiness))});
    }
    result_.transcript += table(rows, "    ");
    rows = {{"SI", "ASSIGNMENTS"}};
    const auto assignments = sim_->director().assignments(sg->id);
    for (const auto& si : sg->sis) {
      std::string text;
      for (const auto& a : assignments) {
        if (a.si == si.id) {
          text +=
              (text.empty() ? "" : ", ") + a.su.str() + " " + std::string(model::to_string(a.ha));
        }
      }
      rows.push_back({si.id.str(), text.empty() ? "unassigned" : text});
    }
    result_.transcript += table(rows, "    ");
    rows = {{"COMPONENT", "PRESENCE", "PROCESS", "BELIEVES"}};
    for (const auto& su : sg->sus) {
      for (const auto& c : su.components) {
        std::string process = "-", believes;
        for (const auto& p : procs) {
          if (p.comp != c.id) continue;
          process = (process == "-" ? "" : process + ", ") + "pid " + std::to_string(p.pid) +
                    (p.hung ? " hung" : "") + (p.stuck ? " survived-cleanup" : "");
          for (const auto& [csi, ha] : p.beliefs) {
            believes += (believes.empty() ? "" : ", ") + csi.str() + " " +
                        std::string(model::to_string(ha));
          }
        }
        auto view = comps.find(c.id);
        rows.push_back(
            {c.id.str(),
             view == comps.end() ? "?" : std::string(model::to_string(view->second.presence)),
             process, believes.empty() ? "-" : believes});
      }
    }
    result_.transcript += table(rows, "    ");
  }
}

void Runner::expect(const Words& w) {
  if (w.size() < 2) return error("usage: expect WHAT ...");
  if (w[1] == "violation") {
    if (w.size() != 3) return error("usage: expect violation INVARIANT");
    const auto& v = sim_ ? sim_->violation() : std::nullopt;
    const bool ok = v && v->invariant == w[2];
    if (ok) result_.violation_expected = true;
    return expectation(ok, v ? "the violation is of " + v->invariant : "no violation happened");
  }
  if (!sim_) return error("expect before start");
  if (w[1] == "result") {
    auto n = count_arg(w, 2, 0);
    if (w.size() != 4 || !n || *n > admins_ || (w[3] != "done" && w[3] != "failed")) {
      return error("usage: expect result N done|failed (N: the script's Nth admin command)");
    }
    auto r = sim_->admin_result(admin_ids_[static_cast<std::size_t>(*n - 1)]);
    if (!r) return expectation(false, "admin #" + w[2] + " has no result yet");
    return expectation(r->ok == (w[3] == "done"),
                       "admin #" + w[2] + " " + (r->ok ? "done" : "failed: " + r->message));
  }
  if (!expect_state(w)) {
    error(
        "unknown expectation (assignment, presence, readiness, oper, admin, belief, served, "
        "result, violation)");
  }
}

// expect assignment SI SU HA|none; expect presence|readiness|oper|admin ENTITY STATE;
// expect belief COMP CSI HA|none; expect served SI.
bool Runner::expect_state(const Words& w) {
  const std::string& what = w[1];
  const auto sus = sim_->director().service_units();
  if (what == "assignment" && w.size() == 5) {
    std::string got = "none";
    for (const model::SgConfig* sg : sim_->config().service_groups()) {
      for (const auto& a : sim_->director().assignments(sg->id)) {
        if (a.si.str() == w[2] && a.su.str() == w[3]) got = std::string(model::to_string(a.ha));
      }
    }
    expectation(got == w[4], w[2] + " on " + w[3] + " is " + got);
    return true;
  }
  if (what == "served" && w.size() == 3) {
    bool served = false;
    for (const model::SgConfig* sg : sim_->config().service_groups()) {
      for (const auto& a : sim_->director().assignments(sg->id)) {
        served |= a.si.str() == w[2] && a.ha == model::HaState::kActive;
      }
    }
    expectation(served, w[2] + " has no active assignment");
    return true;
  }
  if (what == "belief" && w.size() == 5) {
    std::string got = "none";
    for (const auto& p : sim_->processes()) {
      if (p.comp.str() != w[2] || !p.current) continue;
      auto it = p.beliefs.find(CsiId(w[3]));
      if (it != p.beliefs.end()) got = std::string(model::to_string(it->second));
    }
    expectation(got == w[4], w[2] + " believes " + w[3] + " " + got);
    return true;
  }
  if ((what == "presence" || what == "readiness" || what == "oper" || what == "admin") &&
      w.size() == 4) {
    std::optional<std::string> got;
    for (const auto& su : sus) {
      if (su.id.str() != w[2]) continue;
      if (what == "presence") got = std::string(model::to_string(su.presence));
      if (what == "readiness") got = std::string(model::to_string(su.readiness));
      if (what == "oper") got = std::string(model::to_string(su.oper));
      if (what == "admin") got = std::string(model::to_string(su.admin));
    }
    if (!got && what == "presence") {
      for (const auto& c : sim_->components()) {
        if (c.id.str() == w[2]) got = std::string(model::to_string(c.presence));
      }
    }
    if (!got && what == "admin" && sim_->config().find_si(SiId(w[2])) != nullptr) {
      got = std::string(model::to_string(sim_->director().si_admin(SiId(w[2]))));
    }
    if (!got) {
      error("no SU" +
            std::string(what == "presence" ? " or component "
                        : what == "admin"  ? " or SI "
                                           : " ") +
            w[2]);
      return true;
    }
    expectation(*got == w[3], what + " of " + w[2] + " is " + *got);
    return true;
  }
  return false;
}

}  // namespace

ScriptResult run_script(std::string_view text, const ScriptEnv& env) {
  return Runner(env).run(text);
}

}  // namespace amf::sim
