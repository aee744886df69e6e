// The real amfd, amfctl and demo component, on loopback and temp directories.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <zmq.hpp>

#include "amf/core/hex.h"
#include "amf/wire/codec.h"
#include "tests/integration/amfd_fixture.h"

namespace amf::itest {
namespace {

TEST_F(AmfdTest, TwoNStandbyTakesOverWhenActiveIsKilledAndFailedSuReturnsAsStandby) {
  start(cluster_yaml(free_port()));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty()) << "no active+standby pair";
  ASSERT_FALSE(standby.empty());
  auto before = status();
  ASSERT_TRUE(before);
  // Each component's CSIs with its HA state, in the status and in amfctl's table.
  for (const auto& [su, ha] : {std::pair{active, "active"}, std::pair{standby, "standby"}}) {
    for (const auto& u : before->service_groups.at(0).service_units) {
      if (u.name != su) continue;
      ASSERT_EQ(u.components.at(0).csis.size(), 1u) << su;
      EXPECT_EQ(u.components[0].csis[0].csi, "counter/si-1/endpoint");
      EXPECT_EQ(u.components[0].csis[0].ha_state, ha);
    }
  }
  Output table = run({bin("amfctl"), "--runtime-dir", runtime(), "status"});
  EXPECT_NE(table.out.find("CSIS"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("counter/si-1/endpoint standby"), std::string::npos) << table.out;
  const int victim = pid_of(*before, active);
  ASSERT_GT(victim, 0);

  ASSERT_EQ(::kill(victim, SIGKILL), 0);

  std::optional<wire::ClusterStatus> after;
  const bool swapped = eventually([&] {
    after = status();
    return after && holder(*after, "active") == standby && holder(*after, "standby") == active;
  });
  ASSERT_TRUE(swapped) << "roles did not swap";
  EXPECT_NE(pid_of(*after, active), victim);  // the failed SU runs a new process
  EXPECT_EQ(su_field(*after, active, &wire::ServiceUnitStatus::oper_state), "enabled");
  EXPECT_EQ(su_field(*after, active, &wire::ServiceUnitStatus::readiness_state), "in-service");

  // The event log tells the story, with the cause.
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_EQ(events.exit_code, 0);
  EXPECT_NE(events.out.find("killed by signal 9"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("auto-repair"), std::string::npos) << events.out;
  // The returning SU's counter was told, through the component library, whom it stands by for.
  std::string log_name = active + "/server.log";
  std::replace(log_name.begin(), log_name.end(), '/', '_');
  const std::string told = "standby (new) of " + standby + "/server on node-1";
  EXPECT_TRUE(eventually([&] {
    return slurp(runtime() + "/log/" + log_name).find(told) != std::string::npos;
  })) << slurp(runtime() + "/log/" + log_name);
  EXPECT_EQ(stop(), 0);
}

TEST_F(AmfdTest, AStoppingAmfdQuiescesTheActiveBeforeItTerminatesComponents) {
  // It used to send SIGTERM to an active that still held its assignment: amfd now has the
  // director move the node's assignments away first (with several nodes, that switches the
  // work over to other nodes), then terminates.
  start(cluster_yaml(free_port()));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  EXPECT_EQ(stop(), 0);
  const std::string log = slurp(dir_.path() + "/amfd.err");
  const auto quiesced = log.find("ha-state " + active + " counter/si-1 active -> quiesced");
  const auto locked = log.find("node node-1 holds no assignment any more: terminating components");
  const auto terminated = log.find("terminating (node shutdown)");
  ASSERT_NE(quiesced, std::string::npos) << log;
  ASSERT_NE(locked, std::string::npos) << log;
  ASSERT_NE(terminated, std::string::npos) << log;
  EXPECT_LT(quiesced, locked);
  EXPECT_LT(locked, terminated);
}

TEST_F(AmfdTest, NoRedundancyComponentRestartKeepsTheSiOnItsSu) {
  start(cluster_yaml(free_port(), "no-redundancy", 1, "component-restart"));
  std::string su;
  int pid = 0;
  ASSERT_TRUE(eventually([&] {
    auto s = status();
    if (!s) return false;
    su = holder(*s, "active");
    pid = su.empty() ? 0 : pid_of(*s, su);
    return pid > 0;
  }));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_TRUE(eventually([&] {
    auto s = status();
    return s && holder(*s, "active") == su && pid_of(*s, su) > 0 && pid_of(*s, su) != pid;
  }));
}

TEST_F(AmfdTest, ComponentThatCannotStartEndsInstantiationFailedAndAmfdKeepsRunning) {
  start(cluster_yaml(free_port(), "2n", 2, "component-failover", "/nonexistent/amf-component"));
  std::optional<wire::ClusterStatus> s;
  ASSERT_TRUE(eventually([&] {
    s = status();
    return s && su_field(*s, "counter/su-1", &wire::ServiceUnitStatus::presence_state) ==
                    "instantiation-failed";
  }));
  EXPECT_EQ(su_field(*s, "counter/su-1", &wire::ServiceUnitStatus::oper_state), "disabled");
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("cannot run '/nonexistent/amf-component': No such file or directory"),
            std::string::npos)
      << events.out;
}

TEST_F(AmfdTest, ShutdownTerminatesComponentsRemovesSocketsAndNotifiesSystemd) {
  // A NOTIFY_SOCKET of our own, as systemd would provide.
  const std::string notify_path = dir_.path() + "/notify.sock";
  const int notify = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", notify_path.c_str());
  ASSERT_EQ(::bind(notify, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string received;
  auto read_notify = [&] {
    char buf[512];
    pollfd p{notify, POLLIN, 0};
    while (::poll(&p, 1, 0) > 0) {
      const ssize_t n = ::recv(notify, buf, sizeof buf, 0);
      if (n > 0) received.append(buf, static_cast<std::size_t>(n)).append("\n");
    }
  };

  start(cluster_yaml(free_port()), {{"NOTIFY_SOCKET", notify_path}});
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  auto s = status();
  const int p1 = pid_of(*s, active), p2 = pid_of(*s, standby);
  read_notify();
  EXPECT_NE(received.find("READY=1"), std::string::npos) << received;

  EXPECT_EQ(stop(), 0);
  read_notify();
  EXPECT_NE(received.find("STOPPING=1"), std::string::npos) << received;
  EXPECT_FALSE(process_exists(p1));
  EXPECT_FALSE(process_exists(p2));
  EXPECT_FALSE(fs::exists(runtime() + "/admin.sock"));
  EXPECT_FALSE(fs::exists(runtime() + "/components.sock"));
  ::close(notify);
}

TEST_F(AmfdTest, SecondAmfdOnTheSameRuntimeDirectoryIsRefused) {
  start(cluster_yaml(free_port()));
  ASSERT_TRUE(eventually([&] { return status().has_value(); }));
  Output second =
      run({bin("amfd"), "--config", dir_.path() + "/cluster.yaml", "--runtime-dir", runtime()});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("another amfd is running with runtime directory " + runtime()),
            std::string::npos)
      << second.err;
  EXPECT_TRUE(status().has_value());  // the first one is untouched
}

TEST_F(AmfdTest, ImpostorAndGarbageOnTheComponentSocketChangeNothing) {
  start(cluster_yaml(free_port()));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());

  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 0);
  sock.set(zmq::sockopt::rcvtimeo, 5000);
  sock.connect("ipc://" + runtime() + "/components.sock");
  // Garbage first: amfd logs it and carries on.
  sock.send(zmq::str_buffer("\xff\xfe not protobuf"), zmq::send_flags::none);
  // Then a registration under the name of the running active component.
  const std::string claim = active + "/server";
  sock.send(zmq::buffer(wire::encode(wire::ComponentMessage{wire::RegisterRequest{claim, 1}})),
            zmq::send_flags::none);
  zmq::message_t reply;
  ASSERT_TRUE(sock.recv(reply));
  auto decoded = wire::decode_component_message(reply.to_string_view());
  ASSERT_TRUE(decoded);
  const auto* r = std::get_if<wire::RegisterReply>(&*decoded);
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->ok);
  // Refused before the node director sees it: this process is not the component's.
  EXPECT_EQ(r->error, "registration as " + claim + " refused: process " +
                          std::to_string(::getpid()) +
                          " is not one that amfd started for this component");
  // A response to a callback nobody sent.
  sock.send(zmq::buffer(wire::encode(wire::ComponentMessage{wire::Response{424242, true, ""}})),
            zmq::send_flags::none);

  auto after = settled_pair();
  EXPECT_EQ(after.first, active);
  EXPECT_EQ(after.second, standby);
  EXPECT_NE(slurp(dir_.path() + "/amfd.err").find("malformed component message"),
            std::string::npos);
}

