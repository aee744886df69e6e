#include "sim/drill.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <random>

#include "sim/duration.h"
#include "sim/simulation.h"

namespace amf::sim {
namespace {

const model::SgConfig* find_sg(const model::ClusterConfig& config, const SgId& sg) {
  for (const model::ApplicationConfig& app : config.applications) {
    for (const model::SgConfig& g : app.service_groups) {
      if (sg.str().empty() || g.id == sg) return &g;
    }
  }
  return nullptr;
}

// The client starts writing this long before the first fault, so that the serving program
// holds acknowledged writes when it strikes (at most the warm-up).
constexpr Duration kClientLead = std::chrono::seconds(10);

// The client: a request every interval from `first` (when the warm-up ends) on, for `observe`,
// and before it, for the lead (from `first` - lead, where the caller has run to), requests
// that only write; the faults strike at the first request at or after their time (`strike`
// says why it could not, or nothing). `fraction` is the share of requests that succeed at that
// instant; `served` is called for each request that some program served.
void observe(DrillOutcome& out, const DrillSettings& s, TimePoint first,
             const std::function<void(TimePoint)>& run_until,
             const std::function<double()>& fraction,
             const std::function<std::string(const ScheduledFault&)>& strike,
             const std::function<std::uint64_t()>& starts,
             const std::function<void()>& served = nullptr) {
  for (TimePoint t = first - std::min(kClientLead, s.warmup); t < first; t += s.request_interval) {
    run_until(t);
    if (served && fraction() > 0) served();
  }
  run_until(first);
  out.served_before = fraction() == 1.0;
  const std::uint64_t starts_before = starts();
  bool whole = out.served_before;  // a service not whole at the start is restored once it is
  std::size_t next = 0;
  for (TimePoint t = first; t < first + s.observe; t += s.request_interval) {
    for (; next < s.faults.size() && first + s.faults[next].at <= t; ++next) {
      if (const std::string why = strike(s.faults[next]); !why.empty()) {
        out.notes.push_back("+" + format_duration(t - first) + " " +
                            to_string(s.faults[next].fault) + ": " + why);
      }
    }
    run_until(t);
    const double ok = fraction();
    ++out.requests;
    out.failed_requests += 1.0 - ok;
    if (served && ok > 0) served();
    if (ok < 1.0 && !out.first_failure) out.first_failure = t - first;
    if (ok == 0.0) out.outage += s.request_interval;
    if (ok < 1.0) out.restored.reset();
    if (ok == 1.0 && !whole) out.restored = t - first;
    whole = ok == 1.0;
  }
  out.restarts = starts() - starts_before;
}

Duration fault_at(const DrillSettings& s) {
  std::mt19937_64 random(s.seed);
  const auto jitter = std::chrono::duration_cast<std::chrono::milliseconds>(s.jitter).count();
  return s.warmup + std::chrono::milliseconds(jitter > 0 ? random() % jitter : 0);
}

// Where a drill runs to before its client starts.
Duration client_start(const DrillSettings& s) {
  return fault_at(s) - std::min(kClientLead, s.warmup);
}

}  // namespace

std::optional<DrillFault> parse_drill_fault(std::string_view text) {
  for (DrillFault f : {DrillFault::kComponentCrash, DrillFault::kComponentHang,
                       DrillFault::kSandboxDeath, DrillFault::kNodeCrash, DrillFault::kCrashLoop}) {
    if (to_string(f) == text) return f;
  }
  return std::nullopt;
}

std::string to_string(DrillFault fault) {
  switch (fault) {
    case DrillFault::kComponentCrash:
      return "component-crash";
    case DrillFault::kComponentHang:
      return "component-hang";
    case DrillFault::kSandboxDeath:
      return "sandbox-death";
    case DrillFault::kNodeCrash:
      return "node-crash";
    case DrillFault::kCrashLoop:
      return "crash-loop";
  }
  return "?";
}

DrillOutcome drill_amf(std::shared_ptr<const model::ClusterConfig> config,
                       const DrillSettings& settings) {
  DrillOutcome out;
  const model::SgConfig* sg = find_sg(*config, settings.sg);
  if (sg == nullptr) return out;
  out.controller = "amf (" + std::string(model::to_string(sg->redundancy)) + ")";
  if (std::all_of(settings.faults.begin(), settings.faults.end(),
                  [](const ScheduledFault& f) { return f.fault == DrillFault::kSandboxDeath; })) {
    out.inapplicable = "amf runs no sandbox";
    return out;
  }
  Options options;
  options.checkpoints = true;  // the state: a counter per SI in a synchronous checkpoint
  auto created = Simulation::create(config, settings.seed, std::move(options));
  if (!created) {
    out.inapplicable = created.error().message();
    return out;
  }
  Simulation& sim = **created;
  sim.start();
  sim.run_for(client_start(settings));
  // The share of the SG's SIs with a live, listening process that believes it is active for
  // every CSI of the SI.
  auto fraction = [&]() {
    if (sg->sis.empty()) return 0.0;
    const std::vector<ProcessView> processes = sim.processes();
    int served = 0;
    for (const model::SiConfig& si : sg->sis) {
      bool all = true;
      for (const model::CsiConfig& csi : si.csis) {
        all = all && std::any_of(processes.begin(), processes.end(), [&](const ProcessView& p) {
                auto b = p.beliefs.find(csi.id);
                return b != p.beliefs.end() && b->second == model::HaState::kActive && p.current &&
                       p.registered && !p.hung && !p.stuck;
              });
      }
      if (all) ++served;
    }
    return static_cast<double>(served) / static_cast<double>(sg->sis.size());
  };
  // The active component of the first CSI of the first SI, when a fault strikes.
  auto active = [&]() -> std::optional<ProcessView> {
    if (sg->sis.empty() || sg->sis.front().csis.empty()) return std::nullopt;
    for (const ProcessView& p : sim.processes()) {
      auto b = p.beliefs.find(sg->sis.front().csis.front().id);
      if (b != p.beliefs.end() && b->second == model::HaState::kActive && p.current &&
          p.registered && !p.hung && !p.stuck) {
        return p;
      }
    }
    return std::nullopt;
  };
  auto strike = [&](const ScheduledFault& f) -> std::string {
    if (f.fault == DrillFault::kSandboxDeath) return "amf runs no sandbox (skipped)";
    const std::optional<ProcessView> p = active();
    if (!p) return "no active to strike (skipped)";
    switch (f.fault) {
      case DrillFault::kComponentCrash:
        sim.crash(p->comp);
        break;
      case DrillFault::kComponentHang:
        sim.hang(p->comp);
        break;
      case DrillFault::kNodeCrash:
        sim.crash_node(p->node);
        break;
      case DrillFault::kCrashLoop:
        sim.fail_starts(p->comp, f.count);
        sim.crash(p->comp);
        break;
      case DrillFault::kSandboxDeath:
        break;
    }
    return "";
  };
  const Stats before = sim.stats();
  observe(
      out, settings, TimePoint(fault_at(settings)), [&](TimePoint t) { sim.run_until(t); },
      fraction, strike, [&] { return sim.stats().process_starts; });
  const Stats after = sim.stats();
  if (sg->redundancy == model::RedundancyModel::kNWayActive) {
    out.no_state = "an N-way-active SG has no checkpoint";
  } else {
    out.writes = after.checkpoint_acks - before.checkpoint_acks;
    out.reads = after.checkpoint_reads - before.checkpoint_reads;
    out.empty_starts = after.checkpoint_lost_with_replicas + after.checkpoint_lost_silent -
                       before.checkpoint_lost_with_replicas - before.checkpoint_lost_silent;
  }
  out.trace_tail = sim.trace().tail(200);
  return out;
}

DrillOutcome drill_kubernetes(std::shared_ptr<const model::ClusterConfig> config,
                              const DrillSettings& settings, const KubernetesOptions& options) {
  DrillOutcome out;
  const model::SgConfig* sg = find_sg(*config, settings.sg);
  if (sg == nullptr) return out;
  out.controller = "kubernetes (" + options.parameters.profile + ")";
  KubernetesRun run(config, options, settings.seed);
  run.run_for(client_start(settings));
  auto strike = [&](const ScheduledFault& f) -> std::string {
    bool struck = false;
    switch (f.fault) {
      case DrillFault::kComponentCrash:
        struck = run.crash(sg->id);
        break;
      case DrillFault::kComponentHang:
        struck = run.hang(sg->id);
        break;
      case DrillFault::kSandboxDeath:
        struck = run.kill_sandbox(sg->id);
        break;
      case DrillFault::kNodeCrash:
        struck = run.crash_node(sg->id);
        break;
      case DrillFault::kCrashLoop:
        struck = run.crash_loop(sg->id, f.count);
        break;
    }
    return struck ? "" : "no pod serving to strike (skipped)";
  };
  observe(
      out, settings, TimePoint(fault_at(settings)), [&](TimePoint t) { run.run_until(t); },
      [&] { return run.served_fraction(sg->id); }, strike, [&] { return run.starts(); },
      [&] { run.write(sg->id); });
  run.settle_state();
  out.writes = run.state().writes;
  out.empty_starts = run.state().empty_starts;
  out.writes_lost = run.state().lost;
  out.trace_tail = run.trace().tail(200);
  return out;
}

}  // namespace amf::sim
