#include "models/policy.h"

#include <algorithm>
#include <string>

#include "models/no_redundancy.h"
#include "models/two_n.h"

namespace amf::models {
namespace {

// Rank 0 means unranked and sorts last; std::stable_sort keeps configuration order for ties.
bool rank_before(int a, int b) {
  if (a == 0) return false;
  if (b == 0) return true;
  return a < b;
}

}  // namespace

Result<std::unique_ptr<RedundancyPolicy>> make_policy(model::RedundancyModel model) {
  switch (model) {
    case model::RedundancyModel::kTwoN: return std::make_unique<TwoN>();
    case model::RedundancyModel::kNoRedundancy: return std::make_unique<NoRedundancy>();
    case model::RedundancyModel::kNPlusM:
    case model::RedundancyModel::kNWay:
    case model::RedundancyModel::kNWayActive: break;
  }
  return fail("redundancy model '" + std::string(model::to_string(model)) +
              "' is not implemented yet (implemented: 2n, no-redundancy)");
}

std::vector<SuId> in_service_by_rank(const std::vector<SuCandidate>& sus) {
  std::vector<SuCandidate> ordered;
  for (const auto& su : sus) {
    if (su.in_service) ordered.push_back(su);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const SuCandidate& a, const SuCandidate& b) { return rank_before(a.rank, b.rank); });
  std::vector<SuId> out;
  for (const auto& su : ordered) out.push_back(su.id);
  return out;
}

std::vector<const model::SiConfig*> sis_by_rank(const model::SgConfig& sg) {
  std::vector<const model::SiConfig*> out;
  for (const auto& si : sg.sis) out.push_back(&si);
  std::stable_sort(out.begin(), out.end(), [](const model::SiConfig* a, const model::SiConfig* b) {
    return rank_before(a->rank, b->rank);
  });
  return out;
}

}  // namespace amf::models
