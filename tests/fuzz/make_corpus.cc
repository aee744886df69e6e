// Writes the seed corpus of the wire and admin fuzz targets with the encoders, so that every
// seed is a message amfd, amfctl or a component really sends:
//
//   fuzz_make_corpus tests/fuzz/corpus
//
// writes
// corpus/{wire_component,wire_admin_request,wire_admin_reply,wire_membership,wire_checkpoint,
// wire_node,admin,checkpoint_store_file}/
// <name>, replacing files of the same name and leaving others (checked-in findings turned
// regression inputs) alone. The config and notify seeds are text, checked in as written.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "amf/daemon/checkpoint_store.h"
#include "amf/wire/codec.h"
#include "tests/fuzz/admin_input.h"

namespace {

namespace fs = std::filesystem;
namespace input = amf::fuzz::admin_input;
using namespace amf::wire;

void write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) {
    std::fprintf(stderr, "fuzz_make_corpus: cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

void component_seeds(const fs::path& dir) {
  using amf::model::HaState;
  using amf::model::TransitionReason;
  write(dir, "register-request",
        encode(ComponentMessage{RegisterRequest{"app/su-1/server", 4242}}));
  write(dir, "register-reply-ok", encode(ComponentMessage{RegisterReply{true, ""}}));
  write(dir, "register-reply-error",
        encode(ComponentMessage{RegisterReply{false, "no such component"}}));
  write(dir, "csi-set-active",
        encode(ComponentMessage{CsiSet{1,
                                       "counter/si-1/endpoint",
                                       HaState::kActive,
                                       TransitionReason::kNewAssignment,
                                       {{"port", "47011"}, {"state_file", "counter.state"}}}}));
  write(dir, "csi-set-standby-failover",
        encode(ComponentMessage{
            CsiSet{77, "app/si-1/csi", HaState::kStandby, TransitionReason::kFailover, {}}}));
  write(dir, "csi-set-quiescing-switchover",
        encode(ComponentMessage{CsiSet{
            3, "app/si-2/csi", HaState::kQuiescing, TransitionReason::kSwitchover, {{"k", "v"}}}}));
  write(dir, "csi-set-quiesced-restart",
        encode(ComponentMessage{
            CsiSet{4, "app/si-1/csi", HaState::kQuiesced, TransitionReason::kRestart, {}}}));
  write(dir, "csi-remove", encode(ComponentMessage{CsiRemove{5, "app/si-1/csi"}}));
  write(dir, "response-ok", encode(ComponentMessage{Response{9, true, ""}}));
  write(dir, "response-error", encode(ComponentMessage{Response{9, false, "busy"}}));
  write(dir, "error-report",
        encode(ComponentMessage{ErrorReport{"su-restart", "lost its database"}}));
  write(dir, "error-report-default", encode(ComponentMessage{ErrorReport{"", "wedged"}}));
  write(dir, "healthcheck", encode(ComponentMessage{HealthcheckCallback{12, "alive"}}));
  write(dir, "healthcheck-confirm", encode(ComponentMessage{HealthcheckConfirm{"alive"}}));
  write(dir, "terminate", encode(ComponentMessage{TerminateCallback{13}}));
  write(dir, "pg-track",
        encode(ComponentMessage{ProtectionGroupTrack{3, "app/si-1/csi", true, false, true}}));
  write(dir, "pg-track-stop",
        encode(ComponentMessage{ProtectionGroupTrackStop{4, "app/si-1/csi"}}));
  write(dir, "pg",
        encode(ComponentMessage{
            ProtectionGroup{3,
                            "app/si-1/csi",
                            {{"app/su-1/server", "safComp=server,safSu=su-1,safSg=app,safApp=app",
                              HaState::kActive, 1, amf::model::ProtectionGroupChange::kAdded}},
                            amf::model::ProtectionGroupRefusal::kNone,
                            "",
                            1}}));
}

std::vector<std::pair<std::string, AdminOperation>> operations() {
  return {
      {"lock-su", {"lock", "su", "app/su-1"}},
      {"unlock-su", {"unlock", "su", "app/su-1"}},
      {"shutdown-su", {"shutdown", "su", "app/su-2"}},
      {"lock-instantiation-su", {"lock-instantiation", "su", "app/su-2"}},
      {"unlock-instantiation-su", {"unlock-instantiation", "su", "app/su-2"}},
      {"repair-su", {"repair", "su", "app/su-1"}},
      {"restart-su", {"restart", "su", "app/su-1"}},
      {"restart-comp", {"restart", "comp", "app/su-2/server"}},
      {"lock-node", {"lock", "node", "node-1"}},
      {"repair-node", {"repair", "node", "node-2"}},
      {"lock-sg", {"lock", "sg", "app"}},
      {"adjust-sg", {"adjust", "sg", "app"}},
      {"shutdown-app", {"shutdown", "app", "app"}},
      {"lock-cluster", {"lock", "cluster", "test"}},
      {"lock-instantiation-cluster", {"lock-instantiation", "cluster", ""}},
      {"si-swap", {"si-swap", "si", "app/si-1"}},
      {"lock-si", {"lock", "si", "app/si-2"}},
      {"shutdown-si", {"shutdown", "si", "app/si-1"}},
      {"lock-unknown-su", {"lock", "su", "app/su-9"}},
      {"swap-unknown-si", {"si-swap", "si", "nope/si-1"}},
      {"swap-su", {"si-swap", "su", "app/su-1"}},
      {"unknown-kind", {"lock", "pony", "app"}},
      {"unknown-operation", {"frobnicate", "su", "app/su-1"}},
      {"empty-operation", {"", "", ""}},
  };
}

void admin_request_seeds(const fs::path& dir) {
  write(dir, "status", encode(AdminRequest{StatusRequest{}}));
  write(dir, "events", encode(AdminRequest{EventsRequest{12, 100}}));
  write(dir, "events-all", encode(AdminRequest{EventsRequest{0, 0}}));
  for (const auto& [name, op] : operations()) write(dir, name, encode(AdminRequest{op}));
}

void admin_reply_seeds(const fs::path& dir) {
  const ClusterStatus status{"demo",
                             "node-1",
                             {{"counter",
                               "2n",
                               false,
                               {{"counter/su-1",
                                 "node-1",
                                 "unlocked",
                                 "enabled",
                                 "instantiated",
                                 "in-service",
                                 {{"counter/su-1/server", "instantiated", 5666, true}}},
                                {"counter/su-2",
                                 "node-1",
                                 "locked",
                                 "disabled",
                                 "uninstantiated",
                                 "out-of-service",
                                 {{"counter/su-2/server", "uninstantiated", 0, false}}}},
                               {{"counter/si-1", {{"counter/su-1", "active"}}}}}}};
  write(dir, "status", encode(AdminReply{status}));
  write(dir, "status-empty", encode(AdminReply{ClusterStatus{"test", "node-1", {}}}));
  write(dir, "events",
        encode(AdminReply{EventList{{{1, 1000, 1700000000000000000, "su-presence", "counter/su-1",
                                      "", "uninstantiated", "instantiating", "instantiate"},
                                     {2, 2000, 1700000000000001000, "si-assignment", "counter/si-1",
                                      "counter/su-1", "", "active", "new assignment"}}}}));
  write(dir, "events-empty", encode(AdminReply{EventList{}}));
  write(dir, "error", encode(AdminReply{AdminError{"bad request: admin request has no body"}}));
  write(dir, "operation-ok", encode(AdminReply{AdminOperationResult{true, ""}}));
  write(dir, "operation-refused",
        encode(AdminReply{AdminOperationResult{false, "lock su app/su-9: no such SU"}}));
}

std::string op_record(const AdminOperation& op) {
  return input::request_record(encode(AdminRequest{op}));
}

void admin_seeds(const fs::path& dir) {
  // One request on each configuration it means something for.
  const auto ops = operations();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const char configuration = static_cast<char>(i % 6);
    write(dir, "one-" + ops[i].first, std::string(1, configuration) + op_record(ops[i].second));
  }
  write(dir, "status-after-lock",
        std::string(1, '\0') + op_record({"lock", "su", "app/su-1"}) +
            input::request_record(encode(AdminRequest{StatusRequest{}})));
  // Sequences: a fault in the middle of an operation, the time limit, undoing it.
  write(dir, "lock-kill-unlock",
        std::string(1, '\0') + op_record({"lock", "su", "app/su-1"}) +
            std::string(1, static_cast<char>(input::kKill + 1)) +
            op_record({"unlock", "su", "app/su-1"}));
  write(dir, "swap-kill-swap-npm",
        std::string(1, '\1') + op_record({"si-swap", "si", "app/si-1"}) +
            std::string(1, static_cast<char>(input::kKill)) +
            op_record({"si-swap", "si", "app/si-1"}) +
            std::string(1, static_cast<char>(input::kAdminTimeLimit)));
  write(dir, "lock-instantiation-repair-nway",
        std::string(1, '\2') + op_record({"lock", "su", "app/su-3"}) +
            op_record({"lock-instantiation", "su", "app/su-3"}) +
            op_record({"repair", "su", "app/su-3"}) +
            op_record({"unlock-instantiation", "su", "app/su-3"}) +
            op_record({"unlock", "su", "app/su-3"}));
  write(dir, "sponsor-lock-dependency",
        std::string(1, '\4') + op_record({"lock", "si", "app/si-1"}) +
            std::string(1, static_cast<char>(input::kSecond)) +
            std::string(1, static_cast<char>(input::kSecond)) +
            op_record({"unlock", "si", "app/si-1"}));
  write(dir, "spare-node-lock-adjust",
        std::string(1, '\5') + op_record({"lock", "node", "node-1"}) +
            std::string(1, static_cast<char>(input::kTenMinutes)) +
            op_record({"unlock", "node", "node-1"}) + op_record({"adjust", "sg", "app"}));
  write(dir, "cluster-levels",
        std::string(1, '\3') + op_record({"shutdown", "cluster", "test"}) +
            op_record({"lock", "app", "app"}) + op_record({"unlock", "cluster", "test"}) +
            op_record({"unlock", "app", "app"}) +
            op_record({"restart", "comp", "app/su-1/server"}));
}

}  // namespace

