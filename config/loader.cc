#include "config/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
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

// What a file that is not a regular one is, for the message.
std::string file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string count(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace

std::string Diagnostic::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace detail {

tl::expected<std::string, Diagnostic> read_config_file(const std::string& path) {
  auto fail_with = [&](std::string message) {
    return tl::unexpected(make_diagnostic(path, 0, 0, message));
  };
  auto not_a_file = [&](mode_t mode) {
    return fail_with("not a regular file (" + file_kind(mode) +
                     "); the configuration must be a regular file");
  };
  const std::string too_big =
      "configuration file is larger than " + std::to_string(kMaxFileBytes) + " bytes";
  // Look before opening: opening a FIFO blocks until a writer comes, and opening a device can
  // do things (a tape rewinds, a terminal becomes ours).
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return fail_with("cannot open configuration: " + os_reason(errno));
  }
  if (!S_ISREG(info.st_mode)) return not_a_file(info.st_mode);
  if (static_cast<unsigned long long>(info.st_size) > kMaxFileBytes) return fail_with(too_big);
  // O_NONBLOCK in case the path was replaced by something else since: open never waits, and
  // what was opened is checked again.
  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0) return fail_with("cannot open configuration: " + os_reason(errno));
  if (::fstat(fd.get(), &info) != 0) {
    return fail_with("cannot read configuration: " + os_reason(errno));
  }
  if (!S_ISREG(info.st_mode)) return not_a_file(info.st_mode);
  std::string text;
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_with("cannot read configuration: " + os_reason(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileBytes) return fail_with(too_big);  // it grew since fstat
  }
  return text;
}

}  // namespace detail

LoadResult load_file(const std::string& path) {
  auto text = detail::read_config_file(path);
  if (!text) return tl::unexpected(std::vector<Diagnostic>{text.error()});
  return load_string(*text, path);
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
