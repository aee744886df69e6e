// The simulator's loop: simulated time, the scheduled events, the runtimes' transport and the
// order in which their queued events are handed over, and the invariant checks after every step.
#include "sim/simulation.h"

#include <algorithm>
#include <cmath>

#include "amf/core/assert.h"
#include "amf/director/supported.h"
#include "sim/duration.h"
#include "sim/format.h"

namespace amf::sim {

namespace {

// The longest a component's life cycle can keep the cores busy without any new fault: every
// instantiation attempt, then a graceful termination that ends in cleanup, then a callback
// timeout of each kind. Liveness waits at least twice this long.
Duration busy_bound(const model::ClusterConfig& config) {
  Duration bound{0};
  for (const model::SgConfig* sg : config.service_groups()) {
    for (const auto& su : sg->sus) {
      for (const auto& c : su.components) {
        const auto& t = c.timeouts;
        const Duration d = t.instantiate * (c.instantiate_retries + 1) + t.terminate + t.cleanup +
                           t.csi_set + t.csi_remove;
        bound = std::max(bound, d);
      }
    }
  }
  return bound;
}

}  // namespace

std::string Violation::describe() const {
  return "VIOLATION of " + invariant + " at step " + std::to_string(step) +
         ", t=" + format_time(time) + " (seed " + std::to_string(seed) + "):\n  " + message +
         "\nlast trace lines:\n" + trace;
}

Result<std::unique_ptr<Simulation>> Simulation::create(
    std::shared_ptr<const model::ClusterConfig> config, std::uint64_t seed, Options options) {
  const std::vector<std::string> problems = director::unsupported_features(*config);
  if (!problems.empty()) {
    std::string text = "the simulator cannot run this configuration:";
    for (const auto& p : problems) text += "\n  " + p;
    return fail(text);
  }
  if (options.director_node && config->find_node(*options.director_node) == nullptr) {
    return fail("the director's node " + options.director_node->str() +
                " is not a node of the configuration");
  }
  auto director = director::Director::create(config);
  if (!director) return tl::unexpected(director.error());
  return std::unique_ptr<Simulation>(
      new Simulation(std::move(config), std::move(*director), seed, std::move(options)));
}

Simulation::Simulation(std::shared_ptr<const model::ClusterConfig> config,
                       director::Director director, std::uint64_t seed, Options options)
    : config_(std::move(config)),
      seat_(std::make_unique<runtime::NodeRuntime>(runtime::NodeRuntime::director_seat(
          config_, NodeId("director"), std::move(director), seat_host_,
          static_cast<runtime::Transport&>(*this), [this] { return now_; }))),
      seed_(seed),
      options_(std::move(options)),
      rng_(seed),
      machines_(*config_, options_.latencies, options_.max_stuck_processes,
                static_cast<Surroundings&>(*this), static_cast<Controller&>(*this)),
      faults_(options_.faults),
      ledger_(options_.admin_answer_limit),
      trace_(options_.trace_lines, options_.keep_full_trace) {
  if (const double ppm = options_.faults.net.drift_ppm; ppm > 0) {
    for (const auto& node : config_->nodes) drift_ppm_[node.id] = (2 * chance() - 1) * ppm;
  }
  for (const auto& node : config_->nodes)
    nodes_.emplace(node.id, std::make_unique<SimNode>(*this, node.id));
  std::map<SiId, SgId> sg_of_si;
  for (const model::SgConfig* sg : config_->service_groups()) {
    for (const auto& si : sg->sis) sg_of_si[si.id] = sg->id;
  }
  for (const model::SgConfig* sg : config_->service_groups()) {
    sgs_of_entity_[sg->id.str()].push_back(sg->id);
    sgs_of_entity_[sg->app.str()].push_back(sg->id);
    for (const auto& si : sg->sis) {
      sgs_of_entity_[si.id.str()].push_back(sg->id);
      for (const auto& csi : si.csis) sgs_of_entity_[csi.id.str()].push_back(sg->id);
      for (const auto& d : si.dependencies) {
        auto& deps = dependent_sgs_[sg_of_si.at(d.sponsor)];
        if (std::find(deps.begin(), deps.end(), sg->id) == deps.end()) deps.push_back(sg->id);
        sgs_with_dependencies_.insert(sg->id);
      }
    }
    for (const auto& su : sg->sus) {
      sgs_of_entity_[su.id.str()].push_back(sg->id);
      auto& on_node = sgs_of_entity_[su.node.str()];
      if (on_node.empty() || on_node.back() != sg->id) on_node.push_back(sg->id);
      for (const auto& comp : su.components) sgs_of_entity_[comp.id.str()].push_back(sg->id);
    }
  }
  for (const model::SgConfig* sg : config_->service_groups()) {
    for (const auto& su : sg->sus) {
      all_sus_.push_back(su.id);
      for (const auto& comp : su.components) {
        all_comps_.push_back(comp.id);
        sg_of_comp_[comp.id] = sg->id;
      }
    }
    for (const auto& si : sg->sis) all_sis_.push_back(si.id);
  }
  if (options_.checkpoints) init_checkpoints();
  // What the configuration leaves locked the operator undoes as what it locked itself.
  auto configured = [&](director::EntityKind kind, const std::string& entity,
                        model::AdminState state) {
    if (state != model::AdminState::kUnlocked) left_locked_[{kind, entity}] = state;
  };
  for (const auto& node : config_->nodes) {
    configured(director::EntityKind::kNode, node.id.str(), node.admin_state);
  }
  for (const auto& app : config_->applications) {
    configured(director::EntityKind::kApp, app.id.str(), app.admin_state);
  }
  for (const model::SgConfig* sg : config_->service_groups()) {
    configured(director::EntityKind::kSg, sg->id.str(), sg->admin_state);
    for (const auto& su : sg->sus)
      configured(director::EntityKind::kSu, su.id.str(), su.admin_state);
    for (const auto& si : sg->sis)
      configured(director::EntityKind::kSi, si.id.str(), si.admin_state);
  }
  director_node_ = options_.director_node;
  if (options_.membership) {
    // No director until a node's core takes over; every life from 1.
    director_node_.reset();
    director_up_ = false;
    for (const auto& node : config_->nodes) incarnation_[node.id] = 1;
    nodes_.clear();
    for (const auto& node : config_->nodes)
      nodes_.emplace(node.id, std::make_unique<SimNode>(*this, node.id));
  }
  // A crashed node is noticed, boots again and instantiates its SUs within the quiet period.
  const Duration node_bound = options_.latencies.node_detect.max +
                              options_.latencies.node_boot.max +
                              options_.latencies.director_elect.max;
  quiet_period_ = std::max(options_.quiet_period,
                           2 * busy_bound(*config_) + options_.admin_answer_limit + node_bound);
  trace_.set_sink(options_.trace_sink);
}

// ---- the loop ----

void Simulation::start() {
  ++stats_.steps;
  line(header() + "start: every node is up");
  for (const auto& node : config_->nodes) {
    if (options_.membership) {
      join_membership(node.id);
      continue;
    }
    line("  director <- NodeUp " + node.id.str());
    to_the_director(director::NodeUp{node.id, incarnation_[node.id]});
  }
  pump();
  if (options_.checkpoints && !violation_) drive_checkpoints();
  if (!violation_) check_invariants();
  schedule_next_fault();
}

void Simulation::run_until(TimePoint end) {
  while (!violation_ && step(end)) {
  }
  if (!violation_) check_invariants(true);
  if (!violation_) now_ = std::max(now_, end);
}

std::optional<TimePoint> Simulation::runtime_deadline() const {
  std::optional<TimePoint> next =
      director_up_ ? seat_->next_deadline() : std::optional<TimePoint>();
  if (!node_deadlines_.empty() && (!next || node_deadlines_.begin()->first < *next)) {
    next = node_deadlines_.begin()->first;
  }
  return next;
}

std::optional<TimePoint> Simulation::core_deadline() const {
  std::optional<TimePoint> next = runtime_deadline();
  if (options_.membership) {
    if (auto m = membership_deadline(); m && (!next || *m < *next)) next = m;
  }
  if (options_.checkpoints) {
    if (auto c = checkpoint_deadline(); c && (!next || *c < *next)) next = c;
  }
  return next;
}

bool Simulation::step(TimePoint limit) {
  const std::optional<TimePoint> deadline = core_deadline();
  if (!deadline && queue_.empty()) return false;
  const bool tick = deadline && (queue_.empty() || *deadline <= queue_.top().time);
  const TimePoint t = std::max(now_, tick ? *deadline : queue_.top().time);
  if (t > limit) return false;
  if (t == now_) {
    if (++same_instant_steps_ > options_.max_steps_per_instant) {
      violate("livelock",
              "simulated time does not advance: " + std::to_string(same_instant_steps_) +
                  " steps at " + format_time(now_));
      return false;
    }
  } else {
    same_instant_steps_ = 0;
  }
  now_ = t;
  ++stats_.steps;
  if (tick) {
    line(header() + "tick");
    std::set<NodeId> due;  // ticked in node order, as one loop over every node would
    for (auto it = node_deadlines_.begin(); it != node_deadlines_.end() && it->first <= now_;
         ++it) {
      due.insert(it->second);
    }
    for (const NodeId& id : due) {
      // A node crashed from outside a step (crash_node() between two run_until() calls) still
      // has its deadline here: nothing of it is left to tick; stirring it drops the deadline.
      if (auto n = nodes_.find(id); n != nodes_.end()) n->second->runtime.tick();
      stir(id);
    }
    if (director_up_) seat_->tick();
    if (options_.membership) tick_membership();
    if (options_.checkpoints) tick_checkpoints();
  } else {
    Entry entry = queue_.top();
    queue_.pop();
    if (is_work(entry.what)) --scheduled_work_;
    handle(entry.what);
  }
  pump();
  if (options_.checkpoints && !violation_) drive_checkpoints();
  if (!violation_) check_invariants();
  return !violation_;
}

void Simulation::handle(const Scheduled& what) {
  if (const auto* machine = std::get_if<MachineEvent>(&what)) return machines_.handle(*machine);
  std::visit(
      [&](const auto& e) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, MachineEvent>) on(e);
      },
      what);
}

