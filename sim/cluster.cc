// The simulation as the controller of its machines (machines.h): the node directors' effects
// carried out on the simulated processes (Daemon::carry_out with a simulated launcher and
// simulated components), node crashes and boots, and the random faults and admin operations.
#include <cmath>

#include "amf/core/assert.h"
#include "sim/duration.h"
#include "sim/format.h"
#include "sim/simulation.h"

namespace amf::sim {

using director::EntityKind;

// ---- node effects ----

void Simulation::carry_out(const NodeId& node, const node::Effect& effect) {
  struct Visitor {
    Simulation& s;
    const NodeId& node;
    // The host protocol.
    void operator()(const node::StartProcess& e) { s.machines_.start(node, e); }
    void operator()(const node::SignalProcess& e) { s.machines_.signal(e); }
    void operator()(const node::RunHook& e) { s.machines_.run_hook(node, e); }
    void operator()(const node::RunProbe& e) { s.machines_.run_probe(node, e); }
    // The AMF component protocol.
    void operator()(const node::SendRegisterReply& e) { s.machines_.register_reply(e.peer, e.ok); }
    void operator()(const node::SendCsiSet& e) { s.machines_.csi_set(e); }
    void operator()(const node::SendCsiRemove& e) { s.machines_.csi_remove(e); }
    void operator()(const node::SendHealthcheck& e) { s.machines_.healthcheck(e); }
    void operator()(const node::SendTerminate& e) { s.machines_.terminate(e); }
    // The simulated components track no protection group.
    void operator()(const node::SendProtectionGroup&) {}
    void operator()(const node::SetServiceAddress& e) { s.machines_.service_address(node, e); }
    void operator()(const node::ToDirector&) { AMF_ASSERT(!"the runtime routes reports"); }
    void operator()(const model::Notification& n) { s.note(n); }
  };
  if (!std::holds_alternative<model::Notification>(effect)) {
    line("  " + node.str() + " -> " + sim::describe(effect));
  }
  std::visit(Visitor{*this, node}, effect);
}

void Simulation::host_report(const NodeId& node, HostReport report) {
  deliver(node, std::visit([](auto&& r) { return node::Event(std::move(r)); }, std::move(report)));
}

void Simulation::component_message(const NodeId& node, ComponentMessage message) {
  deliver(node, std::visit([](auto&& m) { return node::Event(std::move(m)); }, std::move(message)));
}

// ---- faults on demand: the machines strike, the simulation counts ----

namespace {
void count(Stats& stats, FaultKind kind) { ++stats.faults[static_cast<std::size_t>(kind)]; }
}  // namespace

bool Simulation::crash(const CompId& comp) {
  if (!machines_.crash(comp)) return false;
  count(stats_, FaultKind::kCrash);
  return true;
}

bool Simulation::hang(const CompId& comp) {
  if (!machines_.hang(comp)) return false;
  count(stats_, FaultKind::kHang);
  return true;
}

void Simulation::fail_starts(const CompId& comp, int n) {
  count(stats_, FaultKind::kInstantiate);
  machines_.fail_starts(comp, n);
}

void Simulation::slow_callbacks(const CompId& comp, int n) {
  count(stats_, FaultKind::kSlow);
  machines_.slow_callbacks(comp, n);
}

void Simulation::fail_callbacks(const CompId& comp, int n) {
  count(stats_, FaultKind::kError);
  machines_.fail_callbacks(comp, n);
}

void Simulation::fail_cleanup(const CompId& comp) {
  count(stats_, FaultKind::kCleanup);
  machines_.fail_cleanup(comp);
}

bool Simulation::report_error(const CompId& comp) {
  if (!machines_.report_error(comp)) return false;
  count(stats_, FaultKind::kReport);
  return true;
}

bool Simulation::force_belief(const CompId& comp, const CsiId& csi, model::HaState ha) {
  return machines_.force_belief(comp, csi, ha);
}

// A repair tells the cluster that the SU is fit again: the operator ends what survived a
// failed cleanup on the SUs it repairs first.
void Simulation::clean_up_before_repair(EntityKind kind, const std::string& entity) {
  machines_.end_stuck([&](const model::SuConfig& su) {
    return (kind == EntityKind::kSu && su.id.str() == entity) ||
           (kind == EntityKind::kNode && su.node.str() == entity);
  });
}

// ---- node crashes ----

bool Simulation::crash_node(const NodeId& node, bool fault, std::string_view how) {
  auto nd = nodes_.find(node);
  if (nd == nodes_.end()) return false;
  if (fault) {
    ++stats_.faults[static_cast<std::size_t>(FaultKind::kNode)];
    ++stats_.node_crashes;
  }
  disturbed();
  const std::size_t ended = machines_.end_node(node);
  nodes_.erase(nd);  // its runtime, with whatever was queued for it
  ++nodes_changes_;
  cuts_.erase(node);  // a partition of it ends with it (the director hears of the crash)
  unheard_.erase(node);
  stirred_.insert(node);  // its deadlines go with it
  std::erase(delivered_, node);
  members_.erase(node);  // (membership) its cluster core, with its lease
  const std::uint64_t incarnation = ++incarnation_[node];
  const std::string what = fault         ? "fault: " + node.str() + " crashes"
                           : how.empty() ? node.str() + " is fenced"
                                         : node.str() + " " + std::string(how);
  line("[" + format_time(now_) + "] " + what + "; " + std::to_string(ended) +
       (ended == 1 ? " process ends" : " processes end"));
  // With the membership, its cores declare it gone.
  if (!options_.membership)
    schedule(draw(options_.latencies.node_detect), NodeLeaves{node, incarnation});
  if (director_up_ && director_node_ == node) lose_director("dies with its node");
  return true;
}

bool Simulation::boot_node(const NodeId& node) {
  if (nodes_.count(node) || config_->find_node(node) == nullptr) return false;
  schedule(Duration(0), NodeBoots{node, incarnation_[node]});
  return true;
}

void Simulation::on(const NodeLeaves& e) {
  // Stale when the node has booted again since: its NodeUp told the director already.
  if (incarnation_[e.node] != e.incarnation || nodes_.count(e.node)) return;
  line(header() + "membership: " + e.node.str() + " has left the cluster");
  line("  director <- NodeDown " + e.node.str());
  to_the_director(director::NodeDown{e.node, "node " + e.node.str() + " left the cluster"});
}

void Simulation::on(const NodeBoots& e) {
  if (incarnation_[e.node] != e.incarnation || nodes_.count(e.node)) return;
  ++stats_.node_boots;
  disturbed();
  ++nodes_changes_;
  nodes_.emplace(e.node, std::make_unique<SimNode>(*this, e.node));
  stir(e.node);
  line(header() + e.node.str() + " boots");
  if (options_.membership) return join_membership(e.node);  // NodeUp once its life joins
  line("  director <- NodeUp " + e.node.str());
  to_the_director(director::NodeUp{e.node, incarnation_[e.node]});
}

// ---- amfd stopped on a node ----

bool Simulation::stop_node(const NodeId& node, bool boots) {
  if (!nodes_.count(node)) return false;
  if (auto s = stopping_.find(node); s != stopping_.end() && s->second.life == incarnation_[node]) {
    return false;  // stopping already
  }
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kStop)];
  disturbed();
  stopping_[node] = Stopping{incarnation_[node], boots};
  line("[" + format_time(now_) + "] fault: " + node.str() + "'s amfd is stopped");
  schedule(Duration(0), StopAsk{node, incarnation_[node]});
  schedule(node::leave_bound(*config_, node), StopBound{node, incarnation_[node]});
  return true;
}