TEST_F(AmfdTest, AdminOperationsThroughAmfctl) {
  start(cluster_yaml(free_port()));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  auto amfctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {bin("amfctl"), "--runtime-dir", runtime()});
    return run(args, {}, std::chrono::seconds(90));
  };

  Output swap = amfctl({"si-swap", "counter/si-1"});
  EXPECT_EQ(swap.exit_code, 0) << swap.err;
  EXPECT_EQ(swap.out, "si-swap si counter/si-1: done\n");
  auto [a1, s1] = settled_pair();
  EXPECT_EQ(a1, standby);
  EXPECT_EQ(s1, active);

  // Lock the (new) active: the other SU takes over by switchover.
  Output lock = amfctl({"lock", "su", a1});
  EXPECT_EQ(lock.exit_code, 0) << lock.err;
  auto s = status();
  ASSERT_TRUE(s);
  EXPECT_EQ(holder(*s, "active"), s1);
  EXPECT_EQ(holder(*s, "standby"), "");
  EXPECT_EQ(su_field(*s, a1, &wire::ServiceUnitStatus::admin_state), "locked");

  // Refusals: a clear message, exit 1, nothing changed.
  Output again = amfctl({"lock", "su", a1});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "amfctl: lock su " + a1 + ": it is already locked\n");
  Output unknown = amfctl({"lock", "su", "counter/su-9"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err,
            "amfctl: lock su counter/su-9: no service unit named 'counter/su-9'; name a service "
            "unit as SG/SU or as safSu=SU,safSg=SG,safApp=APP\n");
  Output usage = amfctl({"frobnicate"});
  EXPECT_EQ(usage.exit_code, 2);

  // By its SA Forum DN, as an OpenSAF operator names it (safSu=su-N,safSg=counter,...).
  const std::string dn = "safSu=" + a1.substr(a1.find('/') + 1) + ",safSg=counter,safApp=counter";
  Output unlock = amfctl({"unlock", "su", dn});
  EXPECT_EQ(unlock.exit_code, 0) << unlock.err;
  EXPECT_EQ(unlock.out, "unlock su " + dn + ": done\n");
  auto [a2, s2] = settled_pair();
  EXPECT_EQ(a2, s1);
  EXPECT_EQ(s2, a1);

  // The node level: locking the only node takes the service down; unlocking brings it back.
  Output node_lock = amfctl({"lock", "node", "node-1"});
  EXPECT_EQ(node_lock.exit_code, 0) << node_lock.err;
  s = status();
  ASSERT_TRUE(s);
  EXPECT_EQ(holder(*s, "active"), "");
  // The lock is the node's: status shows it there, and the SUs keep their own state.
  ASSERT_EQ(s->nodes.size(), 1u);
  EXPECT_EQ(s->nodes[0].name, "node-1");
  EXPECT_EQ(s->nodes[0].admin_state, "locked");
  EXPECT_EQ(su_field(*s, a2, &wire::ServiceUnitStatus::admin_state), "unlocked");
  EXPECT_EQ(s->admin_state, "unlocked");
  ASSERT_EQ(s->applications.size(), 1u);
  EXPECT_EQ(s->applications[0].admin_state, "unlocked");
  Output shown = amfctl({"status"});
  EXPECT_NE(shown.out.find("node-1  locked"), std::string::npos) << shown.out;
  EXPECT_EQ(amfctl({"unlock", "node", "node-1"}).exit_code, 0);
  auto [a3, s3] = settled_pair();
  EXPECT_FALSE(a3.empty());
  EXPECT_EQ(amfctl({"lock", "sg"}).exit_code, 2);  // a name is needed

  // Status shows each entity's own admin state: after a shutdown of the SG, the SG is locked
  // and its SUs are not (an unlock of one is refused as already unlocked, which status agrees
  // with), and an SI's own state is shown beside it.
  Output sg_shutdown = amfctl({"shutdown", "sg", "counter"});
  EXPECT_EQ(sg_shutdown.exit_code, 0) << sg_shutdown.err;
  s = status();
  ASSERT_TRUE(s);
  ASSERT_EQ(s->service_groups.size(), 1u);
  EXPECT_EQ(s->service_groups[0].admin_state, "locked");
  EXPECT_EQ(su_field(*s, a3, &wire::ServiceUnitStatus::admin_state), "unlocked");
  EXPECT_EQ(su_field(*s, s3, &wire::ServiceUnitStatus::admin_state), "unlocked");
  EXPECT_EQ(su_field(*s, a3, &wire::ServiceUnitStatus::readiness_state), "out-of-service");
  EXPECT_EQ(s->service_groups[0].service_instances.at(0).admin_state, "unlocked");
  Output su_unlock = amfctl({"unlock", "su", a3});
  EXPECT_EQ(su_unlock.exit_code, 1);
  EXPECT_EQ(su_unlock.err, "amfctl: unlock su " + a3 + ": it is already unlocked\n");
  Output table = amfctl({"status"});
  EXPECT_NE(table.out.find("Service group counter (2n), locked"), std::string::npos) << table.out;
  EXPECT_EQ(amfctl({"unlock", "sg", "counter"}).exit_code, 0);
  std::tie(a3, s3) = settled_pair();
  EXPECT_FALSE(a3.empty());

  // The SI level: a locked SI is assigned nowhere; lock-instantiation does not apply to it.
  Output si_lock = amfctl({"lock", "si", "counter/si-1"});
  EXPECT_EQ(si_lock.exit_code, 0) << si_lock.err;
  s = status();
  ASSERT_TRUE(s);
  EXPECT_EQ(holder(*s, "active"), "");
  EXPECT_EQ(holder(*s, "standby"), "");
  Output si_inst = amfctl({"lock-instantiation", "si", "counter/si-1"});
  EXPECT_EQ(si_inst.exit_code, 1);
  EXPECT_NE(si_inst.err.find("does not apply to a service instance"), std::string::npos)
      << si_inst.err;
  EXPECT_EQ(amfctl({"unlock", "si", "counter/si-1"}).exit_code, 0);
  auto [a4, s4] = settled_pair();
  EXPECT_FALSE(a4.empty());

  // Restart: the standby SU's process is replaced, and it is the standby again.
  s = status();
  ASSERT_TRUE(s);
  const int old_pid = pid_of(*s, s4);
  Output restart = amfctl({"restart", "su", s4});
  EXPECT_EQ(restart.exit_code, 0) << restart.err;
  auto [a5, s5] = settled_pair();
  EXPECT_EQ(a5, a4);
  EXPECT_EQ(s5, s4);
  s = status();
  ASSERT_TRUE(s);
  EXPECT_NE(pid_of(*s, s4), old_pid);
  EXPECT_GT(pid_of(*s, s4), 0);
  Output bad = amfctl({"restart", "comp", "counter/su-1/nope"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err,
            "amfctl: restart comp counter/su-1/nope: no component named 'counter/su-1/nope'; "
            "name a component as SG/SU/COMPONENT or as "
            "safComp=COMPONENT,safSu=SU,safSg=SG,safApp=APP\n");
}

// amfctl ckpt: the counter's checkpoint on this node, its section, and what it refuses.
TEST_F(AmfdTest, AmfctlShowsTheCheckpointsThisNodeHolds) {
  const int port = free_port();
  start(cluster_yaml(port));
  ASSERT_FALSE(settled_pair().first.empty());
  ASSERT_EQ(ask(port, "INC"), "1\n");
  ASSERT_EQ(ask(port, "INC"), "2\n");
  const std::string name = "counter-" + std::to_string(port);
  auto amfctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {bin("amfctl"), "--runtime-dir", runtime()});
    return run(args);
  };
  Output list = amfctl({"ckpt", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("CHECKPOINT"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(name + "  synchronous  active"), std::string::npos) << list.out;
  Output show = amfctl({"ckpt", "show", name});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("checkpoint " + name +
                          " on node node-1: synchronous, at most 1 "
                          "sections of 32 bytes"),
            std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("value    1      never"), std::string::npos) << show.out;
  Output json = amfctl({"ckpt", "show", name, "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"id_text\": \"value\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"active\": true"), std::string::npos) << json.out;
  Output none = amfctl({"ckpt", "show", "nope"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.err, "amfctl: node node-1 holds no checkpoint 'nope'\n");
}

TEST_F(AmfdTest, HungActiveIsCaughtByItsHealthCheckAndFailedOver) {
  const int port = free_port();
  std::string yaml = cluster_yaml(port);
  const std::string recovery_line = "              recovery: component-failover\n";
  yaml.replace(
      yaml.find(recovery_line), recovery_line.size(),
      recovery_line +
          "              health_check: {key: alive, period_ms: 200, max_duration_ms: 200}\n");
  start(yaml);
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  EXPECT_EQ(ask(port, "HANG"), "hanging\n");  // the process lives on, its loop is stuck
  EXPECT_TRUE(eventually([&] {
    auto s = status();
    return s && holder(*s, "active") == standby && holder(*s, "standby") == active;
  })) << "the hung active was not failed over";
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("health check 'alive' not answered within 200 ms"), std::string::npos)
      << events.out;
}

TEST_F(AmfdTest, ComponentErrorReportFailsItOver) {
  const int port = free_port();
  start(cluster_yaml(port));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  EXPECT_EQ(ask(port, "FAIL"), "reporting an error\n");
  EXPECT_TRUE(eventually([&] {
    auto s = status();
    return s && holder(*s, "active") == standby && holder(*s, "standby") == active;
  }));
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("error report: asked to fail by a client"), std::string::npos)
      << events.out;
}

// ---- one test per redundancy model beyond 2N and no-redundancy ----

