// amf-checkpoint-bench: what checkpoint replication costs between two nodes' amfd checkpoint
// services (daemon::CheckpointHost, the code amfd runs) on real ZeroMQ links (PeerLinks, the
// checkpoint socket) over loopback, each node in a process of its own.
//
//   amf-checkpoint-bench [--writes 20000] [--async-writes 200000] [--cold-sync-mb 100]
//                        [--size 64] [--store-in DIR] [--netns]
//
// Node a is the active replica, node b (a child process) the other. It measures, in turn:
//   sync:      a synchronous write of --size bytes, one at a time, from the request to the
//              answer (b holds it): median, p90, p99, worst;
//   async:     asynchronous writes as fast as they are answered: writes a second, and the time
//              until b acknowledged the last;
//   cold sync: a checkpoint of --cold-sync-mb MiB (1 MiB sections) that b joins late: from the
//              moment a learns b is up to b in service.
// Both nodes sleep in their loops between messages, as amfd does (a loop that polls without
// sleeping answers some 40 us sooner on this machine; amfd does not spin). What it leaves out:
// the component's socket to amfd (a request here is handed to the host directly, as the
// component channel would after decoding it). With --store-in, each node keeps its replicas in
// a file store (`checkpoint_store: file`, amfd's CheckpointStore) in a directory it makes under
// DIR and removes at the end: a synchronous write is then answered once both nodes fsync'd it.
// With --netns (root), each node runs in a network namespace of its own that the bench makes,
// joined by a veth pair (10.251.N.1 and .2), and removes at the end: the links cross the
// kernel's veth path, as between two containers on one host, rather than loopback. Without
// root, or where it cannot make namespaces, it exits 77 (ctest counts the run skipped). The
// namespaces go when the bench exits, on an error too (not when it is killed).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <vector>

#include "amf/daemon/checkpoint_host.h"
#include "amf/daemon/peer_links.h"
#include "amf/wire/codec.h"
#include "tools/support/ports.h"

namespace {

using namespace amf;
using Clock = std::chrono::steady_clock;

const NodeId kA("a"), kB("b");
constexpr node::PeerId kWriter = 1;

// One node: its checkpoint host on its own loop, its links to the other node.
struct Node {
  boost::asio::io_context io;
  std::unique_ptr<daemon::PeerLinks> links;
  std::unique_ptr<daemon::CheckpointHost> host;
  std::optional<wire::CheckpointReply> reply;  // the newest answer to kWriter
  std::uint64_t answers = 0;
  std::uint64_t failed = 0;

  // `self_host`, `other_host`: the addresses the two nodes' links use.
  Node(const NodeId& self, const NodeId& other, const std::string& self_host, int self_port,
       const std::string& other_host, int other_port, const std::string& store_dir) {
    auto log =
        std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
    std::unique_ptr<daemon::CheckpointStore> store;
    if (!store_dir.empty()) {
      auto opened = daemon::CheckpointStore::open(
          io, store_dir + "/" + self.str(),
          [this](const checkpoint::CheckpointName& name, std::uint64_t record) {
            host->stored(name, record);
          },
          log);
      if (!opened) {
        std::fprintf(stderr, "amf-checkpoint-bench: %s\n", opened.error().message().c_str());
        std::exit(1);
      }
      store = std::move(*opened);
    }
    host = std::make_unique<daemon::CheckpointHost>(
        io, self,
        daemon::CheckpointHost::Callbacks{
            .now = [] { return Clock::now(); },
            .reply =
                [this](node::PeerId, const wire::ComponentMessage& m) {
                  reply = std::get<wire::CheckpointReply>(m);
                  ++answers;
                  if (!reply->ok) ++failed;
                },
            .generation = [](node::PeerId) { return std::optional<std::uint64_t>(5); },
            .replicas =
                [](node::PeerId) {
                  return std::set<NodeId>{kA, kB};
                },
            .send = [this](const NodeId& to,
                           const checkpoint::Message& m) { links->send(to, wire::encode(m)); }},
        log, checkpoint::ServiceSettings{}, std::move(store));
    auto started = daemon::PeerLinks::start(
        io,
        daemon::PeerLinks::Settings{
            self,
            "checkpoint socket",
            "tcp://" + self_host + ":" + std::to_string(self_port),
            {{other, "tcp://" + other_host + ":" + std::to_string(other_port)}},
            std::nullopt,
            16 << 20},
        [this](const NodeId&, std::string_view bytes) -> std::optional<std::string> {
          auto m = wire::decode_checkpoint_message(bytes);
          if (!m) return m.error().message();
          host->receive(*m);
          return std::nullopt;
        },
        [](const std::string& reason) { std::fprintf(stderr, "refused: %s\n", reason.c_str()); });
    if (!started) {
      std::fprintf(stderr, "amf-checkpoint-bench: %s\n", started.error().message().c_str());
      std::exit(1);
    }
    links = std::move(*started);
  }