void Simulation::schedule(Duration after, Scheduled what) {
  if (queue_.size() >= options_.max_scheduled) {
    violate("limit", "more than " + std::to_string(options_.max_scheduled) + " events scheduled");
    return;
  }
  if (is_work(what)) ++scheduled_work_;
  queue_.push(Entry{now_ + after, next_seq_++, std::move(what)});
}

// The runtimes' effects, the director's seat first and then each node's, until none has any;
// then the next event delivered at this instant, whichever node it is for (first in, first
// out over all nodes, as one network would deliver them), through that node's runtime.
void Simulation::pump() {
  for (std::uint64_t round = 0; !violation_; ++round) {
    if (round > options_.max_steps_per_instant) {
      violate("livelock", "the cores kept producing effects for " + std::to_string(round) +
                              " rounds at " + format_time(now_));
      return;
    }
    bool carried = director_up_ && seat_->carry_out_effects();
    // Only a node that was handed an event, ticked, or sent something has effects to carry
    // out or acknowledgements to send; in node order, as one loop over every node would.
    const std::set<NodeId> stirred = std::move(pending_);
    pending_.clear();
    for (const NodeId& id : stirred) {
      if (auto n = nodes_.find(id); n != nodes_.end())
        carried |= n->second->runtime.carry_out_effects();
    }
    if (carried || !pending_.empty()) continue;
    if (!stopping_.empty() && advance_stops()) continue;
    if (delivered_.empty()) break;
    const NodeId node = delivered_.front();
    delivered_.pop_front();
    auto n = nodes_.find(node);
    AMF_ASSERT(n != nodes_.end());  // a crash forgets what was delivered to the node
    const node::Event* event = n->second->runtime.next_event();
    AMF_ASSERT(event != nullptr);
    line("  " + node.str() + " <- " + sim::describe(*event));
    n->second->runtime.hand_over_one();
    stir(node);
  }
  refresh_deadlines();
}