void membership_seeds(const fs::path& dir) {
  using namespace amf::membership;
  const Incarnate n1{amf::NodeId("n1"), 1}, n2{amf::NodeId("n2"), 1}, n3{amf::NodeId("n3"), 4};
  write(dir, "heartbeat", encode(Message{Heartbeat{n2, 7, {1, 3}, true}}));
  write(dir, "heartbeat-ack", encode(Message{HeartbeatAck{n2, n1, 12}}));
  write(dir, "view-install",
        encode(Message{ViewInstall{amf::NodeId("n2"), View{{2, 1}, {n1, n2}, {n3}}, "n3#4 left"}}));
  write(dir, "view-install-takes-n1-out",
        encode(Message{ViewInstall{amf::NodeId("n2"), View{{3, 1}, {n2}, {n1}}, "n1#1 left"}}));
  write(dir, "view-ack",
        encode(Message{ViewAck{n2, {1, 2}, {n3}, {{n3, std::chrono::milliseconds(12)}}}}));
}

// Messages to node n2 of checkpoint "counter-state", whose replicas the wire_checkpoint target
// runs: from the active replica on n1 (generation 3, newer than the target's own 2) and from
// the replica on n1 of the target's active one (generation 2).
void checkpoint_seeds(const fs::path& dir) {
  using namespace amf::checkpoint;
  using std::chrono::milliseconds;
  const Header from_active{CheckpointName("counter-state"), amf::NodeId("n1"), 3};
  const Header to_active{CheckpointName("counter-state"), amf::NodeId("n1"), 2};
  Attributes a;
  a.max_sections = 4;
  a.max_section_size = 64;
  write(dir, "probe", encode(Message{Probe{from_active, {}, a}}));
  write(dir, "append-create",
        encode(Message{
            Append{from_active, {}, CreateSection{SectionId("s"), "1", milliseconds(20)}}}));
  write(dir, "append-write",
        encode(Message{Append{from_active, {3, 1}, WriteSection{SectionId("s"), 1, "23"}}}));
  write(dir, "snapshot",
        encode(Message{Snapshot{
            from_active,
            {3, 7},
            0,
            true,
            a,
            {{SectionId("s"), "42", std::nullopt}, {SectionId("t"), "", milliseconds(5)}}}}));
  write(dir, "in-service", encode(Message{InService{from_active, {}}}));
  write(dir, "ack", encode(Message{Ack{to_active, {2, 1}, false}}));
  write(dir, "resync", encode(Message{Resync{to_active, {}}}));
  write(dir, "pull", encode(Message{Pull{from_active}}));
}