void Simulation::on(const StopAsk& e) {
  if (!life_up(e.node, e.life)) return;
  if (!director_up_) {  // as amfd that hears no director: nobody to move its work
    line(header() + e.node.str() + " hears no director: its amfd ends its components");
    stopping_.at(e.node).shutting = true;
    return deliver(e.node, node::Shutdown{});
  }
  deliver(e.node, node::Leave{"its amfd stops"});
}

bool Simulation::advance_stops() {
  bool acted = false;
  for (auto it = stopping_.begin(); it != stopping_.end();) {
    auto n = nodes_.find(it->first);
    if (!life_up(it->first, it->second.life)) {
      it = stopping_.erase(it);  // that life ended otherwise (a crash, a fence)
      continue;
    }
    Stopping& s = it->second;
    const node::NodeDirector& nd = n->second->runtime.node();
    if (!s.shutting && nd.evacuated()) {
      s.shutting = true;
      line("  " + it->first.str() + " holds no assignment any more: its amfd ends its components");
      deliver(it->first, node::Shutdown{});
      acted = true;
    } else if (s.shutting && !s.exiting && nd.stopped()) {
      s.exiting = true;
      schedule(Duration(0), AmfdExits{it->first, s.life});
    }
    ++it;
  }
  return acted;
}

void Simulation::on(const StopBound& e) {
  auto s = stopping_.find(e.node);
  if (s == stopping_.end() || s->second.life != e.life || s->second.shutting) return;
  if (!life_up(e.node, e.life)) return;
  line(header() + e.node.str() +
       (e.director_lost ? " no longer hears the director: its amfd ends its components"
                        : " still holds assignments at amfd's bound: it ends its components"));
  s->second.shutting = true;
  deliver(e.node, node::Shutdown{});
}

