// A fixed corpus: 50 seeds x every model x 10 simulated minutes under a mix of faults, all
// clean. Each failure names its seed and configuration; replay it with the same spec in
// amf-sim (--spec "..." --faults ... --seed N --duration 10m).
#include <gtest/gtest.h>

#include <sstream>

#include "sim/cluster_spec.h"
#include "sim/simulation.h"

namespace amf::sim {
namespace {

// Cleanup failures are left out until findings 9 and 10 of sim/README.md are fixed.
constexpr const char* kFaults =
    "crash=0.003,hang=0.001,instantiate=0.001,slow=0.001,error=0.001,report=0.001,admin=0.02";

struct CorpusCase {
  const char* spec;
  const char* faults;
};

const CorpusCase kCases[] = {
    {"2n sus=2 sis=2", kFaults},
    {"2n sus=3 sis=1 recovery=su-restart health=amf health-period=5s health-max=1s", kFaults},
    {"no-redundancy sus=3 sis=2 recovery=component-restart", kFaults},
    {"n+m sus=4 sis=4 active-sus=2 standby-sus=1 max-active=2", kFaults},
    {"n-way sus=3 sis=3 standbys=1 health=component health-period=5s health-max=2s", kFaults},
    {"n-way-active sus=3 sis=2 actives=2 recovery=component-restart comp-restart-max=1", kFaults},
    {"2n sus=2 sis=2 components=2 recovery=su-restart", kFaults},
};

class SimCorpusTest : public ::testing::TestWithParam<CorpusCase> {};

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

TEST_P(SimCorpusTest, FiftySeedsRunClean) {
  auto sg = parse_sg_spec(words(GetParam().spec));
  ASSERT_TRUE(sg) << sg.error().message();
  auto config = build({"sim", 1, {*sg}});
  std::uint64_t steps = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    Options options;
    options.faults = *FaultSpec::parse(GetParam().faults);
    auto sim = Simulation::create(config, seed, options);
    ASSERT_TRUE(sim) << sim.error().message();
    (*sim)->start();
    (*sim)->run_for(std::chrono::minutes(10));
    if (!(*sim)->violation()) (*sim)->settle();
    ASSERT_FALSE((*sim)->violation())
        << "replay: amf-sim --spec \"" << GetParam().spec << "\" --faults " << GetParam().faults
        << " --seed " << seed << " --duration 10m --trace\n"
        << (*sim)->violation()->describe();
    steps += (*sim)->stats().steps;
  }
  EXPECT_GT(steps, 1000u);
}

INSTANTIATE_TEST_SUITE_P(Models, SimCorpusTest, ::testing::ValuesIn(kCases));

}  // namespace
}  // namespace amf::sim