  void request(const std::string& name, decltype(wire::CheckpointRequest::body) body) {
    reply.reset();
    host->request(kWriter, wire::CheckpointRequest{answers + 1, checkpoint::CheckpointName(name),
                                                   std::move(body)});
  }
  // Runs the loop until `done`, for at most `limit`, sleeping while nothing is due.
  template <class F>
  bool run_until(F done, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    const auto end = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() > end) return false;
      io.run_one_for(std::chrono::milliseconds(100));
      io.restart();
    }
    return true;
  }
  // The peer's row as this (active) node has it.
  std::optional<checkpoint::CheckpointStatus::Peer> peer(const std::string& name) {
    auto list = host->list(name);
    const auto* l = std::get_if<wire::CheckpointList>(&list);
    if (!l || l->checkpoints.empty()) return std::nullopt;
    for (const auto& p : l->checkpoints[0].status.peers) return p;
    return std::nullopt;
  }
  std::uint64_t position(const std::string& name) {
    auto list = host->list(name);
    const auto* l = std::get_if<wire::CheckpointList>(&list);
    return l && !l->checkpoints.empty() ? l->checkpoints[0].status.position.seq : 0;
  }
};

checkpoint::Attributes attributes(checkpoint::UpdateMode mode, std::uint32_t sections,
                                  std::uint64_t size) {
  checkpoint::Attributes a;
  a.mode = mode;
  a.max_sections = sections;
  a.max_section_size = size;
  return a;
}

double us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

void print_percentiles(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
  };
  std::printf("%-24s median %8.1f us  p90 %8.1f us  p99 %8.1f us  worst %8.1f us  (%zu writes)\n",
              what, at(0.5), at(0.9), at(0.99), v.back(), v.size());
}

// Opens `name` for writing on node a, creating it.
bool open(Node& a, const std::string& name, const checkpoint::Attributes& attrs) {
  a.request(name, wire::CheckpointOpen{attrs, true});
  return a.reply && a.reply->ok;
}

int run_sync(Node& a, int writes, std::size_t size) {
  const std::string name = "sync";
  if (!open(a, name, attributes(checkpoint::UpdateMode::kSynchronous, 1, 4096))) return 1;
  a.request(name, checkpoint::Operation{checkpoint::CreateSection{checkpoint::SectionId("s"), ""}});
  if (!a.run_until([&] { return a.reply.has_value(); })) return 1;
  if (!a.run_until([&] {
        auto p = a.peer(name);
        return p && p->in_service;
      })) {
    std::fprintf(stderr, "amf-checkpoint-bench: b's replica never came into service\n");
    return 1;
  }
  const std::string data(size, 'x');
  std::vector<double> latency;
  latency.reserve(static_cast<std::size_t>(writes));
  for (int i = 0; i < writes; ++i) {
    const auto t0 = Clock::now();
    a.request(name, checkpoint::Operation{
                        checkpoint::OverwriteSection{checkpoint::SectionId("s"), data}});
    if (!a.run_until([&] { return a.reply.has_value(); })) {
      std::fprintf(stderr, "amf-checkpoint-bench: write %d never answered\n", i);
      return 1;
    }
    if (!a.reply->ok) {
      std::fprintf(stderr, "amf-checkpoint-bench: write %d failed: %s\n", i,
                   a.reply->error.c_str());
      return 1;
    }
    latency.push_back(us(Clock::now() - t0));
  }
  char what[64];
  std::snprintf(what, sizeof what, "sync write, %zu bytes", size);
  print_percentiles(what, latency);
  return 0;
}