void Simulation::stir(const NodeId& node) {
  pending_.insert(node);
  stirred_.insert(node);
}

void Simulation::refresh_deadlines() {
  for (const NodeId& id : stirred_) {
    if (auto old = deadline_of_.find(id); old != deadline_of_.end()) {
      node_deadlines_.erase({old->second, id});
      deadline_of_.erase(old);
    }
    auto n = nodes_.find(id);
    if (n == nodes_.end()) continue;
    if (auto d = n->second->runtime.next_deadline()) {
      const TimePoint due = global_time(id, *d);
      node_deadlines_.emplace(due, id);
      deadline_of_[id] = due;
    }
  }
  stirred_.clear();
}

void Simulation::deliver(const NodeId& node, node::Event event) {
  auto n = nodes_.find(node);
  if (n == nodes_.end()) {
    line("  (dropped: " + node.str() + " is down) " + sim::describe(event));
    return;
  }
  n->second->runtime.post(std::move(event));
  delivered_.push_back(node);
  stir(node);
}

Simulation::SimNode::SimNode(Simulation& s, const NodeId& id)
    : host(s, id),
      runtime(
          s.config_, id, std::nullopt, host, static_cast<runtime::Transport&>(s),
          [&s, id] { return s.local_time(id); },
          runtime::Options{.max_events_per_pump = 1, .incarnation = s.incarnation_[id]}) {
  if (!s.options_.checkpoints) return;
  checkpoint::ServiceSettings settings;
  settings.replica.durable = s.options_.checkpoint_files;
  settings.replica.recovery_wait = s.options_.checkpoint_recovery_wait;
  checkpoints.emplace(id, settings);
  s.restore_checkpoints(id, *checkpoints);
}

