#include "amf/daemon/checkpoint_host.h"

#include "amf/core/overloaded.h"

namespace amf::daemon {

CheckpointHost::CheckpointHost(boost::asio::io_context& io, NodeId self, Callbacks callbacks,
                               std::shared_ptr<spdlog::logger> log,
                               checkpoint::ServiceSettings settings)
    : self_(self),
      callbacks_(std::move(callbacks)),
      log_(std::move(log)),
      service_(std::move(self), settings),
      timer_(io, [this] {
        service_.tick(callbacks_.now());
        turn();
      }) {}

void CheckpointHost::request(node::PeerId peer, const wire::CheckpointRequest& request) {
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
  turn();
}

void CheckpointHost::receive(const checkpoint::Message& message) {
  service_.receive(message, callbacks_.now());
  turn();
}

void CheckpointHost::client_gone(node::PeerId peer) {
  service_.client_gone(peer);
  turn();
}

void CheckpointHost::members(const std::set<NodeId>& up) {
  service_.members(up, callbacks_.now());
  turn();
}

void CheckpointHost::life_ended() {
  service_.life_ended();
  turn();
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
               },
               effect);
  }
  timer_.arm(service_.next_deadline());
}

}  // namespace amf::daemon