// A cluster of `sus` SUs of the demo counter and one SI per port; `sg_extra` and `si_extra`
// are YAML lines added to the SG and to every SI (indented to fit).
std::string model_yaml(const std::string& redundancy, int sus, const std::vector<int>& ports,
                       const std::string& sg_extra, const std::string& si_extra,
                       const std::string& csi_extra = "") {
  std::string nodes = "[";
  for (int i = 0; i < sus; ++i) nodes += std::string(i ? ", " : "") + "node-1";
  std::string yaml =
      "cluster: {name: itest}\n"
      "nodes: [{name: node-1, controller: true}]\n"
      "applications:\n  - name: counter\n    service_groups:\n"
      "      - name: counter\n        redundancy: " +
      redundancy + "\n" + sg_extra + "        su_template:\n          nodes: " + nodes +
      "]\n"
      "          components:\n            - name: server\n"
      "              command: amf-demo-counter\n"
      "              cs_types: [counter]\n"
      "        service_instances:\n";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    yaml += "          - name: si-" + std::to_string(i + 1) + "\n" + si_extra +
            "            csis:\n              - name: endpoint\n                cs_type: counter\n"
            "                attributes: {port: \"" +
            std::to_string(ports[i]) + "\"" + csi_extra + "}\n";
  }
  return yaml;
}

// HA state -> SUs, for one SI.
std::map<std::string, std::vector<std::string>> roles(const wire::ClusterStatus& s,
                                                      const std::string& si) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& sg : s.service_groups) {
    for (const auto& i : sg.service_instances) {
      if (i.name != si) continue;
      for (const auto& a : i.assignments) out[a.ha_state].push_back(a.service_unit);
    }
  }
  return out;
}

class AmfdModelTest : public AmfdTest {
 protected:
  // Waits until the SG is settled and every SI has `actives` actives and `standbys` standbys.
  std::optional<wire::ClusterStatus> settled(int sis, std::size_t actives, std::size_t standbys) {
    std::optional<wire::ClusterStatus> out;
    eventually([&] {
      out = status();
      if (!out || out->service_groups.empty() || out->service_groups[0].busy) return false;
      for (int i = 1; i <= sis; ++i) {
        auto r = roles(*out, "counter/si-" + std::to_string(i));
        if (r["active"].size() != actives || r["standby"].size() != standbys) return false;
      }
      return true;
    });
    return out;
  }
};

TEST_F(AmfdModelTest, NPlusMFailsAnActiveSusSiOverToTheStandbySu) {
  const std::vector<int> ports{free_port(), free_port()};
  start(model_yaml("n+m", 3, ports,
                   "        preferred_active_sus: 2\n        preferred_standby_sus: 1\n", ""));
  auto s = settled(2, 1, 1);
  ASSERT_TRUE(s);
  const std::string victim = roles(*s, "counter/si-1")["active"].at(0);
  const std::string standby = roles(*s, "counter/si-1")["standby"].at(0);
  ASSERT_EQ(ask(ports[0], "INC"), "1\n");
  ::kill(pid_of(*s, victim), SIGKILL);
  EXPECT_TRUE(eventually([&] {
    auto now = status();
    return now && !now->service_groups[0].busy &&
           roles(*now, "counter/si-1")["active"] == std::vector<std::string>{standby};
  }));
  EXPECT_EQ(ask(ports[0], "INC"), "2\n");  // served by the promoted standby, state kept
  EXPECT_EQ(ask(ports[1], "GET").empty(), false);
}

TEST_F(AmfdModelTest, NWayPromotesTheSisStandbyAndKeepsOneActivePerSi) {
  const std::vector<int> ports{free_port(), free_port()};
  start(model_yaml("n-way", 3, ports, "", "            preferred_standby_assignments: 1\n"));
  auto s = settled(2, 1, 1);
  ASSERT_TRUE(s);
  const std::string victim = roles(*s, "counter/si-2")["active"].at(0);
  const std::string standby = roles(*s, "counter/si-2")["standby"].at(0);
  ::kill(pid_of(*s, victim), SIGKILL);
  EXPECT_TRUE(eventually([&] {
    auto now = status();
    return now && !now->service_groups[0].busy &&
           roles(*now, "counter/si-2")["active"] == std::vector<std::string>{standby};
  }));
  auto after = settled(2, 1, 1);  // and every SI is fully protected again
  ASSERT_TRUE(after);
  EXPECT_EQ(ask(ports[1], "INC"), "1\n");
}

TEST_F(AmfdModelTest, NWayActiveKeepsServingWhenOneActiveDies) {
  const std::vector<int> ports{free_port()};
  start(model_yaml("n-way-active", 2, ports, "", "            preferred_active_assignments: 2\n",
                   ", shared: \"true\""));
  auto s = settled(1, 2, 0);
  ASSERT_TRUE(s) << "both SUs should be active for the SI";
  ASSERT_EQ(ask(ports[0], "INC"), "1\n");
  const auto actives = roles(*s, "counter/si-1")["active"];
  ::kill(pid_of(*s, actives.at(0)), SIGKILL);
  // The other active serves on, from the shared state. A connection may still reach the dying
  // listener before the kernel has closed it, so the client retries, as a real one would.
  std::string reply;
  EXPECT_TRUE(eventually([&] { return (reply = ask(ports[0], "INC")) == "2\n"; }))
      << "last reply: " << reply;
  EXPECT_TRUE(settled(1, 2, 0).has_value()) << "the killed SU should come back active";
}

// Preferred in-service SUs: of three 2N SUs two run; the third is a spare that amfd starts
// when one of the two is locked.
TEST_F(AmfdModelTest, SpareSuIsInstantiatedOnlyWhenNeeded) {
  const std::vector<int> ports{free_port()};
  start(model_yaml("2n", 3, ports, "        preferred_inservice_sus: 2\n", ""));
  auto s = settled(1, 1, 1);
  ASSERT_TRUE(s);
  std::vector<std::string> spares;
  for (const char* su : {"counter/su-1", "counter/su-2", "counter/su-3"}) {
    if (su_field(*s, su, &wire::ServiceUnitStatus::presence_state) == "uninstantiated") {
      spares.push_back(su);
    }
  }
  ASSERT_EQ(spares, std::vector<std::string>{"counter/su-3"});
  EXPECT_EQ(pid_of(*s, "counter/su-3"), 0);
  const std::string standby = roles(*s, "counter/si-1")["standby"].at(0);
  Output lock = run({bin("amfctl"), "--runtime-dir", runtime(), "lock", "su", standby});
  EXPECT_EQ(lock.exit_code, 0) << lock.out << lock.err;
  auto after = settled(1, 1, 1);
  ASSERT_TRUE(after);
  EXPECT_EQ(roles(*after, "counter/si-1")["standby"], std::vector<std::string>{"counter/su-3"});
  EXPECT_GT(pid_of(*after, "counter/su-3"), 0);
}

// ---- components in OCI containers (real runc) ----

std::string container_yaml(int port) {
  std::string yaml = cluster_yaml(port);
  const std::string cs = "              cs_types: [counter]\n";
  yaml.replace(yaml.find(cs), cs.size(),
               cs + "              runtime: oci\n"
                    "              container: {memory_limit_mb: 256, pids_limit: 64}\n");
  return yaml;
}

// What runc and the bundle directory still hold under amfd's runtime directory.
std::string containers_left(const std::string& runtime_dir) {
  Output list = run({"runc", "--root", runtime_dir + "/containers/runc", "list", "-q"});
  std::string out = list.out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(runtime_dir + "/containers/bundles", ec)) {
    out += "bundle " + e.path().filename().string() + "\n";
  }
  return out;
}

TEST_F(AmfdTest, TwoNPairOfContainersFailsOverAndLeavesNothingBehind) {
  const int port = free_port();
  start(container_yaml(port));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty()) << "no active+standby pair of containers";
  ASSERT_EQ(ask(port, "INC"), "1\n");
  auto before = status();
  ASSERT_TRUE(before);
  const int victim = pid_of(*before, active);  // the container's init: the counter itself
  ASSERT_GT(victim, 0);
  // It runs in its own pid namespace: pid 1 in there.
  const std::string nspid = slurp("/proc/" + std::to_string(victim) + "/status");
  EXPECT_NE(nspid.find("NSpid:\t" + std::to_string(victim) + "\t1"), std::string::npos) << nspid;
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  EXPECT_TRUE(eventually([&] {
    auto s = status();
    return s && holder(*s, "active") == standby && holder(*s, "standby") == active;
  }));
  EXPECT_EQ(ask(port, "INC"), "2\n");  // served by the other container, state kept
  EXPECT_EQ(stop(), 0);
  EXPECT_EQ(containers_left(runtime()), "");
}

TEST_F(AmfdTest, OrphanContainersOfAKilledAmfdAreRemovedAtTheNextStart) {
  const int port = free_port();
  start(container_yaml(port));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  auto before = status();
  ASSERT_TRUE(before);
  const int orphan = pid_of(*before, active);
  ::kill(amfd_, SIGKILL);
  ::waitpid(amfd_, nullptr, 0);
  amfd_ = -1;
  EXPECT_NE(containers_left(runtime()), "");  // the containers outlived it
  start(container_yaml(port));
  auto [a2, s2] = settled_pair();
  EXPECT_FALSE(a2.empty());
  EXPECT_TRUE(eventually([&] { return ::kill(orphan, 0) != 0; }));  // the old one is gone
  EXPECT_NE(slurp(dir_.path() + "/amfd.err").find("removed orphan container"), std::string::npos);
  EXPECT_EQ(stop(), 0);
  EXPECT_EQ(containers_left(runtime()), "");
}

// ---- components that do not link our library: sd_notify ----