void Simulation::SeatHost::carry_out(const node::Effect&) {
  AMF_ASSERT(!"the director's seat has no node director");
}

void Simulation::NodeHost::admin_result(const director::AdminResult&) {
  AMF_ASSERT(!"only the director's seat answers admin requests");
}

void Simulation::send(const protocol::Envelope& e) {
  if (e.message) {
    if (const auto* command = std::get_if<protocol::NodeCommand>(&*e.message)) {
      line("  director -> " +
           sim::describe(director::Effect(director::ToNode{e.to.node, *command})));
    } else if (const auto* report = std::get_if<protocol::NodeReport>(&*e.message)) {
      line("  " + e.from.node.str() + " -> " +
           sim::describe(node::Effect(node::ToDirector{*report})));
    } else {
      // Admin operations reach the simulated director in its seat directly, never forwarded;
      // nobody asks the simulated nodes for a status.
      AMF_ASSERT(!"an admin operation or status request forwarded between the simulator's "
                  "runtimes");
    }
  }
  if (e.message) touch(*e.message);
  if (!cuts_.empty() || (faults_on_ && faults_.net.any())) return transmit(e);
  arrive(e);
}

// An envelope reaches its runtime: the seat's, or that of the node, if the node is up (in its
// current life: a node that crashed and booted again has a new runtime, which drops what was
// for the old one).
void Simulation::arrive(const protocol::Envelope& e) {
  if (e.message) touch(*e.message);
  if (e.to.node == seat_->self()) {
    if (director_up_) seat_->receive(e);  // else lost with the director
    return;
  }
  auto n = nodes_.find(e.to.node);
  if (n == nodes_.end()) {
    if (const auto* command =
            e.message ? std::get_if<protocol::NodeCommand>(&*e.message) : nullptr) {
      line("  (dropped: " + e.to.node.str() + " is down) " +
           sim::describe(node::to_event(*command)));
    }
    return;
  }
  if (options_.membership) {
    // A node takes nothing from the director before its lease (the links send it again).
    auto m = members_.find(e.to.node);
    if (m == members_.end() || !m->second->accepts_commands()) return;
  }
  runtime::NodeRuntime& r = n->second->runtime;
  const std::size_t before = r.queued();
  r.receive(e);
  stir(e.to.node);
  for (std::size_t i = before; i < r.queued(); ++i) delivered_.push_back(e.to.node);
}