// Envelopes of the two-node cluster that the wire_node target runs: the director on node-1
// (epoch 1) and node-2, both life 0. Commands go to node-2, reports to node-1.
void node_seeds(const fs::path& dir) {
  using namespace amf::protocol;
  using amf::model::HaState;
  using amf::model::OperState;
  using amf::model::PresenceState;
  const Endpoint n1{amf::NodeId("node-1"), 0}, n2{amf::NodeId("node-2"), 0};
  const amf::SuId su1("app/su-1"), su2("app/su-2");
  const amf::SiId si("app/si-1");
  auto to_node = [&](std::uint64_t seq, NodeCommand c) {
    return encode(Envelope{kEnvelopeVersion, n1, n2, 1, seq, 0, Message(std::move(c))});
  };
  auto to_director = [&](std::uint64_t seq, NodeReport r) {
    return encode(Envelope{kEnvelopeVersion, n2, n1, 1, seq, 0, Message(std::move(r))});
  };
  write(dir, "ack", encode(Envelope{kEnvelopeVersion, n2, n1, 1, 0, 3, std::nullopt}));
  write(dir, "instantiate", to_node(1, InstantiateSu{su2}));
  write(dir, "terminate", to_node(9, TerminateSu{su2}));
  write(dir, "repair", to_node(9, RepairSu{su2}));
  write(dir, "restart-component", to_node(9, RestartSu{su2, amf::CompId("app/su-2/server")}));
  write(dir, "assign-active",
        to_node(9, AssignHa{su2, si, HaState::kActive, amf::model::TransitionReason::kFailover,
                            (std::uint64_t{1} << 32) | 40}));
  write(dir, "remove", to_node(9, RemoveHa{su2, si, (std::uint64_t{1} << 32) | 41}));
  write(dir, "snapshot-request", to_node(9, SnapshotRequest{5}));
  write(dir, "su-disabled",
        to_director(3, SuStateReport{su2, PresenceState::kUninstantiated, OperState::kDisabled,
                                     "instantiation failed", true}));
  write(dir, "other-nodes-su",
        to_director(3, SuStateReport{su1, PresenceState::kUninstantiated, OperState::kDisabled,
                                     "not mine", true}));
  write(dir, "assignment-done",
        to_director(3, AssignmentDone{su2, si, HaState::kActive, (std::uint64_t{1} << 32) | 2}));
  write(dir, "removal-done", to_director(3, RemovalDone{su2, si, (std::uint64_t{1} << 32) | 3}));
  write(dir, "snapshot",
        to_director(3, NodeSnapshot{1,
                                    amf::NodeId("node-2"),
                                    0,
                                    false,
                                    {{su2,
                                      PresenceState::kInstantiated,
                                      OperState::kEnabled,
                                      true,
                                      false,
                                      {{si, HaState::kStandby}},
                                      {},
                                      0,
                                      0,
                                      0,
                                      {{amf::CompId("app/su-2/server"),
                                        PresenceState::kInstantiated,
                                        true,
                                        1,
                                        {{amf::CsiId("app/si-1/csi"), HaState::kStandby}}}}}}}));
}