std::string notify_yaml(int port, int ready_delay_ms) {
  return "cluster: {name: itest}\n"
         "nodes: [{name: node-1, controller: true}]\n"
         "applications:\n  - name: web\n    service_groups:\n"
         "      - name: web\n        redundancy: no-redundancy\n"
         "        su_template:\n          nodes: [node-1]\n"
         "          components:\n            - name: server\n"
         "              command: amf-demo-notify\n"
         "              args: [\"" +
         std::to_string(port) + "\", \"" + std::to_string(ready_delay_ms) +
         "\"]\n"
         "              cs_types: [web]\n"
         "              instantiated_when: notified\n"
         "              watchdog_ms: 400\n"
         "              recovery: component-restart\n"
         "              timeouts: {instantiate_ms: 5000}\n"
         "        service_instances: [{name: si-1, csis: [{name: c, cs_type: web}]}]\n";
}

std::string component_presence(const wire::ClusterStatus& s) {
  return s.service_groups.empty() || s.service_groups[0].service_units.empty() ||
                 s.service_groups[0].service_units[0].components.empty()
             ? ""
             : s.service_groups[0].service_units[0].components[0].presence_state;
}

TEST_F(AmfdTest, NotifyComponentIsInstantiatedOnReadyAndRestartedWhenItsWatchdogStops) {
  const int port = free_port();
  start(notify_yaml(port, 300));
  // Not instantiated before it says READY=1 (300 ms after it started).
  std::optional<wire::ClusterStatus> s;
  ASSERT_TRUE(eventually([&] {
    s = status();
    return s && component_presence(*s) == "instantiating";
  }));
  ASSERT_TRUE(eventually([&] {
    s = status();
    return s && component_presence(*s) == "instantiated" &&
           !s->service_groups[0].service_instances[0].assignments.empty();
  }));
  const std::string first = ask(port, "PID");
  ASSERT_FALSE(first.empty());
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("READY=1"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("serving"), std::string::npos) << events.out;  // its STATUS=
  // It goes on running but stops its watchdog: amfd restarts it.
  EXPECT_EQ(ask(port, "HANG"), "hanging\n");
  EXPECT_TRUE(eventually([&] {
    const std::string now = ask(port, "PID");
    return !now.empty() && now != first;
  }));
  events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("no WATCHDOG=1 (sd_notify) within 400 ms"), std::string::npos)
      << events.out;
  EXPECT_NE(events.out.find("component-restart"), std::string::npos) << events.out;
}

TEST_F(AmfdTest, NotifyFromAProcessThatIsNotTheComponentIsIgnoredAndReported) {
  const int port = free_port();
  start(notify_yaml(port, 0));
  ASSERT_TRUE(eventually([&] {
    auto s = status();
    return s && component_presence(*s) == "instantiated";
  }));
  const std::string socket = runtime() + "/notify/web_su-1_server.notify";
  ASSERT_TRUE(fs::exists(socket));
  // This test process is not the component: it must not be able to speak for it.
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  const std::string lie = "WATCHDOG=trigger";
  ASSERT_EQ(
      ::sendto(fd, lie.data(), lie.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
      static_cast<ssize_t>(lie.size()));
  ::close(fd);
  EXPECT_TRUE(eventually([&] {
    Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
    return events.out.find("sd_notify from pid " + std::to_string(::getpid())) != std::string::npos;
  }));
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_EQ(events.out.find("WATCHDOG=trigger (sd_notify)"), std::string::npos) << events.out;
  EXPECT_EQ(events.out.find("component-restart"), std::string::npos) << events.out;
}

// ---- HA-state hooks: a 2N pair of ordinary daemons, promoted and demoted by hooks ----

std::string hooks_yaml(int port1, int port2) {
  auto su = [](int i, int port) {
    const std::string p = std::to_string(port);
    return "          - name: su-" + std::to_string(i) +
           "\n            node: node-1\n            rank: " + std::to_string(i) +
           "\n            components:\n              - name: server\n"
           "                command: amf-demo-notify\n                args: [\"" +
           p +
           "\"]\n"
           "                env: {PORT: \"" +
           p +
           "\"}\n"
           "                cs_types: [db]\n                instantiated_when: started\n"
           "                hooks:\n"
           "                  on_active: 'echo active > role.$PORT'\n"
           "                  on_standby: 'echo \"standby of $AMF_ACTIVE_SU at "
           "$AMF_ACTIVE_CSI_ADDRESS, $AMF_CSI_PRIMARY\" > role.$PORT'\n"
           "                  on_quiesced: 'echo quiesced > role.$PORT'\n"
           "                  on_remove: 'rm -f role.$PORT'\n";
  };
  return "cluster: {name: itest}\n"
         "nodes: [{name: node-1, controller: true}]\n"
         "applications:\n  - name: db\n    service_groups:\n"
         "      - name: db\n        redundancy: 2n\n        service_units:\n" +
         su(1, port1) + su(2, port2) +
         "        service_instances:\n          - name: si-1\n            csis:\n"
         "              - name: c\n                cs_type: db\n"
         "                attributes: {primary: main}\n"
         "                su_attributes:\n"  // where each SU's daemon listens
         "                  - {su: su-1, attributes: {address: \"127.0.0.1:" +
         std::to_string(port1) +
         "\"}}\n"
         "                  - {su: su-2, attributes: {address: \"127.0.0.1:" +
         std::to_string(port2) + "\"}}\n";
}

TEST_F(AmfdTest, TwoNPairOfOrdinaryDaemonsIsPromotedByItsHooks) {
  const int p1 = free_port(), p2 = free_port();
  start(hooks_yaml(p1, p2));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  const int active_port = active == "db/su-1" ? p1 : p2;
  const int standby_port = active == "db/su-1" ? p2 : p1;
  // The standby's hook is told its active: the SU, and the CSI's attributes as that SU has
  // them (su_attributes), besides its own.
  auto standby_of = [](const std::string& su, int port) {
    return "standby of " + su + " at 127.0.0.1:" + std::to_string(port) + ", main\n";
  };
  // Instantiated when started: a daemon may not be listening yet, so ask until it answers.
  EXPECT_TRUE(eventually([&] { return ask(active_port, "ROLE") == "active\n"; }));
  EXPECT_TRUE(eventually([&] {  // CSI attributes in the env
    return ask(standby_port, "ROLE") == standby_of(active, active_port);
  }));
  auto s = status();
  ASSERT_TRUE(s);
  ASSERT_EQ(::kill(pid_of(*s, active), SIGKILL), 0);
  EXPECT_TRUE(eventually([&] {
    auto now = status();
    return now && holder(*now, "active") == standby && holder(*now, "standby") == active;
  }));
  EXPECT_EQ(ask(standby_port, "ROLE"), "active\n");  // promoted by its on_active hook
  EXPECT_TRUE(
      eventually([&] { return ask(active_port, "ROLE") == standby_of(standby, standby_port); }));
  // A switchover runs on_quiesced on the old active first, then on_active on the new one.
  Output swap = run({bin("amfctl"), "--runtime-dir", runtime(), "si-swap", "db/si-1"});
  EXPECT_EQ(swap.exit_code, 0) << swap.err;
  EXPECT_EQ(ask(active_port, "ROLE"), "active\n");
  EXPECT_EQ(ask(standby_port, "ROLE"), standby_of(active, active_port));
}

TEST_F(AmfdTest, FailingHookIsAComponentFailure) {
  const int p1 = free_port(), p2 = free_port();
  std::string yaml = hooks_yaml(p1, p2);
  const std::string good = "on_active: 'echo active > role.$PORT'";
  yaml.replace(yaml.find(good), good.size(), "on_active: 'echo refusing; exit 3'");
  start(yaml);
  // su-1's component refuses to become active: it fails (component-failover) and su-2 gets
  // its chance, with the hook that works.
  EXPECT_TRUE(eventually([&] {
    auto s = status();
    return s && holder(*s, "active") == "db/su-2";
  }));
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("CSI set (active) of db/si-1/c failed (hook: exited with code 3)"),
            std::string::npos)
      << events.out;
}

// ---- liveness probes ----

std::string probe_yaml(int port, const std::string& probe) {
  return "cluster: {name: itest}\n"
         "nodes: [{name: node-1, controller: true}]\n"
         "applications:\n  - name: web\n    service_groups:\n"
         "      - name: web\n        redundancy: no-redundancy\n"
         "        su_template:\n          nodes: [node-1]\n"
         "          components:\n            - name: server\n"
         "              command: amf-demo-notify\n"
         "              args: [\"" +
         std::to_string(port) +
         "\"]\n"
         "              cs_types: [web]\n"
         "              instantiated_when: started\n"
         "              recovery: component-restart\n"
         "              probe: " +
         probe +
         "\n"
         "        service_instances: [{name: si-1, csis: [{name: c, cs_type: web}]}]\n";
}

TEST_F(AmfdTest, HttpProbeThatFailsRepeatedlyRestartsTheComponent) {
  const int port = free_port();
  start(probe_yaml(port, "{http_port: " + std::to_string(port) +
                             ", http_path: /healthz, period_ms: 200, timeout_ms: 500, "
                             "failure_threshold: 2}"));
  std::string first;
  ASSERT_TRUE(eventually([&] {
    first = ask(port, "PID");
    return !first.empty();
  }));
  EXPECT_EQ(ask(port, "HANG"), "hanging\n");  // its health endpoint now says 503
  EXPECT_TRUE(eventually([&] {
    const std::string now = ask(port, "PID");
    return !now.empty() && now != first;
  }));
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("liveness probe failed 2 times in a row, last: HTTP 503"),
            std::string::npos)
      << events.out;
}