void Simulation::on(const AmfdExits& e) {
  if (!life_up(e.node, e.life)) return;
  const bool boots = stopping_.at(e.node).boots;
  stopping_.erase(e.node);
  ++stats_.node_stops;
  if (crash_node(e.node, false, "stops: its amfd exits") && boots) {
    schedule(draw(options_.latencies.node_boot), NodeBoots{e.node, incarnation_[e.node]});
  }
}

// ---- director crashes ----

bool Simulation::crash_director() {
  if (!director_up_) return false;
  if (options_.membership) {  // the director dies with its amfd: its node's life ends
    ++stats_.faults[static_cast<std::size_t>(FaultKind::kDirector)];
    line("[" + format_time(now_) + "] fault: the director's node " + director_node_->str() +
         " crashes");
    const NodeId node = *director_node_;
    if (crash_node(node, false)) {
      schedule(draw(options_.latencies.node_boot), NodeBoots{node, incarnation_[node]});
    }
    return true;
  }
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kDirector)];
  line("[" + format_time(now_) + "] fault: the director crashes");
  lose_director("crashes");
  return true;
}

void Simulation::lose_director(const std::string& how) {
  ++stats_.director_crashes;
  disturbed();
  director_up_ = false;
  line("  the director (epoch " + std::to_string(director_epoch_) + ") " + how +
       "; the nodes run on without it");
  // A node that is stopping stops waiting for it once it no longer hears it (amfd's watch).
  for (const auto& [node, s] : stopping_) {
    if (!s.shutting && life_up(node, s.life)) {
      schedule(draw(options_.latencies.node_detect), StopBound{node, s.life, true});
    }
  }
  // Its connections close: the operators whose requests it had not answered get an error.
  // The admin state an accepted operation set is in the store; the injector may undo it.
  const auto unanswered = asked_;
  for (const auto& [id, request] : unanswered) {
    remember_admin_state(request);
    answered({id, false, "the director was lost before the operation ended"});
  }
  // With the membership, the nodes' cores elect the next one.
  if (!options_.membership) schedule(draw(options_.latencies.director_elect), DirectorElected{});
}

void Simulation::on(const DirectorElected&) {
  // The membership's view: every node that is up and has not been declared gone.
  std::vector<director::NodeUp> view;
  std::string names;
  for (const auto& [id, node] : nodes_) {
    if (unheard_.count(id)) continue;
    view.push_back({id, incarnation_[id]});
    names += " " + id.str();
  }
  std::string where;
  if (director_node_) {
    if (view.empty()) {
      line(header() + "election: no node is up to run a director; tried again later");
      schedule(draw(options_.latencies.director_elect), DirectorElected{});
      return;
    }
    director_node_ = view.front().node;
    where = " on " + director_node_->str();
  }
  auto director = director::Director::create(config_);
  AMF_ASSERT(director.has_value());  // create() checked the configuration
  ++director_epoch_;
  ++director_life_;
  line(header() + "election: a new director wins epoch " + std::to_string(director_epoch_) + where +
       "; asks for the snapshots of" + (names.empty() ? " no node" : names));
  seat_ = std::make_unique<runtime::NodeRuntime>(runtime::NodeRuntime::director_seat(
      config_, NodeId("director"), std::move(*director), seat_host_,
      static_cast<runtime::Transport&>(*this), [this] { return now_; },
      runtime::Options{.incarnation = director_life_, .epoch = director_epoch_}));
  director_up_ = true;
  disturbed();
  touched_all_ = true;
  seat_->take_over(view, admin_store_);
}