void Simulation::to_the_director(const director::Event& event) {
  touch(event);
  if (director_up_) return seat_->to_director(event);
  // No director: a membership change is in the view the next one starts from; an admin
  // request is refused, as amfd refuses it while no director is known.
  if (const auto* request = std::get_if<director::AdminRequest>(&event)) {
    answered({request->id, false, "no director: one is being elected, try again"});
  }
}

void Simulation::answered(const director::AdminResult& r) {
  line("  director -> " + sim::describe(r));
  if (auto asked = asked_.find(r.id); asked != asked_.end()) touch(asked->second);
  results_[r.id] = r;
  if (auto asked = asked_.find(r.id); asked != asked_.end()) {
    if (r.ok) remember_admin_state(asked->second);
    asked_.erase(asked);
  }
  ++(r.ok ? stats_.admin_ok : stats_.admin_failed);
  if (auto wrong = ledger_.answered(r.id)) violate("admin", *wrong);
  if (options_.on_admin_result) options_.on_admin_result(r);
}

void Simulation::note(const model::Notification& n) {
  line("  note " + sim::describe(n));
  touch(n.entity);
  touch(n.related);
  ++stats_.notifications;
  if (n.kind == model::NotificationKind::kHaState && n.to == "active") {
    if (n.cause == "failover") ++stats_.failovers;
    if (n.from == "standby" && n.cause == "assigned") ++stats_.switchovers;
  } else if (n.kind == model::NotificationKind::kRecovery) {
    if (n.to == "component-restart" || n.to == "su-restart") ++stats_.restarts;
    if (n.to == "component-failover" || n.to == "su-failover" || n.to == "node-failover") {
      ++stats_.su_failovers;
    }
    if (n.to == "auto-repair" || n.to == "repair") ++stats_.repairs;
  }
  if ((n.kind == model::NotificationKind::kError || (n.kind == model::NotificationKind::kRecovery &&
                                                     n.to != "auto-repair" && n.to != "repair")) &&
      !fault_pending(n.entity) && !spare_move_for_a_fault(n)) {
    last_error_ = n;
  }
  if (options_.on_notification) options_.on_notification(n);
}

// An SG's spare management answering a sibling's failure (a spare taken in for an SU that
// failed over, or returned once that SU is repaired) while a fault is armed in the SG: the
// fault's doing, not a failure of its own (sim/README.md, finding 15).
bool Simulation::spare_move_for_a_fault(const model::Notification& n) const {
  if (n.kind != model::NotificationKind::kRecovery) return false;
  if (!(n.to == "spare" || (n.from == "spare" && n.to == "instantiate"))) return false;
  const auto sgs = sgs_of_entity_.find(n.entity);
  if (sgs == sgs_of_entity_.end()) return false;
  for (const SgId& id : sgs->second) {
    for (const auto& su : config_->find_sg(id)->sus) {
      if (fault_pending(su.id.str())) return true;
    }
  }
  return false;
}

// ---- invariants ----

void Simulation::touch(const std::string& entity) {
  if (entity.empty() || touched_all_) return;
  auto it = sgs_of_entity_.find(entity);
  if (it == sgs_of_entity_.end()) {
    touched_all_ = true;  // the cluster, or a name the simulator does not know
    return;
  }
  for (const SgId& sg : it->second) {
    if (!touched_sgs_.insert(sg).second) continue;
    if (auto deps = dependent_sgs_.find(sg); deps != dependent_sgs_.end()) {
      touched_sgs_.insert(deps->second.begin(), deps->second.end());
    }
  }
}

