#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "config/parse.h"

// Rules that span a whole service group: the counts its redundancy model allows, and which
// component of each SU takes each CSI.
namespace amf::config::detail {
namespace {

using model::RedundancyModel;

std::string plural(int n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string model_name(RedundancyModel model) { return std::string(model::to_string(model)); }

// A setting that only some redundancy models use; elsewhere only its default is accepted.
struct ModelSpecificKey {
  std::string_view key;
  int model::SgConfig::*field;
  int default_value;
  std::vector<RedundancyModel> models;
  std::string_view models_text;
};

const std::vector<ModelSpecificKey>& model_specific_keys() {
  static const std::vector<ModelSpecificKey> kKeys = {
      {"preferred_active_sus",
       &model::SgConfig::preferred_active_sus,
       1,
       {RedundancyModel::kNPlusM},
       "the n+m model"},
      {"preferred_standby_sus",
       &model::SgConfig::preferred_standby_sus,
       1,
       {RedundancyModel::kNPlusM},
       "the n+m model"},
      {"preferred_assigned_sus",
       &model::SgConfig::preferred_assigned_sus,
       0,
       {RedundancyModel::kNWay, RedundancyModel::kNWayActive},
       "the n-way and n-way-active models"},
      {"max_active_sis_per_su",
       &model::SgConfig::max_active_sis_per_su,
       0,
       {RedundancyModel::kNPlusM, RedundancyModel::kNWay, RedundancyModel::kNWayActive},
       "the n+m, n-way and n-way-active models"},
      {"max_standby_sis_per_su",
       &model::SgConfig::max_standby_sis_per_su,
       0,
       {RedundancyModel::kNPlusM, RedundancyModel::kNWay},
       "the n+m and n-way models"},
  };
  return kKeys;
}

void check_model_specific_keys(const model::SgConfig& sg, const SgSource& source,
                               Diagnostics& diags) {
  for (const ModelSpecificKey& rule : model_specific_keys()) {
    int value = sg.*rule.field;
    if (value == rule.default_value) continue;
    if (std::find(rule.models.begin(), rule.models.end(), sg.redundancy) != rule.models.end()) {
      continue;
    }
    diags.error(source.at(rule.key),
                "'" + std::string(rule.key) + "' applies only to " + std::string(rule.models_text) +
                    ", but service group '" + sg.name + "' is " + model_name(sg.redundancy) +
                    " (remove it or keep the default " + std::to_string(rule.default_value) + ")");
  }
}

void check_si_keys(const model::SgConfig& sg, const SgSource& source, Diagnostics& diags) {
  for (std::size_t i = 0; i < sg.sis.size(); ++i) {
    const model::SiConfig& si = sg.sis[i];
    const SiSource& where = source.sis[i];
    if (where.active_assignments && si.preferred_active_assignments != 1 &&
        sg.redundancy != RedundancyModel::kNWayActive) {
      diags.error(*where.active_assignments,
                  "'preferred_active_assignments' applies only to the n-way-active model, but "
                  "service group '" +
                      sg.name + "' is " + model_name(sg.redundancy) +
                      " (remove it or keep the default 1)");
    }
    if (where.standby_assignments && si.preferred_standby_assignments != 1 &&
        sg.redundancy != RedundancyModel::kNWay) {
      diags.error(*where.standby_assignments,
                  "'preferred_standby_assignments' applies only to the n-way model, but "
                  "service group '" +
                      sg.name + "' is " + model_name(sg.redundancy) +
                      " (remove it or keep the default 1)");
    }
  }
}

void check_n_plus_m(const model::SgConfig& sg, const SgSource& source, Diagnostics& diags) {
  const int sus = static_cast<int>(sg.sus.size());
  const int active = sg.preferred_active_sus;
  const int standby = sg.preferred_standby_sus;
  if (active < 1) {
    diags.error(source.at("preferred_active_sus"),
                "n+m needs at least 1 active service unit; preferred_active_sus is 0");
    return;
  }
  if (active + standby <= sus) return;
  Mark at = source.has("preferred_standby_sus")  ? source.at("preferred_standby_sus")
            : source.has("preferred_active_sus") ? source.at("preferred_active_sus")
                                                 : source.at("redundancy");
  diags.error(at, "n+m with " + std::to_string(active) + " active and " + std::to_string(standby) +
                      " standby SUs needs at least " +
                      plural(active + standby, "service unit", "service units") + "; " +
                      std::to_string(sus) + (sus == 1 ? " is" : " are") + " configured");
}

void check_no_redundancy(const model::SgConfig& sg, const SgSource& source, Diagnostics& diags) {
  const int sus = static_cast<int>(sg.sus.size());
  const int sis = static_cast<int>(sg.sis.size());
  if (sis <= sus) return;
  diags.error(source.at("redundancy"),
              "no-redundancy assigns at most one service instance per service unit: " +
                  plural(sis, "service instance needs", "service instances need") + " at least " +
                  plural(sis, "service unit", "service units") + "; " + std::to_string(sus) +
                  (sus == 1 ? " is" : " are") + " configured");
}

void check_assignments(const model::SgConfig& sg, const SgSource& source, Diagnostics& diags) {
  const int sus = static_cast<int>(sg.sus.size());
  for (std::size_t i = 0; i < sg.sis.size(); ++i) {
    const model::SiConfig& si = sg.sis[i];
    const SiSource& where = source.sis[i];
    if (!where.counts_complete) continue;
    if (sg.redundancy == RedundancyModel::kNWay && si.preferred_standby_assignments > sus - 1) {
      diags.error(where.standby_assignments.value_or(where.mark),
                  "n-way with " + plural(sus, "service unit", "service units") +
                      " allows at most " +
                      plural(sus - 1, "standby assignment", "standby assignments") +
                      " per service instance (one SU holds the active); "
                      "service instance '" +
                      si.name + "' asks for " + std::to_string(si.preferred_standby_assignments));
    }
    const int active = si.preferred_active_assignments;
    if (sg.redundancy == RedundancyModel::kNWayActive && (active < 1 || active > sus)) {
      diags.error(where.active_assignments.value_or(where.mark),
                  "n-way-active with " + plural(sus, "service unit", "service units") +
                      " allows between 1 and " + std::to_string(sus) +
                      " active assignments per service instance; service instance '" + si.name +
                      "' asks for " + std::to_string(active));
    }
  }
}

void check_at_most_sus(const model::SgConfig& sg, const SgSource& source, std::string_view key,
                       int value, Diagnostics& diags) {
  const int sus = static_cast<int>(sg.sus.size());
  if (value <= sus) return;
  diags.error(source.at(key), "'" + std::string(key) + "' is " + std::to_string(value) + " but " +
                                  model_name(sg.redundancy) + " service group '" + sg.name +
                                  "' has only " + plural(sus, "service unit", "service units"));
}

// The names of the components of `su` that support `cs_type`.
std::vector<std::string> supporters(const model::SuConfig& su, const std::string& cs_type) {
  std::vector<std::string> names;
  for (const model::ComponentConfig& comp : su.components) {
    if (std::find(comp.cs_types.begin(), comp.cs_types.end(), cs_type) != comp.cs_types.end()) {
      names.push_back(comp.name);
    }
  }
  return names;
}

void check_csi(const model::SgConfig& sg, const SgSource& source, const model::SiConfig& si,
               const model::CsiConfig& csi, Mark at, Diagnostics& diags) {
  const int template_sus = static_cast<int>(std::count_if(
      source.sus.begin(), source.sus.end(), [](const SuSource& s) { return s.from_template; }));
  bool template_checked = false;
  for (std::size_t k = 0; k < sg.sus.size(); ++k) {
    if (!source.sus[k].complete) continue;
    // Stamped SUs have identical components: one message covers them all.
    if (source.sus[k].from_template && std::exchange(template_checked, true)) continue;
    const model::SuConfig& su = sg.sus[k];
    std::string alike = source.sus[k].from_template && template_sus > 1
                            ? " (the same holds for every SU stamped by su_template)"
                            : "";
    std::string needed = "CSI '" + csi.name + "' of service instance '" + si.name + "'";
    std::vector<std::string> names = supporters(su, csi.cs_type);
    if (names.empty()) {
      diags.error(at, "no component of SU '" + su.name + "' supports cs_type '" + csi.cs_type +
                          "', needed by " + needed + alike);
    } else if (names.size() > 1) {
      diags.error(at, "cs_type '" + csi.cs_type + "' is ambiguous in SU '" + su.name +
                          "': components '" + names[0] + "' and '" + names[1] +
                          "' both support it; " + needed + " needs exactly one");
    }
  }
}

}  // namespace

void check_counts(const model::SgConfig& sg, const SgSource& source, Diagnostics& diags) {
  if (sg.sus.empty()) return;
  check_model_specific_keys(sg, source, diags);
  check_si_keys(sg, source, diags);
  switch (sg.redundancy) {
    case RedundancyModel::kNPlusM:
      check_n_plus_m(sg, source, diags);
      break;
    case RedundancyModel::kNoRedundancy:
      check_no_redundancy(sg, source, diags);
      break;
    case RedundancyModel::kNWay:
    case RedundancyModel::kNWayActive:
      check_assignments(sg, source, diags);
      break;
    case RedundancyModel::kTwoN:
      break;
  }
  check_at_most_sus(sg, source, "preferred_inservice_sus", sg.preferred_inservice_sus, diags);
  if (sg.redundancy == RedundancyModel::kNWay || sg.redundancy == RedundancyModel::kNWayActive) {
    check_at_most_sus(sg, source, "preferred_assigned_sus", sg.preferred_assigned_sus, diags);
  }
}

void check_cs_types(const model::SgConfig& sg, const SgSource& source, Diagnostics& diags) {
  for (std::size_t i = 0; i < sg.sis.size(); ++i) {
    const model::SiConfig& si = sg.sis[i];
    for (std::size_t j = 0; j < si.csis.size(); ++j) {
      const CsiSource& where = source.sis[i].csis[j];
      if (where.complete) check_csi(sg, source, si, si.csis[j], where.cs_type, diags);
    }
  }
}

}  // namespace amf::config::detail
