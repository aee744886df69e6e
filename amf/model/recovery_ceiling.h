#pragma once

#include <chrono>

#include "amf/core/time.h"

namespace amf::model {

// Hard ceilings on automatic recovery. The escalation settings (comp_restart_max,
// su_restart_max, su_failover_max and their probations) are the policy and the operator's to
// tune, but they cannot be trusted to end a failure that repeats every time: maxima can be
// raised, and a probation window shorter than one recovery cycle never sees its maximum
// exceeded (with the defaults, more than 10 restarts within 4 s, a component that takes 0.4 s
// or more to fail again after each restart is restarted for ever, while the SI its SU holds
// goes unserved). A component that fails each CSI set is then restarted, or failed over and
// auto-repaired, without end, at thousands of events a second. These ceilings end such a loop
// whatever the configuration says; they are not configurable.
//
//   Node director: at most kSuRestartCeiling restarts in place of one SU (component restarts,
//   SU restarts, instantiation attempts after the first) without kRecoveryCeilingQuiet between
//   two of them. Past it a failure escalates to an SU failover (counted towards the node's
//   su_failover_max like any other), and a failed instantiation is not retried: the SU is
//   instantiation-failed, which is never auto-repaired. An SU failover starts the count
//   afresh.
//   Director: at most kSuAutoRepairCeiling auto-repairs of one SU without
//   kRecoveryCeilingQuiet between two. Past it the SU stays disabled, left for the operator
//   with a notification that says why and that `amfctl repair su ...` clears it. Its SG goes
//   on with its other SUs and stops failing over to this one.
//
// So, whatever the configuration, an SU is recovered at most (kSuAutoRepairCeiling + 1) x
// (kSuRestartCeiling + 1) times without a quiet period, and an SG or a node at most that many
// times per SU it has. The repair admin operation, and the SU's node leaving the cluster and
// coming back, clear the director's count. kSuRestartCeiling is the 10 x 10 restarts the default
// escalation allows before an SU failover; kSuAutoRepairCeiling twice the default
// su_failover_max, which the default node escalation reaches first.
//
// A count is forgotten only once a whole quiet period has passed without a recovery (as
// Pacemaker's failure-timeout), not at the end of a window that started at the first: so a
// failure that recurs more often than once per quiet period always reaches the ceiling,
// however slowly each attempt fails (a health check that fails every 10 s, a CSI set that
// times out after 30 s). A failure rarer than that is recovered for ever: between two, the SU
// served for the whole period.
inline constexpr int kSuRestartCeiling = 100;
inline constexpr int kSuAutoRepairCeiling = 20;
inline constexpr std::chrono::minutes kRecoveryCeilingQuiet{10};

// Recoveries counted since the last quiet period.
class RecoveryStreak {
 public:
  // Counts one more recovery at `now`; true when that makes more than `ceiling`.
  bool exceeded(TimePoint now, int ceiling, Duration quiet = kRecoveryCeilingQuiet) {
    if (count_ > 0 && now - last_ >= quiet) count_ = 0;
    last_ = now;
    return ++count_ > ceiling;
  }
  int count() const { return count_; }
  void reset() { count_ = 0; }

 private:
  int count_ = 0;
  TimePoint last_{};
};

}  // namespace amf::model
