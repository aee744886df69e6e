#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "amf/core/id.h"
#include "amf/director/director.h"

namespace amf::test {

// Answers a director as a node director does: remembers the id of the last AssignHa and
// RemoveHa sent for each SU and SI, and puts it in the answer. Tests of the director core feed
// it every effect batch (record) and answer with done() and removed().
class CommandIds {
 public:
  void record(const std::vector<director::Effect>& effects) {
    for (const auto& e : effects) {
      const auto* to = std::get_if<director::ToNode>(&e);
      if (to == nullptr) continue;
      if (const auto* a = std::get_if<protocol::AssignHa>(&to->command)) {
        ids_[{a->su, a->si}] = a->id;
      } else if (const auto* r = std::get_if<protocol::RemoveHa>(&to->command)) {
        ids_[{r->su, r->si}] = r->id;
      }
    }
  }
  // The answer to the last command for `su` and `si` (id 0 if none was sent: the director
  // takes it for an answer to nothing).
  protocol::AssignmentDone done(const SuId& su, const SiId& si, model::HaState ha) const {
    return {su, si, ha, id(su, si)};
  }
  protocol::RemovalDone removed(const SuId& su, const SiId& si) const {
    return {su, si, id(su, si)};
  }
  protocol::CommandId id(const SuId& su, const SiId& si) const {
    auto it = ids_.find({su, si});
    return it == ids_.end() ? 0 : it->second;
  }

 private:
  std::map<std::pair<SuId, SiId>, protocol::CommandId> ids_;
};

}  // namespace amf::test