void Simulation::touch(const director::Event& event) {
  struct Visitor {
    Simulation& s;
    void operator()(const director::NodeUp& e) { s.touch(e.node.str()); }
    void operator()(const director::NodeDown& e) { s.touch(e.node.str()); }
    void operator()(const protocol::SuStateReport& e) { s.touch(e.su.str()); }
    void operator()(const protocol::AssignmentDone& e) { s.touch(e.su.str()); }
    void operator()(const protocol::RemovalDone& e) { s.touch(e.su.str()); }
    void operator()(const protocol::NodeLeaving& e) { s.touch(e.node.str()); }
    void operator()(const director::AdminRequest& e) {
      for (const SgId& sg : s.affected_sgs(e.kind, e.entity)) s.touch(sg.str());
    }
  };
  std::visit(Visitor{*this}, event);
}

void Simulation::touch(const protocol::Message& message) {
  const auto one = [&](const auto& x) {
    if constexpr (requires { x.su; }) {
      touch(x.su.str());
    } else {
      touched_all_ = true;  // a snapshot (about the whole node), an admin operation
    }
  };
  std::visit(
      [&](const auto& m) {
        if constexpr (requires { m.index(); }) {
          std::visit(one, m);
        } else {
          one(m);
        }
      },
      message);
}

// After every step, what the step touched; every kFullCheckEvery steps (and when asked),
// everything.
void Simulation::check_invariants(bool everything) {
  everything |= options_.check_everything_every_step || touched_all_ ||
                ++steps_since_full_check_ >= kFullCheckEvery;
  if (everything) steps_since_full_check_ = 0;
  const std::set<CsiId> csis = machines_.take_touched_csis();
  std::set<SgId> touched = std::move(touched_sgs_);
  touched_sgs_.clear();
  touched_all_ = false;
  if (everything && machines_.take_beliefs_changed()) {
    if (auto wrong = check_safety(*config_, processes())) return violate("safety", *wrong);
  } else if (!csis.empty()) {
    // Only a process coming to believe it is active (or quiescing) can break safety: look at
    // the processes that believe something about those CSIs.
    if (auto wrong = check_safety(*config_, machines_.believers(csis)))
      return violate("safety", *wrong);
  }
  if (auto wrong = check_service_addresses(machines_.service_addresses())) {
    return violate("safety", *wrong);
  }
  if (!everything) {
    for (const SgId& id : touched) {
      const model::SgConfig* sg = config_->find_sg(id);
      if (director().busy(id) || ledger_.outstanding(id)) continue;
      const std::set<SiId> blocked =
          sgs_with_dependencies_.count(id) ? blocked_sis(*sg, served_anywhere()) : std::set<SiId>{};
      if (auto wrong = check_settled_sg(*sg, director().assignments(id),
                                        director().service_units(id), blocked)) {
        return violate("settled", *wrong);
      }
    }
    if (auto wrong = ledger_.overdue(now_)) violate("admin", *wrong);
    return;
  }
  // service_units() lists the SUs SG by SG, in configuration order.
  const auto sus = director().service_units();
  const auto& sgs = config_->service_groups();
  std::vector<models::AssignmentTable> tables;
  tables.reserve(sgs.size());
  std::set<SiId> served;
  for (const model::SgConfig* sg : sgs) {
    tables.push_back(director().assignments(sg->id));
    for (const auto& a : tables.back()) {
      if (a.ha == model::HaState::kActive) served.insert(a.si);
    }
  }
  auto next = sus.begin();
  for (std::size_t i = 0; i < sgs.size(); ++i) {
    const model::SgConfig* sg = sgs[i];
    const auto first = next;
    while (next != sus.end() && next->sg == sg->id) ++next;
    if (director().busy(sg->id) || ledger_.outstanding(sg->id)) continue;
    const std::vector<director::Director::SuView> mine(first, next);
    if (auto wrong = check_settled_sg(*sg, tables[i], mine, blocked_sis(*sg, served))) {
      return violate("settled", *wrong);
    }
  }
  if (auto wrong = ledger_.overdue(now_)) violate("admin", *wrong);
}