// Every change is kept, unlocked too: it may undo a configured initial state.
void Simulation::SeatHost::admin_state(const director::AdminStateChanged& e) {
  sim.admin_store_[{e.kind, e.entity}] = e.state;
  if (!sim.options_.membership || !sim.director_node_) return;
  // With the membership, in etcd, through the director node's core.
  if (auto m = sim.members_.find(*sim.director_node_); m != sim.members_.end()) {
    m->second->admin_state(e, sim.local_time(*sim.director_node_));
    sim.carry_out_membership(*sim.director_node_);
  }
}

void Simulation::SeatHost::took_over() {
  sim.took_over_ = true;
  sim.line("  director: took over in epoch " + std::to_string(sim.director_epoch_));
}

// ---- random faults ----

double Simulation::fault_weight(FaultKind kind) const {
  const double rate = faults_[kind];
  switch (kind) {
    case FaultKind::kAdmin:
    case FaultKind::kPartition:
    case FaultKind::kDirector:
      return rate;
    case FaultKind::kNode:
    case FaultKind::kStop:
      return rate * static_cast<double>(config_->nodes.size());
    default:
      return rate * static_cast<double>(all_comps_.size());
  }
}

void Simulation::set_faults(const FaultSpec& faults) {
  faults_ = faults;
  ++fault_epoch_;
  schedule_next_fault();
}

void Simulation::schedule_next_fault() {
  if (!faults_on_) return;
  double total = 0;
  for (std::size_t k = 0; k < kFaultKinds; ++k) total += fault_weight(static_cast<FaultKind>(k));
  if (total <= 0) return;
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  const double seconds = std::min(-std::log1p(-u) / total, 1e7);
  schedule(Duration(static_cast<std::int64_t>(seconds * 1e9)), NextFault{fault_epoch_});
}

void Simulation::on(const NextFault& e) {
  if (e.epoch != fault_epoch_ || !faults_on_) return;
  machines_.arming_random(true);
  inject_random_fault();
  machines_.arming_random(false);
  schedule_next_fault();
}

void Simulation::inject_random_fault() {
  std::array<double, kFaultKinds> weight{};
  double total = 0;
  for (std::size_t k = 0; k < kFaultKinds; ++k) {
    weight[k] = fault_weight(static_cast<FaultKind>(k));
    total += weight[k];
  }
  double x = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * total;
  std::size_t kind = 0;
  while (kind + 1 < kFaultKinds && (weight[kind] <= 0 || x >= weight[kind])) {
    x -= weight[kind];
    ++kind;
  }
  if (static_cast<FaultKind>(kind) == FaultKind::kAdmin) return random_admin();
  if (static_cast<FaultKind>(kind) == FaultKind::kPartition) return random_partition();
  if (static_cast<FaultKind>(kind) == FaultKind::kDirector) {
    crash_director();
    return;
  }
  if (static_cast<FaultKind>(kind) == FaultKind::kNode) {
    const NodeId& node = config_->nodes[uniform(config_->nodes.size())].id;
    if (crash_node(node)) {
      schedule(draw(options_.latencies.node_boot), NodeBoots{node, incarnation_[node]});
    }
    return;
  }
  if (static_cast<FaultKind>(kind) == FaultKind::kStop) {
    stop_node(config_->nodes[uniform(config_->nodes.size())].id, true);
    return;
  }
  const CompId& comp = all_comps_[uniform(all_comps_.size())];
  switch (static_cast<FaultKind>(kind)) {
    case FaultKind::kCrash:
      crash(comp);
      break;
    case FaultKind::kHang:
      hang(comp);
      break;
    case FaultKind::kInstantiate: {
      const int retries = config_->find_component(comp)->instantiate_retries;
      fail_starts(comp, 1 + static_cast<int>(uniform(static_cast<std::uint64_t>(retries) + 1)));
      break;
    }
    case FaultKind::kSlow:
      slow_callbacks(comp, 1);
      break;
    case FaultKind::kError:
      fail_callbacks(comp, 1);
      break;
    case FaultKind::kCleanup:
      fail_cleanup(comp);
      break;
    case FaultKind::kReport:
      report_error(comp);
      break;
    case FaultKind::kAdmin:
    case FaultKind::kNode:
    case FaultKind::kPartition:
    case FaultKind::kDirector:
    case FaultKind::kStop:
      break;
  }
}