TEST_F(AmfdTest, ExecAndTcpProbesOfAHealthyComponentChangeNothing) {
  const int port = free_port();
  start(probe_yaml(port,
                   "{exec: [/bin/sh, -c, 'test \"$AMF_COMPONENT_NAME\" = web/su-1/server'], "
                   "period_ms: 100, timeout_ms: 1000, failure_threshold: 1}"));
  std::string first;
  ASSERT_TRUE(eventually([&] {
    first = ask(port, "PID");
    return !first.empty();
  }));
  // Ten periods later: the same process, and no failure on record.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(ask(port, "PID"), first);
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_EQ(events.out.find("liveness probe failed"), std::string::npos) << events.out;
  EXPECT_EQ(stop(), 0);
  // A TCP probe on a port where nothing listens fails at once: restarted each time.
  const int nothing = free_port();
  start(probe_yaml(
      port, "{tcp_port: " + std::to_string(nothing) + ", period_ms: 100, failure_threshold: 1}"));
  EXPECT_TRUE(eventually([&] {
    Output e = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
    return e.out.find("liveness probe failed 1 times in a row, last: Connection refused") !=
           std::string::npos;
  }));
}

// ---- CLC-CLI commands ----

TEST_F(AmfdTest, TerminateAndCleanupCommandsReplaceTheSignals) {
  const int port = free_port();
  std::string yaml = probe_yaml(
      port, "{http_port: " + std::to_string(port) + ", period_ms: 200, failure_threshold: 1}");
  const std::string at = "              recovery: component-restart\n";
  yaml.replace(yaml.find(at), at.size(),
               at + "              env: {PORT: \"" + std::to_string(port) +
                   "\"}\n"
                   "              terminate_command: 'echo $AMF_COMPONENT_PID > term.$PORT; "
                   "kill -TERM $AMF_COMPONENT_PID'\n"
                   "              cleanup_command: 'echo $AMF_COMPONENT_PID > clean.$PORT'\n");
  start(yaml);
  std::string first;
  ASSERT_TRUE(eventually([&] {
    first = ask(port, "PID");
    return !first.empty();
  }));
  // A failure (its probe) ends in cleanup: the command runs, then the process is killed.
  EXPECT_EQ(ask(port, "HANG"), "hanging\n");
  const std::string clean = work_dir("web/su-1/server") + "/clean." + std::to_string(port);
  EXPECT_TRUE(eventually([&] { return fs::exists(clean); }));
  EXPECT_EQ(slurp(clean), first);  // it was told which process
  std::string second;
  EXPECT_TRUE(eventually([&] {
    second = ask(port, "PID");
    return !second.empty() && second != first;
  }));
  // Lock-instantiation terminates it with the terminate command, which stops it by itself.
  Output lock = run({bin("amfctl"), "--runtime-dir", runtime(), "lock", "su", "web/su-1"});
  EXPECT_EQ(lock.exit_code, 0) << lock.err;
  Output down =
      run({bin("amfctl"), "--runtime-dir", runtime(), "lock-instantiation", "su", "web/su-1"});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  const std::string term = work_dir("web/su-1/server") + "/term." + std::to_string(port);
  EXPECT_TRUE(fs::exists(term));
  EXPECT_EQ(slurp(term), second);
  EXPECT_EQ(ask(port, "PID"), "");  // gone
}

TEST_F(AmfdTest, ProbedComponentGetsItsWorkOnlyOnceItsProbeFirstSucceeds) {
  // A daemon that binds its port 400 ms after its start, as one that loads its data first,
  // with an on_active hook that needs it to answer: were it instantiated at its start (as
  // instantiated_when: started is), the hook would fail and so would the component.
  const int port = free_port();
  std::string yaml = probe_yaml(
      port, "{tcp_port: " + std::to_string(port) + ", period_ms: 1000, startup_period_ms: 10}");
  const auto swap = [&](const std::string& from, const std::string& to) {
    yaml.replace(yaml.find(from), from.size(), to);
  };
  swap("\"]\n", "\", \"0\", \"400\"]\n");
  swap("instantiated_when: started\n",
       "instantiated_when: probed\n"
       "              env: {PORT: \"" +
           std::to_string(port) +
           "\"}\n"
           "              hooks: {on_active: \"bash -c 'exec 3<>/dev/tcp/127.0.0.1/$PORT && echo "
           "PING "
           ">&3 && read -r l <&3 && [ $l = PONG ] && echo active > role.$PORT'\"}\n");
  start(yaml);
  ASSERT_TRUE(eventually([&] {
    auto s = status();
    return s && holder(*s, "active") == "web/su-1";
  }));
  EXPECT_EQ(ask(port, "ROLE"), "active\n");  // its hook reached it
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("instantiated    probe succeeded"), std::string::npos) << events.out;
  EXPECT_EQ(events.out.find("failed"), std::string::npos) << events.out;
}

TEST_F(AmfdTest, ProbedComponentWhoseProbeNeverSucceedsFailsItsInstantiationSayingWhy) {
  const int port = free_port();
  std::string yaml = probe_yaml(port, "{tcp_port: " + std::to_string(free_port()) +
                                          ", period_ms: 1000, startup_period_ms: 50}");
  const std::string at = "instantiated_when: started\n";
  yaml.replace(yaml.find(at), at.size(),
               "instantiated_when: probed\n"
               "              timeouts: {instantiate_ms: 300}\n"
               "              instantiate_retries: 0\n"
               "              instantiate_retries_with_delay: 0\n");
  start(yaml);
  ASSERT_TRUE(eventually([&] {
    auto s = status();
    return s && su_field(*s, "web/su-1", &wire::ServiceUnitStatus::presence_state) ==
                    "instantiation-failed";
  }));
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("probe did not succeed within 300 ms, last: Connection refused"),
            std::string::npos)
      << events.out;
}

// A restartable component with a TCP probe on `port`, $PORT in its environment and
// `cleanup` as its cleanup command.
std::string cleanup_yaml(int port, const std::string& cleanup) {
  std::string yaml = probe_yaml(port, "{tcp_port: " + std::to_string(port) + ", period_ms: 1000}");
  const std::string at = "              recovery: component-restart\n";
  yaml.replace(yaml.find(at), at.size(),
               at + "              env: {PORT: \"" + std::to_string(port) + "\"}\n" +
                   "              cleanup_command: '" + cleanup + "'\n");
  return yaml;
}

TEST_F(AmfdTest, TheCleanupCommandRunsAfterAComponentDiesOnItsOwnBeforeItsNextInstance) {
  // As OpenSAF does after every failure, so that what the process left (a pid file, shared
  // memory) is removed: with the dead process's PID and how it ended. The next instance starts
  // only once the command has ended; the command sleeps first to show it.
  const int port = free_port();
  start(cleanup_yaml(port,
                     "sleep 0.3; echo \"$AMF_COMPONENT_DEAD_PID "
                     "$AMF_COMPONENT_EXIT${AMF_COMPONENT_PID:-}\" > died.$PORT"));
  std::string first;
  ASSERT_TRUE(eventually([&] {
    first = ask(port, "PID");
    return !first.empty();
  }));
  first.pop_back();  // the newline
  const std::string died = work_dir("web/su-1/server") + "/died." + std::to_string(port);
  ASSERT_FALSE(fs::exists(died));
  ASSERT_EQ(::kill(std::stoi(first), SIGKILL), 0);  // a process of the amfd this test started
  std::string second;
  ASSERT_TRUE(eventually([&] {
    second = ask(port, "PID");
    return !second.empty() && second != first + "\n";
  }));
  ASSERT_TRUE(fs::exists(died)) << "the next instance started before the cleanup had ended";
  EXPECT_EQ(slurp(died), first + " killed by signal 9 (Killed)\n");
  // An exit that amfd asked for is not a failure: no cleanup follows it.
  fs::remove(died);
  Output lock = run({bin("amfctl"), "--runtime-dir", runtime(), "lock", "su", "web/su-1"});
  EXPECT_EQ(lock.exit_code, 0) << lock.err;
  Output down =
      run({bin("amfctl"), "--runtime-dir", runtime(), "lock-instantiation", "su", "web/su-1"});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(ask(port, "PID"), "");                              // gone
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // a cleanup would have written
  EXPECT_FALSE(fs::exists(died));
}

TEST_F(AmfdTest, AnAmfdStoppedAtOnceWaitsForACleanupAfterADeathAndStartsNoNewInstance) {
  const int port = free_port();
  start(cleanup_yaml(port, "sleep 1; echo cleaned > died.$PORT"));
  std::string pid;
  ASSERT_TRUE(eventually([&] {
    pid = ask(port, "PID");
    return !pid.empty();
  }));
  ASSERT_EQ(::kill(std::stoi(pid), SIGKILL), 0);  // a process of the amfd this test started
  const std::string err = dir_.path() + "/amfd.err";
  ASSERT_TRUE(eventually([&] { return slurp(err).find("running 'sleep 1") != std::string::npos; }));
  // The first signal has the node's assignments moved away, which waits for the restarted
  // component to be quiesced; the second one skips that: the start held back for the cleanup
  // is not made.
  ASSERT_EQ(::kill(amfd_, SIGTERM), 0);
  ASSERT_TRUE(eventually(
      [&] { return slurp(err).find("moving the assignments of node") != std::string::npos; }));
  EXPECT_EQ(stop(), 0);
  EXPECT_EQ(slurp(work_dir("web/su-1/server") + "/died." + std::to_string(port)), "cleaned\n")
      << "amfd exited before the cleanup had ended";
  const std::string log = slurp(err);
  EXPECT_NE(log.find("not started: amfd is stopping"), std::string::npos) << log;
  EXPECT_EQ(ask(port, "PID"), "");
}