std::optional<std::string> Simulation::check_liveness_now() const {
  const auto sus = director().service_units();
  const auto procs = processes();
  std::map<CompId, model::PresenceState> presence;
  for (const auto& [id, n] : nodes_) {
    for (const auto& view : n->runtime.node().components()) presence[view.id] = view.presence;
  }
  for (const model::SgConfig* sg : config_->service_groups()) {
    LivenessInput in;
    in.sg = sg;
    in.busy = director().busy(sg->id);
    in.admin_outstanding = ledger_.outstanding(sg->id);
    in.table = director().assignments(sg->id);
    for (const auto& su : sus) {
      if (su.sg == sg->id) in.sus.push_back(su);
    }
    for (const auto& p : procs) {
      if (sg_of_comp_.at(p.comp) == sg->id) in.processes.push_back(p);
    }
    in.presence = presence;
    for (const auto& si : sg->sis) {
      if (director().si_admin(si.id) != model::AdminState::kUnlocked) in.locked.insert(si.id);
    }
    in.served_anywhere = served_anywhere();
    if (auto wrong = check_liveness(in)) return wrong;
  }
  return std::nullopt;
}

// Liveness after a quiet period. Unless the cluster is idle (nothing can happen any more),
// components must also have stopped failing: an error or recovery in the second half of the
// quiet period, with no fault injected, is a loop that never settles.
void Simulation::check_quiet(const std::string& when) {
  if (!idle() && last_error_ && now_ - last_error_->time < quiet_period_ / 2) {
    return violate("liveness", when +
                                   ", components still fail without any fault injected; the "
                                   "last at " +
                                   format_time(last_error_->time) + ": " +
                                   sim::describe(*last_error_));
  }
  if (auto wrong = check_liveness_now()) return violate("liveness", when + ": " + *wrong);
  // With the membership: a director acts, and every node that is up holds its lease under it
  // and is up in its table.
  if (options_.membership && !membership_settled()) {
    violate("liveness",
            when + ": " +
                (director_up_ ? "the membership has not settled under the director of epoch " +
                                    std::to_string(director_epoch_) + " on " + director_node_->str()
                              : std::string("no director acts")));
  }
}

void Simulation::violate(std::string invariant, std::string message) {
  if (violation_) return;
  line("VIOLATION of " + invariant + ": " + message);
  violation_ = Violation{std::move(invariant),
                         std::move(message),
                         seed_,
                         stats_.steps,
                         now_,
                         trace_.tail(options_.trace_lines)};
}

bool Simulation::idle() const {
  const bool stopping = std::any_of(stopping_.begin(), stopping_.end(),
                                    [&](const auto& s) { return life_up(s.first, s.second.life); });
  return scheduled_work_ == 0 && delivered_.empty() && !runtime_deadline() &&
         membership_settled() && !stopping;
}

// A fault or an admin operation happened: liveness is judged a quiet period after the last one.
void Simulation::disturbed() { schedule(quiet_period_, QuietCheck{++quiet_epoch_}); }

void Simulation::on(const QuietCheck& e) {
  if (e.epoch != quiet_epoch_) return;
  line(header() + "quiet for " + format_duration(quiet_period_) + ": liveness check");
  check_quiet("quiet for " + format_duration(quiet_period_));
}

void Simulation::on(const AdminCheck&) {}  // check_invariants() looks for overdue requests

Duration Simulation::settle() {
  const TimePoint begin = now_;
  faults_on_ = false;
  ++fault_epoch_;
  machines_.drop_random();
  line(header() + "settle: random faults off");
  const TimePoint end = begin + quiet_period_;
  while (!violation_ && !idle() && step(end)) {
  }
  if (!violation_) check_invariants(true);
  if (!violation_ && !idle()) now_ = std::max(now_, end);  // periodic work only (health checks)
  if (!violation_) check_quiet("settling for " + format_duration(now_ - begin));
  faults_on_ = true;
  schedule_next_fault();
  return now_ - begin;
}