// An operation and an entity it applies to, mostly SUs (refusals are fine: they must only be
// answered). Lock-like operations go to an SU 7 times in 10, else to a node, SG, application
// or the cluster.
void Simulation::remember_admin_state(const director::AdminRequest& r) {
  using director::AdminOp;
  const auto key = std::pair(r.kind, r.entity);
  switch (r.op) {
    case AdminOp::kLock:
    case AdminOp::kShutdown:
    case AdminOp::kUnlockInstantiation:
      left_locked_[key] = model::AdminState::kLocked;
      break;
    case AdminOp::kLockInstantiation:
      left_locked_[key] = model::AdminState::kLockedInstantiation;
      break;
    case AdminOp::kUnlock:
      left_locked_.erase(key);
      break;
    case AdminOp::kRepair:
    case AdminOp::kSiSwap:
    case AdminOp::kAdjust:
    case AdminOp::kRestart:
      break;
  }
}

void Simulation::random_admin() {
  using director::AdminOp;
  // A third of the time the operator repairs a disabled SU, a third of the time undoes a lock
  // left behind (so the cluster does not drift into staying down), else anything at random.
  const std::uint64_t choice = uniform(3);
  if (choice == 0) {
    std::vector<SuId> disabled;
    for (const auto& su : director().service_units()) {
      if (su.oper == model::OperState::kDisabled) disabled.push_back(su.id);
    }
    if (!disabled.empty()) {
      ++stats_.faults[static_cast<std::size_t>(FaultKind::kAdmin)];
      admin(AdminOp::kRepair, EntityKind::kSu, disabled[uniform(disabled.size())].str());
      return;
    }
  }
  if (choice == 1 && !left_locked_.empty()) {
    auto it = std::next(left_locked_.begin(), static_cast<long>(uniform(left_locked_.size())));
    ++stats_.faults[static_cast<std::size_t>(FaultKind::kAdmin)];
    const bool down = it->second == model::AdminState::kLockedInstantiation;
    admin(down ? AdminOp::kUnlockInstantiation : AdminOp::kUnlock, it->first.first,
          it->first.second);
    return;
  }
  static constexpr std::array<AdminOp, 9> kOps{AdminOp::kLock,     AdminOp::kUnlock,
                                               AdminOp::kShutdown, AdminOp::kSiSwap,
                                               AdminOp::kRepair,   AdminOp::kLockInstantiation,
                                               AdminOp::kAdjust,   AdminOp::kUnlockInstantiation,
                                               AdminOp::kRestart};
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kAdmin)];
  const AdminOp op = kOps[uniform(kOps.size())];
  const auto& sgs = config_->service_groups();
  auto random_su = [&] { return all_sus_[uniform(all_sus_.size())].str(); };
  auto random_node = [&] { return config_->nodes[uniform(config_->nodes.size())].id.str(); };
  auto random_sg = [&] { return sgs[uniform(sgs.size())]->id.str(); };
  switch (op) {
    case AdminOp::kSiSwap:
      admin(op, EntityKind::kSi, all_sis_[uniform(all_sis_.size())].str());
      return;
    case AdminOp::kAdjust:
      admin(op, EntityKind::kSg, random_sg());
      return;
    case AdminOp::kRepair:
      if (uniform(4) == 0) return void(admin(op, EntityKind::kNode, random_node()));
      admin(op, EntityKind::kSu, random_su());
      return;
    case AdminOp::kRestart:
      if (uniform(2) == 0)
        return void(admin(op, EntityKind::kComp, all_comps_[uniform(all_comps_.size())].str()));
      admin(op, EntityKind::kSu, random_su());
      return;
    case AdminOp::kLock:
    case AdminOp::kUnlock:
    case AdminOp::kShutdown:
    case AdminOp::kLockInstantiation:
    case AdminOp::kUnlockInstantiation:
      break;
  }
  const std::uint64_t where = uniform(20);
  if (where < 13) return void(admin(op, EntityKind::kSu, random_su()));
  if (where < 14) {
    if (op != AdminOp::kLock && op != AdminOp::kUnlock && op != AdminOp::kShutdown) {
      return void(admin(op, EntityKind::kSu, random_su()));
    }
    return void(admin(op, EntityKind::kSi, all_sis_[uniform(all_sis_.size())].str()));
  }
  if (where < 16) return void(admin(op, EntityKind::kNode, random_node()));
  if (where < 18) return void(admin(op, EntityKind::kSg, random_sg()));
  if (where < 19) return void(admin(op, EntityKind::kApp, sgs[uniform(sgs.size())]->app.str()));
  admin(op, EntityKind::kCluster, config_->name);
}

}  // namespace amf::sim