// ---- an instantiate command that daemonizes (pid_file) ----

TEST_F(AmfdTest, DaemonLeftByTheInstantiateCommandIsTheComponent) {
  const int port = free_port();
  std::string yaml = probe_yaml(port, "{tcp_port: " + std::to_string(port) + ", period_ms: 1000}");
  const std::string cmd = "              command: amf-demo-notify\n              args: [\"" +
                          std::to_string(port) + "\"]\n";
  yaml.replace(yaml.find(cmd), cmd.size(),
               "              command: /bin/sh\n"
               "              args: [-c, 'amf-demo-notify " +
                   std::to_string(port) +
                   " & echo $! > daemon.pid']\n"
                   "              pid_file: daemon.pid\n");
  start(yaml);
  std::optional<wire::ClusterStatus> s;
  ASSERT_TRUE(eventually([&] {
    s = status();
    return s && component_presence(*s) == "instantiated";
  }));
  // The component is the daemon, not the shell that started it and is gone. It is
  // instantiated once its pid file names it, which may be before it listens.
  std::string daemon;
  ASSERT_TRUE(eventually([&] { return !(daemon = ask(port, "PID")).empty(); }));
  EXPECT_EQ(std::to_string(pid_of(*s, "web/su-1")) + "\n", daemon);
  EXPECT_EQ(slurp(work_dir("web/su-1/server") + "/daemon.pid"), daemon);
  // Its death is seen (it is watched like any component process) and it is restarted.
  ASSERT_EQ(::kill(std::stoi(daemon), SIGKILL), 0);
  EXPECT_TRUE(eventually([&] {
    const std::string now = ask(port, "PID");
    return !now.empty() && now != daemon;
  }));
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("killed by signal 9"), std::string::npos) << events.out;
  const std::string last = ask(port, "PID");
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(stop(), 0);
  EXPECT_NE(::kill(std::stoi(last), 0), 0);  // amfd's shutdown ended the daemon too
}

TEST_F(AmfdTest, InstantiateCommandWithoutItsPidFileFailsTheInstantiation) {
  const int port = free_port();
  std::string yaml = probe_yaml(port, "{tcp_port: 1, period_ms: 1000}");
  const std::string cmd = "              command: amf-demo-notify\n              args: [\"" +
                          std::to_string(port) + "\"]\n";
  yaml.replace(yaml.find(cmd), cmd.size(),
               "              command: /bin/sh\n              args: [-c, 'true']\n"
               "              pid_file: never-written.pid\n");
  start(yaml);
  EXPECT_TRUE(eventually([&] {
    Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
    return events.out.find("never-written.pid after the instantiate command") != std::string::npos;
  }));
}

TEST_F(AmfdTest, ServiceUnitConfiguredLockedInstantiationWaitsForTheOperator) {
  // As OpenSAF loads an application: its SUs locked-instantiation, unlocked by hand.
  std::string yaml = cluster_yaml(free_port());
  const std::string at = "        su_template:\n";
  yaml.replace(yaml.find(at), at.size(), at + "          admin_state: locked-instantiation\n");
  start(yaml);
  auto amfctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {bin("amfctl"), "--runtime-dir", runtime()});
    return run(args);
  };
  Output st = amfctl({"status"});
  ASSERT_TRUE(eventually([&] {
    st = amfctl({"status"});
    return st.exit_code == 0 && st.out.find("locked-instantiation") != std::string::npos;
  })) << st.out
      << st.err;
  auto s = status();
  ASSERT_TRUE(s);
  EXPECT_EQ(su_field(*s, "counter/su-1", &wire::ServiceUnitStatus::presence_state),
            "uninstantiated");
  EXPECT_EQ(pid_of(*s, "counter/su-1"), 0);
  for (const std::string su : {"counter/su-1", "counter/su-2"}) {
    Output r = amfctl({"unlock-instantiation", "su", su});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = amfctl({"unlock", "su", su});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  auto [active, standby] = settled_pair();
  EXPECT_FALSE(active.empty());
  EXPECT_FALSE(standby.empty());
}

// ---- the admin-state store ----

TEST_F(AmfdTest, AdminStatesOutliveAmfdsRestartAndCrash) {
  const int port = free_port();
  const std::string yaml = cluster_yaml(port);
  const std::string state = dir_.path() + "/state";
  const std::vector<std::string> args = {"--state-dir", state};
  start(yaml, {}, args);
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(standby.empty());
  auto amfctl = [&](std::vector<std::string> a) {
    a.insert(a.begin(), {bin("amfctl"), "--runtime-dir", runtime()});
    return run(a);
  };
  for (const std::string op : {"lock", "lock-instantiation"}) {
    Output r = amfctl({op, "su", standby});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Stopped: amfd's own lock of its node on the way out is not kept, the operator's are.
  EXPECT_EQ(stop(), 0);
  const std::string stored = slurp(state + "/admin-states.json");
  EXPECT_NE(stored.find("\"" + standby + "\""), std::string::npos) << stored;
  EXPECT_EQ(stored.find("node-1"), std::string::npos) << stored;
  auto only_active = [&](const std::string& su) {
    std::optional<wire::ClusterStatus> s;
    const bool ok = eventually([&] {
      s = status();
      return s && holder(*s, "active") == su && pid_of(*s, su) > 0 &&
             su_field(*s, standby, &wire::ServiceUnitStatus::presence_state) == "uninstantiated";
    });
    return ok ? s : std::nullopt;
  };
  start(yaml, {}, args);
  auto s = only_active(active);
  ASSERT_TRUE(s) << "the restarted amfd started the SU the operator locked for instantiation";
  EXPECT_EQ(su_field(*s, standby, &wire::ServiceUnitStatus::admin_state), "locked-instantiation");
  ASSERT_EQ(s->nodes.size(), 1u);
  EXPECT_EQ(s->nodes[0].admin_state, "unlocked");
  // Killed: the store is all there is, and it holds.
  ::kill(amfd_, SIGKILL);
  ::waitpid(amfd_, nullptr, 0);
  amfd_ = -1;
  start(yaml, {}, args);
  s = only_active(active);
  ASSERT_TRUE(s) << "the amfd after a crash started the SU the operator locked for instantiation";
  EXPECT_EQ(su_field(*s, standby, &wire::ServiceUnitStatus::admin_state), "locked-instantiation");
  // Unlocked again: kept as such, and the pair is whole after the next restart.
  for (const std::string op : {"unlock-instantiation", "unlock"}) {
    Output r = amfctl({op, "su", standby});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(stop(), 0);
  start(yaml, {}, args);
  auto [a2, s2] = settled_pair();
  EXPECT_FALSE(a2.empty());
  EXPECT_FALSE(s2.empty());
}

// checkpoint_store: file: the counter's value outlives amfd's stop, and a crash of amfd and of
// every component with it (a node's power cut), which a replica in memory does not.
TEST_F(AmfdTest, AFileCheckpointStoreKeepsTheCounterThroughAStopAndACrashOfEverything) {
  const int port = free_port();
  std::string yaml = cluster_yaml(port);
  yaml.replace(yaml.find("  name: itest\n"), 14, "  name: itest\n  checkpoint_store: file\n");
  const std::string state = dir_.path() + "/state";
  const std::vector<std::string> args = {"--state-dir", state};
  start(yaml, {}, args);
  ASSERT_FALSE(settled_pair().first.empty());
  for (int i = 1; i <= 5; ++i) ASSERT_EQ(ask(port, "INC"), std::to_string(i) + "\n");
  const std::string name = "counter-" + std::to_string(port);
  const std::string file = state + "/checkpoints/" + to_hex(name) + ".ckpt";
  EXPECT_TRUE(std::filesystem::exists(file)) << file;

  EXPECT_EQ(stop(), 0);
  start(yaml, {}, args);
  ASSERT_FALSE(settled_pair().first.empty());
  std::string reply;
  EXPECT_TRUE(eventually([&] { return (reply = ask(port, "GET")) == "5\n"; })) << reply;
  EXPECT_EQ(ask(port, "INC"), "6\n");

  // Everything dies at once: amfd, and the components (their process groups).
  auto s = status();
  ASSERT_TRUE(s);
  std::vector<int> pids;
  for (const auto& sg : s->service_groups) {
    for (const auto& su : sg.service_units) {
      for (const auto& c : su.components) {
        if (c.pid > 0) pids.push_back(c.pid);
      }
    }
  }
  ASSERT_EQ(pids.size(), 2u);
  ::kill(amfd_, SIGKILL);
  ::waitpid(amfd_, nullptr, 0);
  amfd_ = -1;
  for (int pid : pids) ::kill(-pid, SIGKILL);
  EXPECT_TRUE(eventually([&] {
    for (int pid : pids) {
      if (::kill(pid, 0) == 0) return false;
    }
    return true;
  }));
  start(yaml, {}, args);
  ASSERT_FALSE(settled_pair().first.empty());
  EXPECT_TRUE(eventually([&] { return (reply = ask(port, "GET")) == "6\n"; })) << reply;
  EXPECT_EQ(ask(port, "INC"), "7\n");
  const std::string log = slurp(dir_.path() + "/amfd.err");
  EXPECT_NE(log.find("checkpoint '" + name + "': restored from the store at "), std::string::npos)
      << log;
}

TEST_F(AmfdTest, AdminStatesOfEntitiesTheConfigurationNoLongerHasAreReportedAndDropped) {
  const int port = free_port();
  const std::string store = runtime() + "/admin-states.json";
  fs::create_directories(runtime());
  {
    std::ofstream out(store);
    out << R"({"amf_admin_states": 1, "states": [
      {"kind": "su", "entity": "counter/su-2", "state": "locked"},
      {"kind": "su", "entity": "counter/su-9", "state": "locked"},
      {"kind": "sg", "entity": "gone", "state": "shutting-down"}]})";
  }
  start(cluster_yaml(port));
  std::optional<wire::ClusterStatus> s;
  ASSERT_TRUE(eventually([&] {
    s = status();
    return s && holder(*s, "active") == "counter/su-1";
  }));
  EXPECT_EQ(su_field(*s, "counter/su-2", &wire::ServiceUnitStatus::admin_state), "locked");
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  for (const std::string entity : {"counter/su-9", "gone"}) {
    const auto at = events.out.find(entity);
    ASSERT_NE(at, std::string::npos) << events.out;
    EXPECT_NE(events.out.find("admin state in the store for an entity the configuration does "
                              "not have",
                              at),
              std::string::npos)
        << events.out;
  }
  const std::string kept = slurp(store);
  EXPECT_NE(kept.find("counter/su-2"), std::string::npos) << kept;
  EXPECT_EQ(kept.find("counter/su-9"), std::string::npos) << kept;
  EXPECT_EQ(kept.find("gone"), std::string::npos) << kept;
}

