// How long the OCI launcher takes, on real runc containers: start() until the init's pid is
// known, start() until the container's command has run (a file it writes appears), SIGKILL
// until the exit is seen by the Asio loop, and the cleanup after it (runc delete + bundle).
//
// Run (as root, runc installed):  build/bin/oci_start_bench [--count 20] [--rootfs host|DIR]
#include <signal.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "containers/oci_launcher.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void report(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
  };
  std::printf("%-34s n=%-3zu min %7.2f  p50 %7.2f  p90 %7.2f  max %7.2f  ms\n", what, v.size(),
              v.front(), pct(0.5), pct(0.9), v.back());
}

}  // namespace

int main(int argc, char** argv) {
  int count = 20;
  std::string rootfs = amf::containers::OciSpec::kHostRootfs;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--count") == 0) count = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--rootfs") == 0) rootfs = argv[i + 1];
  }
  using amf::containers::OciLauncher;
  if (auto r = OciLauncher::become_child_subreaper(); !r) {
    std::fprintf(stderr, "%s\n", r.error().message().c_str());
    return 1;
  }
  char tmpl[] = "/tmp/amf-oci-bench-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  fs::create_directories(dir + "/out");

  boost::asio::io_context io;
  Clock::time_point exit_seen{};
  int exits = 0;
  OciLauncher launcher(io, {.state_dir = dir + "/state"},
                       [&](const std::string&, pid_t, amf::containers::ExitStatus) {
                         exit_seen = Clock::now();
                         ++exits;
                       });
  std::printf("%s\n", launcher.cgroups().describe().c_str());
  std::vector<double> to_pid, to_running, kill_to_exit, cleanup;
  int status = 0;
  std::string last_id;
  for (int i = 0; i < count && status == 0; ++i) {
    amf::containers::OciSpec spec;
    spec.name = "bench";
    spec.command = "/bin/sh";
    spec.args = {"-c", "touch /out/ready; exec sleep 300"};
    spec.log_path = dir + "/log";
    spec.rootfs = rootfs;
    spec.memory_limit_bytes = 64 << 20;
    spec.pids_limit = 32;
    spec.binds.push_back({dir + "/out", "/out", amf::containers::BindMount::Access::kReadWrite});
    fs::remove(dir + "/out/ready");

    const auto t0 = Clock::now();
    auto started = launcher.start(spec);
    const auto t1 = Clock::now();
    if (!started) {
      std::fprintf(stderr, "start failed: %s\n", started.error().message().c_str());
      status = 1;
      break;
    }
    while (!fs::exists(dir + "/out/ready") && Clock::now() - t0 < std::chrono::seconds(10)) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    const auto t2 = Clock::now();
    to_pid.push_back(ms(t1 - t0));
    to_running.push_back(ms(t2 - t0));

    last_id = started->id;
    const int before = exits;
    const auto t3 = Clock::now();
    launcher.signal(started->id, SIGKILL);
    io.restart();  // the loop ran out of work after the previous exit
    while (exits == before && Clock::now() - t3 < std::chrono::seconds(10))
      io.run_one_for(std::chrono::seconds(1));
    const auto t4 = Clock::now();  // the handler returned and the cleanup ran
    if (exits == before) {
      std::fprintf(stderr, "no exit seen within 10 s\n");
      status = 1;
      break;
    }
    kill_to_exit.push_back(ms(exit_seen - t3));
    cleanup.push_back(ms(t4 - exit_seen));
  }
  if (status == 0) {
    report("start -> init pid known", to_pid);
    report("start -> command running", to_running);
    report("SIGKILL -> exit seen", kill_to_exit);
    report("exit -> cleanup done (runc delete)", cleanup);
  }
  if (!last_id.empty() && launcher.running() > 0) {  // a failed round: take its container down
    launcher.signal(last_id, SIGKILL);
    io.restart();
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (launcher.running() > 0 && Clock::now() < deadline)
      io.run_one_for(std::chrono::seconds(1));
  }
  if (auto left = launcher.cleanup_orphans(); left && !left->containers.empty()) {
    std::fprintf(stderr, "removed %zu leftover containers\n", left->containers.size());
  }
  fs::remove_all(dir);
  return status;
}
