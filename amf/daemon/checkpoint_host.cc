#include "amf/daemon/checkpoint_host.h"

#include "amf/core/overloaded.h"

namespace amf::daemon {

namespace {

constexpr std::size_t kMaxDeferred = 4096;

checkpoint::ServiceSettings stored_if(checkpoint::ServiceSettings settings, bool store) {
  settings.replica.durable = store;
  return settings;
}

}  // namespace

CheckpointHost::CheckpointHost(boost::asio::io_context& io, NodeId self, Callbacks callbacks,
                               std::shared_ptr<spdlog::logger> log,
                               checkpoint::ServiceSettings settings,
                               std::unique_ptr<CheckpointStore> store)
    : self_(self),
      callbacks_(std::move(callbacks)),
      log_(std::move(log)),
      service_(std::move(self), stored_if(settings, store != nullptr)),
      store_(std::move(store)),
      timer_(io, [this] {
        service_.tick(callbacks_.now());
        turn();
      }) {
  restore();
}

void CheckpointHost::restore() {
  if (!store_) return;
  for (CheckpointStore::Kept& kept : store_->load(callbacks_.now())) {
    const std::size_t sections = kept.content.all().size();
    const std::uint64_t bytes = kept.content.bytes();
    if (auto ok = service_.restore(kept.name, std::move(kept.content), kept.at); !ok) {
      log_->error("checkpoint '{}': not restored from the store: {}", kept.name.str(),
                  ok.error().message());
      continue;
    }
    log_->info(
        "checkpoint '{}': restored from the store at {} ({} sections, {} bytes), not in "
        "service until an active replica syncs it",
        kept.name.str(), checkpoint::to_string(kept.at), sections, bytes);
  }
}

void CheckpointHost::stored(const checkpoint::CheckpointName& name, std::uint64_t record) {
  if (auto it = rewrite_.find(name);
      it != rewrite_.end() && it->second.record && record >= it->second.record) {
    rewrite_.erase(it);  // the whole content written after the failure is on disk
    log_->info("checkpoint '{}': the store writes it again", name.str());
  }
  service_.stored(name, record, callbacks_.now());
  turn();
}

void CheckpointHost::store_broken(const checkpoint::CheckpointName& name) {
  rewrite_.try_emplace(name);
  compact(name);
}

void CheckpointHost::request(node::PeerId peer, const wire::CheckpointRequest& request) {
  const bool read = std::holds_alternative<wire::CheckpointRead>(request.body) ||
                    std::holds_alternative<wire::CheckpointSections>(request.body);
  if (read && service_.recovering(request.checkpoint)) {
    if (deferred_.size() >= kMaxDeferred) {
      callbacks_.reply(
          peer, wire::CheckpointReply{request.request,
                                      false,
                                      "checkpoint '" + request.checkpoint.str() +
                                          "' recovers and " + std::to_string(deferred_.size()) +
                                          " reads wait already; try again",
                                      "",
                                      {}});
      return;
    }
    deferred_.emplace_back(peer, request);
    return;
  }
  handle(peer, request);
  turn();
}

void CheckpointHost::handle(node::PeerId peer, const wire::CheckpointRequest& request) {
  const TimePoint now = callbacks_.now();
  wire::CheckpointReply reply{request.request, true, "", "", {}};
  auto answer = [&](const Result<void>& result) {
    reply.ok = result.has_value();
    if (!result) reply.error = result.error().message();
    callbacks_.reply(peer, reply);
  };
  std::visit(
      Overloaded{
          [&](const wire::CheckpointOpen& b) {
            const std::set<NodeId> replicas = callbacks_.replicas(peer);
            if (replicas.empty()) return answer(fail("this connection is no registered component"));
            answer(service_.open(peer,
                                 checkpoint::OpenRequest{request.checkpoint, b.create, b.write},
                                 replicas, callbacks_.generation(peer), now));
          },
          [&](const wire::CheckpointClose&) { answer(service_.close(peer, request.checkpoint)); },
          [&](const checkpoint::Operation& op) {
            // The answer comes as the service's Answer effect.
            service_.write(peer, request.request, request.checkpoint, op,
                           callbacks_.generation(peer), now);
          },
          [&](const wire::CheckpointRead& b) {
            auto data = service_.read(peer, request.checkpoint, b.section, b.offset, b.size);
            if (data) reply.data = std::move(*data);
            answer(data ? Result<void>{} : tl::unexpected(data.error()));
          },
          [&](const wire::CheckpointSections&) {
            auto sections = service_.sections(peer, request.checkpoint, now);
            if (sections) reply.sections = std::move(*sections);
            answer(sections ? Result<void>{} : tl::unexpected(sections.error()));
          },
      },
      request.body);
}

void CheckpointHost::receive(const checkpoint::Message& message) {
  service_.receive(message, callbacks_.now());
  turn();
}

void CheckpointHost::client_gone(node::PeerId peer) {
  std::erase_if(deferred_, [&](const auto& d) { return d.first == peer; });
  service_.client_gone(peer);
  turn();
}

void CheckpointHost::members(const std::set<NodeId>& up) {
  service_.members(up, callbacks_.now());
  turn();
}

void CheckpointHost::life_ended() {
  service_.life_ended();
  last_record_.clear();  // the replicas of the next life number their records anew
  rewrite_.clear();
  turn();
  if (!store_) return;
  store_->flush();
  restore();
}

wire::AdminReply CheckpointHost::list(const std::string& name) const {
  wire::CheckpointList out{self_.str(), {}};
  for (checkpoint::CheckpointStatus& status : service_.status()) {
    if (!name.empty() && status.name.str() != name) continue;
    wire::CheckpointView view{std::move(status), {}};
    if (!name.empty()) {
      auto sections = service_.section_list(view.status.name, callbacks_.now());
      if (sections) view.sections = std::move(*sections);
    }
    out.checkpoints.push_back(std::move(view));
  }
  if (!name.empty() && out.checkpoints.empty()) {
    return wire::AdminError{"node " + self_.str() + " holds no checkpoint '" + name + "'"};
  }
  return out;
}

void CheckpointHost::turn() {
  std::set<checkpoint::CheckpointName> written;
  for (checkpoint::ServiceEffect& effect : service_.take_effects()) {
    std::visit(Overloaded{
                   [&](checkpoint::Send& e) {
                     if (callbacks_.send) callbacks_.send(e.to, e.message);
                   },
                   [&](checkpoint::Answer& e) {
                     wire::CheckpointReply reply{e.request, e.result.has_value(), "", "", {}};
                     if (!e.result) reply.error = e.result.error().message();
                     callbacks_.reply(e.client, reply);
                   },
                   [&](checkpoint::Report& e) {
                     if (e.error) {
                       log_->warn("checkpoint '{}': {}", e.checkpoint.str(), e.text);
                     } else {
                       log_->info("checkpoint '{}': {}", e.checkpoint.str(), e.text);
                     }
                   },
                   [&](checkpoint::Store& e) {
                     const checkpoint::Replica* replica = service_.replica(e.checkpoint);
                     if (!store_ || !replica) return;
                     last_record_[e.checkpoint] = e.record.record;
                     store_->append(e.checkpoint, replica->content().attributes(),
                                    std::move(e.record));
                     written.insert(e.checkpoint);
                   },
               },
               effect);
  }
  for (const checkpoint::CheckpointName& name : written) compact(name);
  // Reads held back while their checkpoint recovered.
  if (!deferred_.empty()) {
    std::deque<std::pair<node::PeerId, wire::CheckpointRequest>> ready;
    std::erase_if(deferred_, [&](auto& d) {
      if (service_.recovering(d.second.checkpoint)) return false;
      ready.push_back(std::move(d));
      return true;
    });
    for (auto& [peer, request] : ready) handle(peer, request);
    if (!ready.empty()) return turn();
  }
  timer_.arm(service_.next_deadline());
}

// Once the log since the last whole content outgrows it (4 times the content and 1 MiB at
// least), the whole content is written again, in place of the log. So it is after a write the
// store could not make, at most once a second: its number is the newest record's, so that the
// writes it holds are answered once it is on disk.
void CheckpointHost::compact(const checkpoint::CheckpointName& name) {
  const checkpoint::Replica* replica = service_.replica(name);
  if (!replica) {
    rewrite_.erase(name);
    return;
  }
  const TimePoint now = callbacks_.now();
  std::uint64_t record = 0;
  if (auto it = rewrite_.find(name); it != rewrite_.end()) {
    if (now < it->second.next) return;
    it->second.next = now + std::chrono::seconds(1);
    record = last_record_[name];
    it->second.record = record;
  } else {
    const std::uint64_t limit = std::max<std::uint64_t>(1 << 20, 4 * replica->content().bytes());
    if (store_->log_bytes(name) <= limit) return;
  }
  store_->append(name, replica->content().attributes(),
                 checkpoint::Persist{record, replica->position(), std::nullopt,
                                     replica->content().image(now)});
}

}  // namespace amf::daemon
