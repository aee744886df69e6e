#include "containers/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "containers/proc_files.h"

namespace amf::containers {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// The mount point of the cgroup2 (unified) hierarchy: /sys/fs/cgroup on a pure v2 host,
// /sys/fs/cgroup/unified on a hybrid one. Empty when there is none.
std::string unified_mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "36 25 0:31 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw"
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string type;
    tail >> type;
    if (type != "cgroup2") continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, dev, root, mount_point;
    head >> id >> parent >> dev >> root >> mount_point;
    if (root == "/") return mount_point;
  }
  return "";
}

// This process's cgroup in the unified hierarchy ("/" or "/system.slice/amfd.service").
std::string own_cgroup(pid_t pid = 0) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/cgroup")
                            : "/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return "";
}

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool populated(const std::string& dir) {
  std::istringstream events(read_kernel_file(dir + "/cgroup.events"));
  std::string key;
  int value = 0;
  while (events >> key >> value) {
    if (key == "populated") return value != 0;
  }
  return false;  // gone
}

std::vector<pid_t> procs(const std::string& dir) {
  std::istringstream in(read_kernel_file(dir + "/cgroup.procs"));
  std::vector<pid_t> out;
  pid_t pid = 0;
  while (in >> pid) out.push_back(pid);
  return out;
}

bool write_kill(const std::string& dir) {
  const int fd = ::open((dir + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "1", 1) == 1;
  ::close(fd);
  return ok;
}

// Leaves below `dir`, deepest first, so that they can be removed in order.
void leaves_below(const std::string& dir, std::vector<std::string>& out) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    leaves_below(entry.path().string(), out);
    out.push_back(entry.path().string());
  }
}

}  // namespace

std::string path_element(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '/') {
      out += "%2F";
    } else if (c == '%') {
      out += "%25";
    } else {
      out += c;
    }
  }
  return out;
}

std::string command_line(pid_t pid) {
  std::string text = read_kernel_file("/proc/" + std::to_string(pid) + "/cmdline");
  while (!text.empty() && text.back() == '\0') text.pop_back();
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

bool process_has_mark(pid_t pid, const std::string& mark) {
  const std::string env = read_kernel_file("/proc/" + std::to_string(pid) + "/environ");
  std::size_t at = 0;
  while (at < env.size()) {
    const std::size_t next = env.find('\0', at);
    const std::size_t len = (next == std::string::npos ? env.size() : next) - at;
    if (env.compare(at, len, mark) == 0) return true;
    if (next == std::string::npos) break;
    at = next + 1;
  }
  return false;
}

std::vector<pid_t> processes_with_mark(const std::string& mark) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 1 || pid == ::getpid()) continue;
    if (process_has_mark(static_cast<pid_t>(pid), mark)) found.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return found;
}

CgroupTree::CgroupTree(std::string path) : path_(std::move(path)) {}

CgroupTree::CgroupTree(CgroupTree&& other) noexcept
    : path_(std::move(other.path_)),
      relative_(std::move(other.relative_)),
      fds_(std::move(other.fds_)) {
  other.fds_.clear();
}

CgroupTree& CgroupTree::operator=(CgroupTree&& other) noexcept {
  if (this != &other) {
    close_all();
    path_ = std::move(other.path_);
    relative_ = std::move(other.relative_);
    fds_ = std::move(other.fds_);
    other.fds_.clear();
  }
  return *this;
}

CgroupTree::~CgroupTree() { close_all(); }

void CgroupTree::close_all() {
  for (const auto& [leaf, fd] : fds_) ::close(fd);
  fds_.clear();
}

Result<CgroupTree> CgroupTree::open(const std::string& runtime_dir) {
  const std::string mount = unified_mount();
  if (mount.empty()) return fail("no cgroup2 (unified) hierarchy is mounted");
  const std::string own = own_cgroup();
  if (own.empty()) return fail("this process is in no cgroup of the unified hierarchy");
  std::error_code ec;
  const std::string dir = fs::weakly_canonical(fs::absolute(runtime_dir), ec).string();
  char tag[32];
  std::snprintf(tag, sizeof tag, "amf-%016llx", static_cast<unsigned long long>(fnv1a(dir)));
  const std::string parent = own == "/" ? "" : own;
  return open_at(mount + parent + "/" + tag);
}

Result<CgroupTree> CgroupTree::open_at(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail("cannot create cgroup " + path + ": " + errno_text(errno));
  }
  if (::access((path + "/cgroup.kill").c_str(), W_OK) != 0) {
    return fail("cgroup " + path + " has no writable cgroup.kill (Linux 5.14 or later is needed)");
  }
  CgroupTree tree(path);
  // How /proc/PID/cgroup will name it: the path below the mount.
  const std::string mount = unified_mount();
  tree.relative_ = path.rfind(mount, 0) == 0 ? path.substr(mount.size()) : path;
  return tree;
}

Result<std::vector<EndedProcess>> CgroupTree::sweep(int limit_ms) {
  close_all();
  std::vector<std::string> leaves;
  leaves_below(path_, leaves);
  std::vector<EndedProcess> ended;
  for (const std::string& leaf : leaves) {
    for (pid_t pid : procs(leaf)) {
      ended.push_back({pid, fs::path(leaf).filename().string(), command_line(pid)});
    }
    if (populated(leaf)) write_kill(leaf);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  std::vector<std::string> stuck;
  for (const std::string& leaf : leaves) {
    while (populated(leaf) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (::rmdir(leaf.c_str()) != 0 && errno != ENOENT) stuck.push_back(leaf);
  }
  if (!stuck.empty()) {
    std::string names;
    for (const auto& s : stuck) names += (names.empty() ? "" : ", ") + s;
    return fail("processes still alive " + std::to_string(limit_ms) + " ms after cgroup.kill in " +
                names);
  }
  return ended;
}

Result<int> CgroupTree::create(const std::string& leaf) {
  const std::string dir = path_ + "/" + leaf;
  remove(leaf);
  if (::mkdir(dir.c_str(), 0755) != 0) {
    if (errno != EEXIST) return fail("cannot create cgroup " + dir + ": " + errno_text(errno));
    // Left over and still busy: end what is in it, it is ours.
    write_kill(dir);
  }
  const int fd = ::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open " + dir + "/cgroup.procs: " + errno_text(errno));
  fds_.emplace_back(leaf, fd);
  return fd;
}

void CgroupTree::kill(const std::string& leaf) {
  const std::string dir = path_ + "/" + leaf;
  if (populated(dir)) write_kill(dir);
}

void CgroupTree::close_procs(const std::string& leaf) {
  auto it = std::find_if(fds_.begin(), fds_.end(), [&](const auto& e) { return e.first == leaf; });
  if (it != fds_.end()) {
    ::close(it->second);
    fds_.erase(it);
  }
}

void CgroupTree::remove(const std::string& leaf) {
  close_procs(leaf);
  ::rmdir((path_ + "/" + leaf).c_str());  // EBUSY while processes die: the next sweep
}

bool CgroupTree::contains(const std::string& leaf, pid_t pid) const {
  return pid > 0 && own_cgroup(pid) == relative_ + "/" + leaf;
}

std::vector<pid_t> CgroupTree::members(const std::string& leaf) const {
  return procs(path_ + "/" + leaf);
}

}  // namespace amf::containers