int run_async(Node& a, int writes, std::size_t size) {
  const std::string name = "async";
  if (!open(a, name, attributes(checkpoint::UpdateMode::kAsynchronous, 1, 4096))) return 1;
  a.request(name, checkpoint::Operation{checkpoint::CreateSection{checkpoint::SectionId("s"), ""}});
  if (!a.run_until([&] {
        auto p = a.peer(name);
        return p && p->in_service;
      })) {
    std::fprintf(stderr, "amf-checkpoint-bench: b's replica never came into service\n");
    return 1;
  }
  const std::string data(size, 'y');
  const std::uint64_t failed_before = a.failed;
  const auto t0 = Clock::now();
  for (int i = 0; i < writes; ++i) {
    a.request(name, checkpoint::Operation{
                        checkpoint::OverwriteSection{checkpoint::SectionId("s"), data}});
    if ((i & 255) == 0) a.io.poll();  // let b's acknowledgements in now and then
    a.io.restart();
  }
  const auto answered = Clock::now();
  const std::uint64_t last = a.position(name);
  const bool caught_up = a.run_until([&] {
    auto p = a.peer(name);
    return p && p->acked.seq >= last;
  });
  const auto replicated = Clock::now();
  std::printf(
      "%-24s %8.0f writes/s answered; b acknowledged the last %s %.1f ms after the "
      "first write (%.0f writes/s replicated)%s\n",
      "async write", writes / std::chrono::duration<double>(answered - t0).count(),
      caught_up ? "" : "(NOT, within 30 s)",
      std::chrono::duration<double, std::milli>(replicated - t0).count(),
      writes / std::chrono::duration<double>(replicated - t0).count(),
      a.failed > failed_before ? "; some writes failed" : "");
  return caught_up ? 0 : 1;
}

int run_cold_sync(Node& a, int megabytes) {
  const std::string name = "cold";
  // b is not up as far as a knows: it is not sent anything until it is.
  a.host->members({kA});
  if (!open(a, name,
            attributes(checkpoint::UpdateMode::kSynchronous, static_cast<std::uint32_t>(megabytes),
                       1 << 20))) {
    return 1;
  }
  const std::string mib(1 << 20, 'z');
  for (int i = 0; i < megabytes; ++i) {
    a.request(name, checkpoint::Operation{
                        checkpoint::CreateSection{checkpoint::SectionId(std::to_string(i)), mib}});
    // (With a store, answered once it is on disk.)
    if (!a.run_until([&] { return a.reply.has_value(); }) || !a.reply->ok) {
      std::fprintf(stderr, "amf-checkpoint-bench: writing section %d of the cold sync failed\n", i);
      return 1;
    }
  }
  const auto t0 = Clock::now();
  a.host->members({kA, kB});
  const bool synced = a.run_until(
      [&] {
        auto p = a.peer(name);
        return p && p->in_service;
      },
      std::chrono::seconds(120));
  std::printf("%-24s %d MiB: b in service %.1f ms after it came up%s\n", "cold sync", megabytes,
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count(),
              synced ? "" : " (NOT, within 120 s)");
  return synced ? 0 : 1;
}

// --netns: two namespaces joined by a veth pair, made with ip(8) and removed by remove().
struct Namespaces {
  std::string a, b;
  std::string host_a, host_b;
  bool made = false;

  static bool sh(const std::string& command) { return std::system(command.c_str()) == 0; }

  bool make() {
    const int n = static_cast<int>(::getpid() % 200) + 10;
    const std::string tag = "amfckb" + std::to_string(::getpid());
    a = tag + "a";
    b = tag + "b";
    host_a = "10.251." + std::to_string(n) + ".1";
    host_b = "10.251." + std::to_string(n) + ".2";
    const std::string va = "ckb" + std::to_string(::getpid()) + "a";
    const std::string vb = "ckb" + std::to_string(::getpid()) + "b";
    made = sh("ip netns add " + a) && sh("ip netns add " + b);
    made = made &&
           sh("ip link add " + va + " netns " + a + " type veth peer name " + vb + " netns " + b) &&
           sh("ip -n " + a + " addr add " + host_a + "/24 dev " + va) &&
           sh("ip -n " + b + " addr add " + host_b + "/24 dev " + vb) &&
           sh("ip -n " + a + " link set " + va + " up") &&
           sh("ip -n " + b + " link set " + vb + " up") && sh("ip -n " + a + " link set lo up") &&
           sh("ip -n " + b + " link set lo up");
    return made;
  }
  // This process's network namespace becomes `name`'s.
  static bool enter(const std::string& name) {
    const int fd = ::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::setns(fd, CLONE_NEWNET) == 0;
    ::close(fd);
    return ok;
  }
  void remove() {
    if (!a.empty()) sh("ip netns del " + a + " 2>/dev/null");
    if (!b.empty()) sh("ip netns del " + b + " 2>/dev/null");
  }
};