// Store files of checkpoint "counter-state", as amfd's CheckpointStore writes them: a whole
// content, then operations; a torn tail; a second whole content.
void store_file_seeds(const fs::path& dir) {
  using namespace amf::checkpoint;
  using std::chrono::milliseconds;
  const CheckpointName name("counter-state");
  Attributes a;
  a.max_sections = 4;
  a.max_section_size = 64;
  auto record = [&](Persist p) {
    return amf::daemon::frame_record(encode(CheckpointRecord{name, a, std::move(p)}));
  };
  const std::string image =
      record(Persist{1, {3, 1}, std::nullopt, {{SectionId("s"), "1", std::nullopt}}});
  const std::string ops =
      record(Persist{2, {3, 2}, OverwriteSection{SectionId("s"), "2"}, {}}) +
      record(Persist{3, {3, 3}, CreateSection{SectionId("t"), "x", milliseconds(50)}, {}}) +
      record(Persist{4, {3, 4}, WriteSection{SectionId("t"), 1, "yz"}, {}}) +
      record(Persist{5, {3, 5}, DeleteSection{SectionId("s")}, {}});
  write(dir, "image", image);
  write(dir, "image-and-operations", image + ops);
  write(dir, "torn-tail", image + ops.substr(0, ops.size() - 3));
  write(dir, "second-image",
        image + ops +
            record(Persist{
                0,
                {4, 9},
                std::nullopt,
                {{SectionId("a"), "", std::nullopt}, {SectionId("b"), "q", milliseconds(9)}}}));
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  component_seeds(root / "wire_component");
  admin_request_seeds(root / "wire_admin_request");
  admin_reply_seeds(root / "wire_admin_reply");
  admin_seeds(root / "admin");
  membership_seeds(root / "wire_membership");
  checkpoint_seeds(root / "wire_checkpoint");
  node_seeds(root / "wire_node");
  store_file_seeds(root / "checkpoint_store_file");
  return 0;
}