TEST_F(AmfdTest, BrokenAdminStateStoreIsRefusedSayingWhereAndWhatAndIsLeftAsItWas) {
  const std::string config = dir_.file("cluster.yaml", cluster_yaml(free_port()));
  const std::string store = runtime() + "/admin-states.json";
  fs::create_directories(runtime());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"amf_admin_states\": 1, \"states\": [", "not JSON: "},
      {R"({"states": []})", "not an amf admin-state store"},
      {R"({"amf_admin_states": 7, "states": []})", "format 7 is not one this amfd reads"},
      {R"({"amf_admin_states": 1, "states": {}})", "\"states\" is missing or not a list"},
      {R"({"amf_admin_states": 1, "states": [{"kind": "su", "state": "locked"}]})",
       "states[0]: \"entity\" is missing or not a string"},
      {R"({"amf_admin_states": 1, "states": [{"kind": "pod", "entity": "x", "state": "locked"}]})",
       "states[0]: unknown kind 'pod' (su, comp, node, sg, app, cluster, si)"},
      {R"({"amf_admin_states": 1, "states": [
         {"kind": "su", "entity": "counter/su-1", "state": "locked"},
         {"kind": "su", "entity": "counter/su-2", "state": "frozen"}]})",
       "states[1]: unknown admin state 'frozen'"},
      {R"({"amf_admin_states": 1, "states": [
         {"kind": "su", "entity": "counter/su-1", "state": "locked"},
         {"kind": "su", "entity": "counter/su-1", "state": "unlocked"}]})",
       "states[1]: su 'counter/su-1' is in the store twice"},
      {R"({"amf_admin_states": 1, "states": [
         {"kind": "comp", "entity": "counter/su-1/server", "state": "locked"}]})",
       "states[0]: a component has no admin state (its SU has)"},
      {R"({"amf_admin_states": 1, "states": [
         {"kind": "si", "entity": "counter/si-1", "state": "locked-instantiation"}]})",
       "states[0]: an SI is never locked-instantiation"},
  };
  for (const auto& [text, expected] : cases) {
    {
      std::ofstream out(store);
      out << text;
    }
    Output o = run({bin("amfd"), "--config", config, "--runtime-dir", runtime()});
    EXPECT_EQ(o.exit_code, 1) << text;
    EXPECT_NE(o.err.find("admin-state store " + store + ": " + expected), std::string::npos)
        << text << "\n"
        << o.err;
    EXPECT_NE(o.err.find("mend it or remove it"), std::string::npos) << o.err;
    EXPECT_EQ(slurp(store), text);  // nothing lost: the operator mends it
  }
}

// ---- working directories ----

// A 2N pair of daemons that each write `file` in their working directory, given `extra`
// component keys.
std::string writer_yaml(const std::string& extra) {
  return "cluster: {name: itest}\n"
         "nodes: [{name: node-1, controller: true}]\n"
         "applications:\n  - name: app\n    service_groups:\n"
         "      - name: sg\n        redundancy: 2n\n"
         "        su_template:\n          nodes: [node-1, node-1]\n"
         "          components:\n            - name: c\n"
         "              command: /bin/sh\n"
         "              args: [-c, 'echo $AMF_COMPONENT_NAME $SA_AMF_COMPONENT_NAME >> file; "
         "exec sleep 600']\n"
         "              cs_types: [t]\n"
         "              instantiated_when: started\n" +
         extra + "        service_instances: [{name: si-1, csis: [{name: c, cs_type: t}]}]\n";
}

TEST_F(AmfdTest, EachComponentHasItsOwnWorkingDirectoryUnlessItNamesOne) {
  start(writer_yaml(""));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  // Two daemons that write the same file name do not write the same file.
  EXPECT_TRUE(eventually([&] {
    return slurp(work_dir("sg/su-1/c") + "/file") ==
           "sg/su-1/c safComp=c,safSu=su-1,safSg=sg,safApp=app\n";
  }));
  EXPECT_TRUE(eventually([&] {
    return slurp(work_dir("sg/su-2/c") + "/file") ==
           "sg/su-2/c safComp=c,safSu=su-2,safSg=sg,safApp=app\n";
  }));
  EXPECT_FALSE(fs::exists(runtime() + "/file"));
  EXPECT_EQ(stop(), 0);
  // Named, relative to RUNTIME/work: shared by both.
  start(writer_yaml("              working_dir: shared\n"));
  EXPECT_TRUE(eventually([&] {
    const std::string both = slurp(runtime() + "/work/shared/file");
    return both.find("sg/su-1/c safComp") != std::string::npos &&
           both.find("sg/su-2/c safComp") != std::string::npos;
  }));
  EXPECT_EQ(stop(), 0);
}

TEST_F(AmfdTest, WorkingDirectoryThatCannotBeMadeFailsTheInstantiationSayingWhy) {
  const std::string blocker = dir_.file("not-a-directory", "");
  start(writer_yaml("              working_dir: " + blocker +
                    "/sub\n"
                    "              instantiate_retries: 0\n"
                    "              instantiate_retries_with_delay: 0\n"));
  EXPECT_TRUE(eventually([&] {
    Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
    return events.out.find("cannot create the working directory " + blocker + "/sub") !=
           std::string::npos;
  }));
  EXPECT_TRUE(eventually([&] {
    auto s = status();
    return s && su_field(*s, "sg/su-1", &wire::ServiceUnitStatus::presence_state) ==
                    "instantiation-failed";
  }));
}

// ---- bad input at the command line ----