// The namespaces to remove when the bench's own process ends (exit() included), not its child's.
Namespaces* made_spaces = nullptr;
pid_t bench_pid = 0;
void remove_spaces() {
  if (made_spaces != nullptr && ::getpid() == bench_pid) made_spaces->remove();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("amf-checkpoint-bench: checkpoint replication between two nodes on loopback");
  int writes = 20000;
  int async_writes = 200000;
  int cold_mb = 100;
  std::size_t size = 64;
  app.add_option("--writes", writes, "synchronous writes to time")->check(CLI::Range(1, 10000000));
  app.add_option("--async-writes", async_writes, "asynchronous writes")
      ->check(CLI::Range(1, 100000000));
  app.add_option("--cold-sync-mb", cold_mb, "the checkpoint a late replica is sent, in MiB")
      ->check(CLI::Range(1, 1000));
  app.add_option("--size", size, "bytes a write carries")->check(CLI::Range(1, 4096));
  std::string store_in;
  app.add_option("--store-in", store_in,
                 "keep the replicas in file stores, in a new directory under this one")
      ->check(CLI::ExistingDirectory);
  bool netns = false;
  app.add_flag("--netns", netns,
               "run each node in a network namespace of its own, joined by a veth pair (root)");
  CLI11_PARSE(app, argc, argv);
  static Namespaces spaces;  // static: remove_spaces() runs at exit, before it is destroyed
  std::string host_a = "127.0.0.1", host_b = "127.0.0.1";
  if (netns) {
    if (::geteuid() != 0) {
      std::fprintf(stderr, "amf-checkpoint-bench: --netns needs root (it runs ip netns add)\n");
      return 77;  // ctest: skipped
    }
    bench_pid = ::getpid();
    made_spaces = &spaces;
    std::atexit(remove_spaces);
    if (!spaces.make()) {
      // Root without CAP_NET_ADMIN (a container), or no ip(8): nothing to measure here.
      std::fprintf(stderr,
                   "amf-checkpoint-bench: could not make the namespaces %s and %s (ip netns, "
                   "CAP_NET_ADMIN); skipped\n",
                   spaces.a.c_str(), spaces.b.c_str());
      return 77;
    }
    host_a = spaces.host_a;
    host_b = spaces.host_b;
    std::printf("nodes in network namespaces %s (%s) and %s (%s), over a veth pair\n",
                spaces.a.c_str(), host_a.c_str(), spaces.b.c_str(), host_b.c_str());
  }
  const int original_netns = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  std::string store_dir;
  if (!store_in.empty()) {
    std::string pattern = store_in + "/amf-checkpoint-bench-XXXXXX";
    if (!::mkdtemp(pattern.data())) {
      std::perror("amf-checkpoint-bench: mkdtemp");
      return 1;
    }
    store_dir = pattern;
    std::printf("file stores in %s\n", store_dir.c_str());
  }

  const int port_a = amf::testing::free_loopback_port();
  const int port_b = amf::testing::free_loopback_port();
  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("fork");
    return 1;
  }
  if (child == 0) {  // node b: its replicas, until killed (or until the bench ends)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) ::_exit(1);  // the bench ended already
    if (netns && !Namespaces::enter(spaces.b)) {
      std::perror("amf-checkpoint-bench: setns");
      ::_exit(1);
    }
    Node b(kB, kA, host_b, port_b, host_a, port_a, store_dir);
    b.host->members({kA, kB});
    b.io.run();
    return 0;
  }
  int rc = 0;
  if (netns && !Namespaces::enter(spaces.a)) {
    std::perror("amf-checkpoint-bench: setns");
    rc = 1;
  }
  if (rc == 0) {
    Node a(kA, kB, host_a, port_a, host_b, port_b, store_dir);
    a.host->members({kA, kB});
    rc = run_sync(a, writes, size);
    if (rc == 0) rc = run_async(a, async_writes, size);
    if (rc == 0) rc = run_cold_sync(a, cold_mb);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  if (netns && original_netns >= 0) (void)::setns(original_netns, CLONE_NEWNET);
  if (original_netns >= 0) ::close(original_netns);
  if (!store_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(store_dir, ec);
  }
  return rc;
}
