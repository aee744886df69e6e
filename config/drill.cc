#include "config/drill.h"

#include <algorithm>
#include <exception>
#include <filesystem>

#include "config/document.h"
#include "config/reader.h"
#include "config/text.h"

namespace amf::config {

using detail::MapReader;

DrillResult load_drill_string(std::string_view yaml, const std::string& file_name) {
  try {
    auto document = detail::parse_document(yaml, file_name);
    if (!document) return tl::unexpected(std::vector<Diagnostic>{document.error()});
    detail::Diagnostics diags(file_name);
    detail::check_text(*document, diags);
    DrillFile drill;
    const detail::Node* faults_node = nullptr;
    MapReader r(*document, document->mark, "drill",
                {"name", "config", "sg", "warmup_ms", "observe_ms", "faults"}, {"config", "faults"},
                diags);
    if (r.is_mapping()) {
      drill.name = r.string("name").value_or(std::filesystem::path(file_name).stem().string());
      if (auto config = r.string("config")) {
        std::filesystem::path path(*config);
        if (path.is_relative()) path = std::filesystem::path(file_name).parent_path() / path;
        drill.config = path.lexically_normal().string();
      }
      drill.sg = r.string("sg").value_or("");
      if (auto d = r.duration("warmup_ms")) drill.warmup = *d;
      if (auto d = r.duration("observe_ms")) drill.observe = *d;
      faults_node = r.nonempty_sequence("faults", "fault");
      if (const detail::Node* faults = faults_node) {
        for (const detail::Node& item : faults->items) {
          MapReader f(item, item.mark, "fault", {"at_ms", "fault", "count"}, {"at_ms", "fault"},
                      diags);
          if (!f.is_mapping()) continue;
          DrillFaultSpec spec;
          if (auto at = f.integer("at_ms", 0, detail::kMaxDurationMs)) {
            spec.at = std::chrono::milliseconds(*at);
          }
          if (auto kind = f.string("fault")) {
            const bool known = std::find(std::begin(kDrillFaults), std::end(kDrillFaults), *kind) !=
                               std::end(kDrillFaults);
            if (!known) {
              diags.error(f.value_mark("fault"),
                          "'" + *kind +
                              "' is not a fault; one of component-crash, component-hang, "
                              "sandbox-death, node-crash, crash-loop");
            }
            spec.fault = *kind;
          }
          if (auto count = f.integer("count", 1, 1'000)) {
            if (spec.fault != "crash-loop") {
              diags.error(f.key_mark("count"), "only a crash-loop fault takes a count");
            }
            spec.count = *count;
          }
          drill.faults.push_back(std::move(spec));
        }
      }
    }
    for (std::size_t i = 0; i < drill.faults.size() && faults_node != nullptr; ++i) {
      if (drill.faults[i].at >= drill.observe) {
        const detail::Node& item = faults_node->items[i];
        diags.error(item.mark, "the fault at " + std::to_string(drill.faults[i].at.count()) +
                                   " ms comes after the client stops (observe_ms " +
                                   std::to_string(drill.observe.count()) + ")");
      }
    }
    if (diags.count() > 0) return tl::unexpected(diags.take());
    std::stable_sort(drill.faults.begin(), drill.faults.end(),
                     [](const auto& a, const auto& b) { return a.at < b.at; });
    return drill;
  } catch (const std::exception& e) {
    return tl::unexpected(std::vector<Diagnostic>{
        detail::make_diagnostic(file_name, 0, 0, std::string("cannot load drill: ") + e.what())});
  }
}

DrillResult load_drill_file(const std::string& path) {
  auto text = detail::read_config_file(path);
  if (!text) return tl::unexpected(std::vector<Diagnostic>{text.error()});
  return load_drill_string(*text, path);
}

}  // namespace amf::config