// ---- admin operations ----

std::uint64_t Simulation::admin(director::AdminOp op, director::EntityKind kind,
                                const std::string& entity) {
  const std::uint64_t id = next_admin_id_++;
  director::AdminRequest request{id, op, kind, entity};
  ledger_.asked(id, affected_sgs(kind, entity), sim::describe(request), now_);
  ++stats_.admin_requests;
  asked_[id] = request;
  disturbed();
  schedule(Duration(0), AdminAsk{std::move(request)});
  schedule(options_.admin_answer_limit + std::chrono::milliseconds(1), AdminCheck{});
  return id;
}

void Simulation::on(const AdminAsk& e) {
  line(header() + "admin: " + sim::describe(e.request));
  if (e.request.op == director::AdminOp::kRepair)
    clean_up_before_repair(e.request.kind, e.request.entity);
  to_the_director(e.request);
}

// The SGs an admin operation on (kind, entity) reaches; none for an unknown entity.
std::set<SgId> Simulation::affected_sgs(director::EntityKind kind,
                                        const std::string& entity) const {
  std::set<SgId> out;
  for (const model::SgConfig* sg : config_->service_groups()) {
    bool reached = kind == director::EntityKind::kCluster ||
                   (kind == director::EntityKind::kSg && sg->id.str() == entity) ||
                   (kind == director::EntityKind::kApp && sg->app.str() == entity);
    for (const auto& su : sg->sus) {
      if ((kind == director::EntityKind::kSu && su.id.str() == entity) ||
          (kind == director::EntityKind::kNode && su.node.str() == entity)) {
        reached = true;
      }
      for (const auto& comp : su.components) {
        if (kind == director::EntityKind::kComp && comp.id.str() == entity) reached = true;
      }
    }
    for (const auto& si : sg->sis) {
      if (kind == director::EntityKind::kSi && si.id.str() == entity) reached = true;
    }
    if (reached) out.insert(sg->id);
  }
  return out;
}

std::optional<director::AdminResult> Simulation::admin_result(std::uint64_t id) const {
  auto it = results_.find(id);
  if (it == results_.end()) return std::nullopt;
  return it->second;
}

// ---- views ----

std::vector<node::NodeDirector::ComponentView> Simulation::components() const {
  std::vector<node::NodeDirector::ComponentView> out;
  for (const auto& [id, n] : nodes_) {
    for (auto& view : n->runtime.node().components()) out.push_back(std::move(view));
  }
  return out;
}

std::vector<ProcessView> Simulation::processes() const { return machines_.processes(); }

Stats Simulation::stats() const {
  Stats out = stats_;
  out.process_starts = machines_.starts();
  return out;
}

// ---- helpers ----

std::set<SiId> Simulation::served_anywhere() const {
  std::set<SiId> out;
  for (const model::SgConfig* sg : config_->service_groups()) {
    for (const auto& a : director().assignments(sg->id)) {
      if (a.ha == model::HaState::kActive) out.insert(a.si);
    }
  }
  return out;
}

void Simulation::line(std::string text) { trace_.add(std::move(text)); }

std::string Simulation::header() const {
  return "[#" + std::to_string(stats_.steps) + " " + format_time(now_) + "] ";
}

std::uint64_t Simulation::uniform(std::uint64_t n) { return n <= 1 ? 0 : rng_() % n; }

// Whole milliseconds, so that transcripts stay readable.
Duration Simulation::draw(const LatencyRange& range) {
  const auto lo = std::chrono::duration_cast<std::chrono::milliseconds>(range.min).count();
  const auto hi = std::chrono::duration_cast<std::chrono::milliseconds>(range.max).count();
  if (hi <= lo) return std::chrono::milliseconds(lo);
  return std::chrono::milliseconds(lo + static_cast<std::int64_t>(uniform(hi - lo + 1)));
}

}  // namespace amf::sim
