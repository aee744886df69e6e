// The SA Forum AMF C API (libSaAmf) end to end: a C component written the way OpenSAF users
// write them (tests/integration/saf/sa_demo.c: daemonized, a PID file, poll with no timeout,
// one dispatch per wake-up) run by the real amfd as a 2N pair, through assignment, a
// graceful shutdown (quiescing, then quiescing complete), a crash and lock-instantiation (the
// terminate callback). The component logs every callback it gets; the test reads the logs.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "tests/integration/amfd_fixture.h"

namespace amf::itest {
namespace {

std::string sa_yaml() {
  return "cluster:\n  name: itest\n"
         "nodes:\n  - name: node-1\n    controller: true\n"
         "applications:\n  - name: AmfDemo\n    service_groups:\n"
         "      - name: AmfDemo\n        redundancy: 2n\n"
         "        su_template:\n          nodes: [node-1, node-1]\n"
         "          components:\n            - name: AmfDemo\n"
         "              command: " +
         bin("sa-demo-component") +
         "\n"
         "              args: [sa-demo.pid]\n"
         "              pid_file: sa-demo.pid\n"
         "              env: {SA_DEMO_LOG: sa-demo.log,\n"  // in its own working directory
         "                    SA_DEMO_TRACK: \"safCsi=AmfDemo,safSi=AmfDemo,safApp=AmfDemo\"}\n"
         "              cs_types: [AmfDemo]\n"
         "              recovery: component-failover\n"
         "              timeouts: {instantiate_ms: 5000, csi_set_ms: 3000}\n"
         "              health_check: {key: AmfDemo, period_ms: 200, max_duration_ms: 1000}\n"
         "        service_instances:\n          - name: AmfDemo\n            csis:\n"
         "              - name: AmfDemo\n                cs_type: AmfDemo\n"
         "                attributes: {mode: [fast, safe], flag: []}\n";
}

class SaCApiTest : public AmfdTest {
 protected:
  std::string log_of(const std::string& su) {
    return slurp(work_dir(su + "/AmfDemo") + "/sa-demo.log");
  }
  static bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }
  Output amfctl(std::vector<std::string> args) {
    args.insert(args.begin(), {bin("amfctl"), "--runtime-dir", runtime()});
    return run(args, {}, std::chrono::seconds(60));
  }
};

TEST_F(SaCApiTest, AnOpenSafStyleCComponentRunsThroughItsLifeCycle) {
  start(sa_yaml());
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  const std::string csi = "safCsi=AmfDemo,safSi=AmfDemo,safApp=AmfDemo";
  const std::string active_dn = "safComp=AmfDemo,safSu=" + active.substr(active.find('/') + 1) +
                                ",safSg=AmfDemo,safApp=AmfDemo";

  // Assignment: the CSI by its DN, added, with its attributes (multi-valued, and without a
  // value); the standby is told which component is active; the health check runs with its key.
  std::string a = log_of(active);
  std::string s = log_of(standby);
  EXPECT_TRUE(has(a, "registered " + active_dn)) << a;
  EXPECT_TRUE(has(a, "csi-set add-one " + csi + " active\n  transition new-assign\n")) << a;
  EXPECT_TRUE(has(a, "  attr mode=fast\n  attr mode=safe\n")) << a;
  EXPECT_TRUE(has(a, "  attr flag=\n")) << a;
  EXPECT_TRUE(has(s, "csi-set add-one " + csi + " standby\n  active " + active_dn + "\n")) << s;
  EXPECT_TRUE(eventually([&] { return has(log_of(active), "healthcheck AmfDemo"); })) << a;
  // Each tracks the CSI's protection group (SA_TRACK_CURRENT, then changes only): it learns
  // who holds the CSI, as what.
  const std::string standby_dn = "safComp=AmfDemo,safSu=" + standby.substr(standby.find('/') + 1) +
                                 ",safSg=AmfDemo,safApp=AmfDemo";
  EXPECT_TRUE(eventually([&] {
    const std::string log = log_of(active);
    return has(log, "pg " + csi + " 2 members") && has(log, "  " + active_dn + " active ") &&
           has(log, "  " + standby_dn + " standby ");
  })) << log_of(active);

  // A graceful shutdown of the active SU: quiescing, answered at once, then quiescing complete,
  // after which the component's own HA state is quiesced; the standby takes over as after a
  // switchover, and the old active's CSI is removed.
  Output shutdown = amfctl({"shutdown", "su", active});
  ASSERT_EQ(shutdown.exit_code, 0) << shutdown.err;
  EXPECT_TRUE(eventually([&] {
    return has(log_of(standby), "csi-set target-one " + csi + " active\n  transition quiesced");
  })) << log_of(standby);
  a = log_of(active);
  EXPECT_TRUE(has(a, "csi-set target-one " + csi + " quiescing\n")) << a;
  EXPECT_TRUE(has(a, "quiescing-complete, now quiesced\n")) << a;
  EXPECT_TRUE(eventually([&] { return has(log_of(active), "csi-remove target-one " + csi); }))
      << log_of(active);
  ASSERT_EQ(amfctl({"unlock", "su", active}).exit_code, 0);
  auto [active2, standby2] = settled_pair();
  ASSERT_EQ(active2, standby);
  ASSERT_EQ(standby2, active);

  // A crash of the active: its standby takes over, told that the active did not hand over.
  auto st = status();
  ASSERT_TRUE(st);
  const int pid = pid_of(*st, active2);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_TRUE(eventually([&] {
    return has(log_of(standby2),
               "csi-set target-one " + csi + " active\n  transition not-quiesced");
  })) << log_of(standby2);
  auto [active3, standby3] = settled_pair();
  EXPECT_EQ(active3, standby2);
  // The survivor's tracking saw the dead one leave the group and itself become active.
  const std::string dead_dn = "safComp=AmfDemo,safSu=" + active2.substr(active2.find('/') + 1) +
                              ",safSg=AmfDemo,safApp=AmfDemo";
  const std::string survivor_dn =
      "safComp=AmfDemo,safSu=" + standby2.substr(standby2.find('/') + 1) +
      ",safSg=AmfDemo,safApp=AmfDemo";
  EXPECT_TRUE(eventually([&] {
    const std::string log = log_of(standby2);
    return has(log, "  " + dead_dn + " active removed") &&
           has(log, "  " + survivor_dn + " active state-change");
  })) << log_of(standby2);

  // lock-instantiation terminates through the terminate callback, not SIGTERM.
  ASSERT_EQ(amfctl({"lock", "su", standby3}).exit_code, 0);
  Output lock_inst = amfctl({"lock-instantiation", "su", standby3});
  ASSERT_EQ(lock_inst.exit_code, 0) << lock_inst.err;
  EXPECT_TRUE(has(log_of(standby3), "terminate safComp=AmfDemo,safSu=")) << log_of(standby3);
  st = status();
  ASSERT_TRUE(st);
  EXPECT_EQ(su_field(*st, standby3, &wire::ServiceUnitStatus::presence_state), "uninstantiated");
  Output events = amfctl({"events"});
  EXPECT_FALSE(has(events.out, "cleaning up")) << events.out;
}

}  // namespace
}  // namespace amf::itest
