// Fuzz target admin: admin requests as amfd receives them on admin.sock, decoded with
// decode_admin_request and handed to a director::Director the way amfd does it (an unknown
// operation is answered without the director; a known one becomes a director::AdminRequest),
// on one of a few small fixed configurations, with the director and node directors wired
// together in memory (tests/unit/support/local_cluster.h) and every effect pumped until the
// cluster settles. Input format: admin_input.h. Kills and the passing of time may come between
// requests, so sequences (lock, then kill the standby, then si-swap...) are reached.
//
// Checked: nothing asserts or crashes; the cluster always settles; every request the director
// was given is answered by exactly one AdminResult of its id once the 60 s time limit has
// passed (admin.h); every answer and status encodes to an admin reply that decodes.
#include "amf/director/admin.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "amf/core/assert.h"
#include "amf/director/director.h"
#include "amf/wire/codec.h"
#include "tests/fuzz/admin_input.h"
#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/test_config.h"

namespace {

namespace input = amf::fuzz::admin_input;
using amf::model::RedundancyModel;

struct Configuration {
  amf::test::ClusterSpec spec;
  bool si_dependency = false;       // app/si-2 depends on app/si-1
  int preferred_inservice_sus = 0;  // 0: all (below the SU count: spares)
  bool auto_adjust = false;
};

// Small and fixed, so that the entity names a request may hit are few: SG and application
// "app", cluster "test", nodes "node-1" (and "node-2"), SUs "app/su-<n>", components
// "app/su-<n>/server", SIs "app/si-<n>".
const std::vector<Configuration>& configurations() {
  static const std::vector<Configuration> all = {
      {{.redundancy = RedundancyModel::kTwoN, .sus = 2, .sis = 1}},
      {{.redundancy = RedundancyModel::kNPlusM, .sus = 3, .sis = 2}},
      {{.redundancy = RedundancyModel::kNWay, .sus = 3, .sis = 3}},
      {{.redundancy = RedundancyModel::kNWayActive, .sus = 3, .sis = 2}},
      {{.redundancy = RedundancyModel::kNoRedundancy, .sus = 3, .sis = 2}, true},
      {{.redundancy = RedundancyModel::kTwoN,
        .sus = 3,
        .sis = 2,
        .recovery = amf::model::Recovery::kSuFailover,
        .nodes = {"node-1", "node-2", "node-2"}},
       false,
       2,
       true},
  };
  return all;
}

std::shared_ptr<const amf::model::ClusterConfig> make_config(const Configuration& c) {
  auto config = std::const_pointer_cast<amf::model::ClusterConfig>(amf::test::make_cluster(c.spec));
  amf::model::SgConfig& sg = config->applications.at(0).service_groups.at(0);
  if (c.si_dependency) sg.sis.at(1).dependencies.push_back({amf::test::si(1)});
  sg.preferred_inservice_sus = c.preferred_inservice_sus;
  sg.auto_adjust = c.auto_adjust;
  return config;
}

// What amfd's status() builds from the director, through the reply codec as amfctl reads it.
void check_status(amf::test::LocalCluster& cluster, const amf::model::ClusterConfig& config) {
  amf::wire::ClusterStatus out{config.name, "node-1", {}};
  const auto sus = cluster.director().service_units();
  for (const amf::model::SgConfig* sg : config.service_groups()) {
    amf::wire::ServiceGroupStatus s{sg->id.str(),
                                    std::string(amf::model::to_string(sg->redundancy)),
                                    cluster.director().busy(sg->id),
                                    {},
                                    {}};
    for (const auto& su : sus) {
      if (su.sg != sg->id) continue;
      s.service_units.push_back({su.id.str(),
                                 su.node.str(),
                                 std::string(amf::model::to_string(su.admin)),
                                 std::string(amf::model::to_string(su.oper)),
                                 std::string(amf::model::to_string(su.presence)),
                                 std::string(amf::model::to_string(su.readiness)),
                                 {}});
    }
    const auto assignments = cluster.director().assignments(sg->id);
    for (const auto& si : sg->sis) {
      (void)cluster.director().si_admin(si.id);
      amf::wire::ServiceInstanceStatus i{si.id.str(), {}};
      for (const auto& a : assignments) {
        if (a.si == si.id) i.assignments.push_back({a.su.str(), std::string(to_string(a.ha))});
      }
      s.service_instances.push_back(std::move(i));
    }
    out.service_groups.push_back(std::move(s));
  }
  AMF_ASSERT(amf::wire::decode_admin_reply(amf::wire::encode(out)).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Configuration& configuration = configurations()[data[0] % configurations().size()];
  const auto config = make_config(configuration);
  amf::test::LocalCluster cluster(config);
  cluster.start();

  std::uint64_t next_id = 1;
  std::size_t at = 1;
  for (std::size_t records = 0; at < size && records < input::kMaxRecords; ++records) {
    const std::uint8_t tag = data[at++];
    if (tag <= input::kMaxRequestBytes) {
      const std::size_t length = std::min<std::size_t>(tag, size - at);
      const std::string_view bytes(reinterpret_cast<const char*>(data + at), length);
      at += length;
      const auto request = amf::wire::decode_admin_request(bytes);
      if (!request) continue;  // amfd answers "bad request"
      if (std::holds_alternative<amf::wire::StatusRequest>(*request)) {
        check_status(cluster, *config);
        continue;
      }
      const auto* op = std::get_if<amf::wire::AdminOperation>(&*request);
      if (op == nullptr) continue;  // events: the event log, not the director
      const auto parsed = amf::director::parse_admin_op(op->operation);
      if (!parsed) continue;  // amfd answers "unknown operation" itself
      const auto kind = amf::director::parse_entity_kind(op->entity_kind);
      if (!kind) continue;  // amfd answers "unknown entity kind" itself
      // LocalCluster numbers its requests 1, 2, ... as they come.
      cluster.admin(*parsed, *kind, op->entity);
      ++next_id;
    } else if (tag < input::kSecond) {
      const int n = (tag - input::kKill) % configuration.spec.sus + 1;
      cluster.kill(amf::test::comp(n));
    } else if (tag == input::kSecond) {
      cluster.advance(std::chrono::seconds(1));
    } else if (tag == input::kAdminTimeLimit) {
      cluster.advance(std::chrono::seconds(61));
    } else if (tag == input::kTenMinutes) {
      cluster.advance(std::chrono::minutes(10));
    }
  }

  // Past every operation's time limit: each request has had its one answer.
  cluster.advance(std::chrono::seconds(61));
  cluster.advance(std::chrono::seconds(61));
  std::map<std::uint64_t, int> answers;
  for (const amf::director::AdminResult& result : cluster.results()) {
    AMF_ASSERT(result.id >= 1 && result.id < next_id);
    ++answers[result.id];
    AMF_ASSERT(amf::wire::decode_admin_reply(
                   amf::wire::encode(amf::wire::AdminOperationResult{result.ok, result.message}))
                   .has_value());
  }
  for (std::uint64_t id = 1; id < next_id; ++id) AMF_ASSERT(answers[id] == 1);
  check_status(cluster, *config);
  return 0;
}
