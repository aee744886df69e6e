#include "config/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "config/document.h"
#include "config/parse.h"
#include "config/reader.h"
#include "config/text.h"

namespace amf::config {
namespace {

// Far above any real configuration; stops a wrong path (a log, a device) from being slurped.
constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;

LoadResult fail(const std::string& file, int line, int column, std::string message) {
  return tl::unexpected(
      std::vector<Diagnostic>{detail::make_diagnostic(file, line, column, message)});
}

std::string os_reason(int error) { return std::system_category().message(error); }

std::string count(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace

std::string Diagnostic::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

LoadResult load_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return fail(path, 0, 0, "cannot open configuration: " + os_reason(errno));
  std::string text;
  char buffer[64 * 1024];
  while (true) {
    std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (text.size() > kMaxFileBytes) {
      return fail(path, 0, 0,
                  "configuration file is larger than " + std::to_string(kMaxFileBytes) + " bytes");
    }
    if (n < sizeof buffer) break;
  }
  if (std::ferror(file.get())) {
    return fail(path, 0, 0, "cannot read configuration: " + os_reason(errno));
  }
  return load_string(text, path);
}

LoadResult load_string(std::string_view yaml, const std::string& file_name) {
  if (yaml.size() > kMaxFileBytes) {
    return fail(file_name, 0, 0,
                "configuration is larger than " + std::to_string(kMaxFileBytes) + " bytes");
  }
  try {
    tl::expected<detail::Node, Diagnostic> document = detail::parse_document(yaml, file_name);
    if (!document) return tl::unexpected(std::vector<Diagnostic>{document.error()});
    detail::Diagnostics diags(file_name);
    detail::check_text(*document, diags);
    model::ClusterConfig config = detail::parse_cluster(*document, diags);
    if (diags.count() > 0) return tl::unexpected(diags.take());
    return config;
  } catch (const std::exception& e) {
    // Only resource exhaustion gets here (bad_alloc); report it rather than crash the caller.
    return fail(file_name, 0, 0, std::string("cannot load configuration: ") + e.what());
  }
}

std::string summary(const model::ClusterConfig& config) {
  std::size_t sus = 0, components = 0, sis = 0, csis = 0;
  std::vector<model::RedundancyModel> models;
  std::vector<const model::SgConfig*> sgs = config.service_groups();
  for (const model::SgConfig* sg : sgs) {
    if (std::find(models.begin(), models.end(), sg->redundancy) == models.end()) {
      models.push_back(sg->redundancy);
    }
    sus += sg->sus.size();
    for (const model::SuConfig& su : sg->sus) components += su.components.size();
    sis += sg->sis.size();
    for (const model::SiConfig& si : sg->sis) csis += si.csis.size();
  }
  std::string model_list;
  for (model::RedundancyModel model : models) {
    model_list += (model_list.empty() ? " (" : ", ") + std::string(model::to_string(model));
  }
  if (!model_list.empty()) model_list += ")";
  return "cluster '" + detail::printable(config.name) +
         "': " + count(config.nodes.size(), "node", "nodes") + ", " +
         count(config.applications.size(), "application", "applications") + ", " +
         count(sgs.size(), "service group", "service groups") + model_list + ", " +
         count(sus, "service unit", "service units") + ", " +
         count(components, "component", "components") + ", " +
         count(sis, "service instance", "service instances") + ", " + count(csis, "CSI", "CSIs");
}

}  // namespace amf::config