TEST(AmfdCommandLineTest, BrokenConfigIsRefusedWithEveryErrorAndItsPosition) {
  TempDir dir;
  const std::string path = dir.file("bad.yaml",
                                    "cluster:\n  name: x\n"
                                    "nodes:\n  - name: n1\n    controler: true\n"
                                    "applications: 3\n");
  Output o = run({bin("amfd"), "--config", path, "--runtime-dir", dir.path() + "/run"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find(path + ":5:5: unknown key 'controler'"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find(path + ":6:15:"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(dir.path() + "/run"));  // nothing was started or created
}

TEST(AmfdCommandLineTest, CheckConfigPrintsASummary) {
  Output o = run(
      {bin("amfd"), "--check-config", std::string(AMF_SOURCE_DIR) + "/config/examples/demo.yaml"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out,
            "cluster 'demo': 1 node, 1 application, 1 service group (2n), 2 service units, "
            "2 components, 1 service instance, 1 CSI\n");
}

TEST(AmfdCommandLineTest, ValidConfigThatThisBuildCannotRunIsRefusedAtStart) {
  TempDir dir;
  // Two nodes are valid, but amfd elects their director through etcd, which this one lacks.
  std::string yaml = cluster_yaml(free_port());
  const std::string one = "nodes:\n  - name: node-1\n    controller: true\n";
  yaml.replace(yaml.find(one), one.size(), one + "  - name: node-2\n");
  const std::string path = dir.file("two-nodes.yaml", yaml);
  Output o = run({bin("amfd"), "--config", path, "--runtime-dir", dir.path() + "/run"}, {},
                 std::chrono::seconds(10));
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("the cluster has 2 nodes, and a cluster of several nodes elects its "
                       "director through etcd"),
            std::string::npos)
      << o.err;
  EXPECT_FALSE(fs::exists(dir.path() + "/run"));
  Output check = run({bin("amfd"), "--check-config", path});
  EXPECT_EQ(check.exit_code, 0);
  EXPECT_NE(check.out.find("note: amfd cannot run this yet"), std::string::npos);
}

TEST_F(AmfdTest, AmfctlFromAnotherHostGetsInWithTheClusterKeyOnly) {
  const std::string key = dir_.path() + "/cluster.key";
  const std::string other = dir_.path() + "/other.key";
  ASSERT_EQ(run({bin("amfctl"), "keygen", key}).exit_code, 0);
  ASSERT_EQ(run({bin("amfctl"), "keygen", other}).exit_code, 0);
  const std::string remote = "127.0.0.1:" + std::to_string(free_port());
  start(cluster_yaml(free_port()), {}, {"--cluster-key", key, "--remote-admin", remote});
  const auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());

  // The status and an admin operation, over CURVE, with the key.
  Output o =
      run({bin("amfctl"), "--connect", remote, "--cluster-key", key, "status", "-o", "json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  auto seen = wire::status_from_json(o.out);
  ASSERT_TRUE(seen) << o.out;
  EXPECT_EQ(holder(*seen, "active"), active);
  o = run({bin("amfctl"), "--connect", remote, "--cluster-key", key, "si-swap", "counter/si-1"}, {},
          std::chrono::seconds(30));
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(eventually([&] {
    auto s = status();
    return s && holder(*s, "active") == standby;
  }));
  EXPECT_NE(slurp(dir_.path() + "/amfd.err").find(", from 127.0.0.1)"), std::string::npos);

  // Another key: the handshake ends, amfctl says why at once, and amfd logs the refusal.
  o = run({bin("amfctl"), "--connect", remote, "--cluster-key", other, "status"});
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_NE(o.err.find("amfd at tcp://" + remote +
                       " ended the CURVE handshake: the key given with --cluster-key is not "
                       "the one it was given"),
            std::string::npos)
      << o.err;
  EXPECT_TRUE(eventually([&] {
    return slurp(dir_.path() + "/amfd.err")
               .find("remote admin socket: refused a connection: on tcp://" + remote +
                     ": the peer's handshake does not open with this cluster's key") !=
           std::string::npos;
  }));
  // No key, or nobody on the port.
  o = run({bin("amfctl"), "--connect", remote, "status"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("--connect needs --cluster-key FILE"), std::string::npos) << o.err;
  const std::string nobody = "127.0.0.1:" + std::to_string(free_port());
  o = run({bin("amfctl"), "--connect", nobody, "--cluster-key", key, "status"});
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_NE(o.err.find("no amfd listens at tcp://" + nobody), std::string::npos) << o.err;
  // A key without --connect is a mistake, not ignored.
  o = run({bin("amfctl"), "--runtime-dir", runtime(), "--cluster-key", key, "status"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("--cluster-key is for --connect HOST:PORT"), std::string::npos) << o.err;
}

TEST(AmfdCommandLineTest, RemoteAdminWithoutTheClusterKeyIsRefused) {
  TempDir dir;
  const std::string path = dir.file("c.yaml", cluster_yaml(free_port()));
  Output o = run({bin("amfd"), "--config", path, "--runtime-dir", dir.path() + "/run",
                  "--remote-admin", "127.0.0.1:7399"},
                 {}, std::chrono::seconds(20));
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("--remote-admin 127.0.0.1:7399 needs --cluster-key: amfctl from another "
                       "host is let in with the cluster's key only"),
            std::string::npos)
      << o.err;
  EXPECT_FALSE(fs::exists(dir.path() + "/run"));
}

TEST(AmfdCommandLineTest, AServiceAddressOnAnInterfaceThisHostLacksIsRefusedAtStart) {
  TempDir dir;
  std::string yaml = cluster_yaml(free_port());
  const std::string si = "          - name: si-1\n";
  yaml.replace(yaml.find(si), si.size(),
               si + "            service_address: {address: 10.254.254.100/24, interface: "
                    "amfnosuch0}\n");
  const std::string path = dir.file("c.yaml", yaml);
  Output o = run({bin("amfd"), "--config", path, "--runtime-dir", dir.path() + "/run"}, {},
                 std::chrono::seconds(20));
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("amfd: the service address of SI counter/si-1 (10.254.254.100/24 on "
                       "amfnosuch0) names interface 'amfnosuch0', which this host does not "
                       "have; it has: "),
            std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("lo"), std::string::npos) << o.err;  // what it has, named
}

TEST(AmfdCommandLineTest, AServiceAddressWithoutTheCapabilityToFloatItIsRefusedAtStart) {
  if (::geteuid() != 0 || ::access("/usr/bin/setpriv", X_OK) != 0) {
    GTEST_SKIP() << "needs root and setpriv to take CAP_NET_ADMIN away";
  }
  TempDir dir;
  std::string yaml = cluster_yaml(free_port());
  const std::string si = "          - name: si-1\n";
  yaml.replace(yaml.find(si), si.size(),
               si + "            service_address: {address: 10.254.254.100/24, interface: lo}\n");
  const std::string path = dir.file("c.yaml", yaml);
  Output o = run({"/usr/bin/setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin",
                  bin("amfd"), "--config", path, "--runtime-dir", dir.path() + "/run"},
                 {}, std::chrono::seconds(20));
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("amfd: SI counter/si-1 floats a service address (10.254.254.100/24 on lo), "
                       "and amfd lacks CAP_NET_ADMIN to bring it up and announce it"),
            std::string::npos)
      << o.err;
}

TEST(AmfdCommandLineTest, UnknownNodeIsRefused) {
  TempDir dir;
  const std::string path = dir.file("c.yaml", cluster_yaml(free_port()));
  Output o = run({bin("amfd"), "--config", path, "--node", "node-7", "--runtime-dir", dir.path()});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("node 'node-7' is not defined in " + path), std::string::npos) << o.err;
}

TEST(AmfctlTest, SaysClearlyWhenNoDaemonIsRunning) {
  TempDir dir;
  Output o = run({bin("amfctl"), "--runtime-dir", dir.path(), "status"});
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_NE(o.err.find("no amfd is running: " + dir.path() + "/admin.sock does not exist"),
            std::string::npos)
      << o.err;
}

TEST(AmfctlTest, StaleSocketWithNobodyBehindItIsCalledStale) {
  TempDir dir;
  // A socket file that nothing listens on, as a crashed amfd leaves behind.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/admin.sock", dir.path().c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  Output o = run({bin("amfctl"), "--runtime-dir", dir.path(), "status"});
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_NE(o.err.find("no amfd is running: " + dir.path() +
                       "/admin.sock is stale: nothing accepts connections on it"),
            std::string::npos)
      << o.err;
}

// The scheduling policy of a process or thread, without the reset-on-fork flag.
int policy_of(pid_t tid) { return ::sched_getscheduler(tid) & ~SCHED_RESET_ON_FORK; }

TEST_F(AmfdTest, WithARealtimePriorityAmfdsThreadsRunSoAndItsComponentsAtNormalPriority) {
  if (run({"/usr/bin/chrt", "-r", "1", "/bin/true"}).exit_code != 0) {
    GTEST_SKIP() << "this user may not take SCHED_RR (no CAP_SYS_NICE, RLIMIT_RTPRIO 0)";
  }
  start(cluster_yaml(free_port()), {}, {"--realtime-priority", "7"});
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty()) << "no active+standby pair";
  EXPECT_NE(slurp(dir_.path() + "/amfd.err").find("real-time priority 7 (SCHED_RR) on amfd's"),
            std::string::npos);
  int threads = 0;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(amfd_) + "/task")) {
    const pid_t tid = std::stoi(task.path().filename().string());
    EXPECT_EQ(policy_of(tid), SCHED_RR) << "thread " << tid;
    sched_param param{};
    ASSERT_EQ(::sched_getparam(tid, &param), 0);
    EXPECT_EQ(param.sched_priority, 7) << "thread " << tid;
    ++threads;
  }
  EXPECT_GT(threads, 1) << "ZeroMQ's I/O thread among them";
  auto s = status();
  ASSERT_TRUE(s);
  for (const std::string& su : {active, standby}) {
    const int pid = pid_of(*s, su);
    ASSERT_GT(pid, 0) << su;
    EXPECT_EQ(policy_of(pid), SCHED_OTHER) << su << "'s component";
  }
}

TEST_F(AmfdTest, AnAmfdNotAllowedARealtimePrioritySaysWhyAndRunsAtNormalPriority) {
  // Without CAP_SYS_NICE (and RLIMIT_RTPRIO 0, the usual limit), as a user without the right
  // would run it.
  // (Dropping a capability from the bounding set needs CAP_SETPCAP: as root only; another
  // user has no CAP_SYS_NICE to drop.)
  if (::geteuid() == 0) {
    wrapper_ = {"/usr/bin/setpriv", "--bounding-set=-sys_nice", "--inh-caps=-sys_nice"};
  }
  wrapper_.insert(wrapper_.end(), {"/usr/bin/prlimit", "--rtprio=0", "--"});
  start(cluster_yaml(free_port()), {}, {"--realtime-priority", "7"});
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty()) << "no active+standby pair: amfd did not run on";
  EXPECT_NE(slurp(dir_.path() + "/amfd.err")
                .find("cannot take real-time priority 7 (SCHED_RR): Operation not permitted"),
            std::string::npos)
      << slurp(dir_.path() + "/amfd.err");
  EXPECT_EQ(policy_of(amfd_), SCHED_OTHER);
}

TEST_F(AmfdTest, ARealtimePriorityOutOfRangeIsAUsageError) {
  Output o = run({bin("amfd"), "--config", dir_.file("c.yaml", cluster_yaml(free_port())),
                  "--runtime-dir", runtime(), "--realtime-priority", "100"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("--realtime-priority"), std::string::npos) << o.err;
}

}  // namespace
}  // namespace amf::itest
