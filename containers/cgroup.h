#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "amf/core/result.h"

namespace amf::containers {

// A process that was ended because it was left in a cgroup (or found by its instance mark).
struct EndedProcess {
  pid_t pid = 0;
  std::string cgroup;   // the leaf (component instance) it was found in
  std::string command;  // its command line, spaces for NULs, for the log
};

// One cgroup v2 directory per amfd runtime directory, with one leaf per component instance, so
// that ending a component ends every process it left behind: children that called setsid,
// that ignore SIGTERM, that were orphaned. Controllers are never enabled; the tree only
// contains and kills (cgroup.kill, Linux 5.14).
//
// The tree lives under amfd's own cgroup (a systemd unit's, or the root) at a name derived
// from the runtime directory, so an amfd started again on the same directory after a crash
// finds everything its predecessor left running and can end it before it starts anything.
//
// Not thread-safe; held by the daemon's loop thread. Owns a cgroup.procs descriptor per leaf
// handed out by create() until remove().
class CgroupTree {
 public:
  // The tree for `runtime_dir`, created when missing. Fails when the host has no writable
  // unified hierarchy (not root, cgroup v1 only, cgroup.kill missing): the caller falls back
  // to process groups and instance marks.
  static Result<CgroupTree> open(const std::string& runtime_dir);
  // For tests: the tree at an explicit path inside a cgroup2 mount.
  static Result<CgroupTree> open_at(const std::string& path);

  CgroupTree(CgroupTree&&) noexcept;
  CgroupTree& operator=(CgroupTree&&) noexcept;
  CgroupTree(const CgroupTree&) = delete;
  CgroupTree& operator=(const CgroupTree&) = delete;
  ~CgroupTree();

  const std::string& path() const { return path_; }

  // Ends every process in every leaf (left by an earlier amfd, or by this one) and removes the
  // leaves. Waits at most `limit_ms` for the kernel to empty them; what is still there then
  // is reported as an error naming the leaves.
  Result<std::vector<EndedProcess>> sweep(int limit_ms = 2000);

  // A fresh, empty leaf named `leaf` (an old one of that name is killed first) and a
  // descriptor on its cgroup.procs, open for writing, through which a new process moves
  // itself in before it execs (ProcessSpec::cgroup_procs_fd). The descriptor stays owned by
  // the tree.
  Result<int> create(const std::string& leaf);

  // Closes the descriptor create() handed out, once the process has moved in: every open
  // descriptor of amfd's is copied at each process start, and a node may run thousands of
  // components. The leaf stays.
  void close_procs(const std::string& leaf);

  // SIGKILLs every process in the leaf at once (cgroup.kill); the leaf itself stays until
  // remove(). Nothing happens for an unknown leaf.
  void kill(const std::string& leaf);

  // Removes the leaf once it is empty (a leaf whose processes are still dying is retried at
  // the next sweep). Closes its descriptor.
  void remove(const std::string& leaf);

  // Whether `pid` is a member of the leaf right now (its /proc/PID/cgroup names it).
  bool contains(const std::string& leaf, pid_t pid) const;

  // The processes in the leaf now.
  std::vector<pid_t> members(const std::string& leaf) const;

 private:
  explicit CgroupTree(std::string path);
  void close_all();

  std::string path_;      // absolute path in the cgroup2 mount
  std::string relative_;  // the same as /proc/PID/cgroup shows it ("/amf-...")
  std::vector<std::pair<std::string, int>> fds_;  // leaf -> its cgroup.procs, open to write
};

// A name usable as one path element (a cgroup leaf, a file name) for `name`: '%' and '/'
// are percent-encoded, so distinct names stay distinct.
std::string path_element(const std::string& name);

// The command line of `pid`, NULs as spaces ("" when it is gone).
std::string command_line(pid_t pid);

// Without cgroups: the processes whose environment holds `mark` ("NAME=VALUE"), found
// through /proc. Processes of other users are not readable and so never found.
std::vector<pid_t> processes_with_mark(const std::string& mark);
// Whether `pid` has the environment entry `mark` ("NAME=value").
bool process_has_mark(pid_t pid, const std::string& mark);

}  // namespace amf::containers
