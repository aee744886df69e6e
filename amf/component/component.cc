#include "amf/component/component.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <zmq.hpp>

#include "amf/core/time.h"
#include "amf/wire/codec.h"

namespace amf::component {

struct Handle::Impl {
  Callbacks callbacks;
  std::string name;
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::dealer};
  std::deque<wire::ComponentMessage> early;  // callbacks that arrived while a request waited
  std::uint64_t requests = 0;  // the last request's id (protection groups, checkpoints)

  // Answers sent just before the handle goes (saAmfResponse, then saAmfFinalize) still leave:
  // the socket closes with a bounded linger, not none.
  ~Impl() {
    try {
      socket.set(zmq::sockopt::linger, 1000);
    } catch (const zmq::error_t&) {
    }
  }

  Result<void> send(const wire::ComponentMessage& message) {
    const std::string bytes = wire::encode(message);
    try {
      socket.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      return fail(std::string("cannot send to the node director: ") + e.what());
    }
    return {};
  }

  // One message, if one is waiting. Malformed messages are an error, not a crash.
  Result<std::optional<wire::ComponentMessage>> receive() {
    zmq::message_t message;
    try {
      if (!socket.recv(message, zmq::recv_flags::dontwait)) return std::nullopt;
    } catch (const zmq::error_t& e) {
      return fail(std::string("cannot receive from the node director: ") + e.what());
    }
    auto decoded = wire::decode_component_message(message.to_string_view());
    if (!decoded) return tl::unexpected(decoded.error());
    return std::optional(std::move(*decoded));
  }

  // Waits for the first message that `wanted` accepts, keeping the others for dispatch().
  template <typename Wanted>
  Result<wire::ComponentMessage> await(Wanted wanted, std::chrono::milliseconds timeout,
                                       const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return fail("no answer from the node director to " + what + " within " + ms_text(timeout));
      }
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      try {
        zmq::poll(&item, 1, left);
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;  // a signal: wait on
        return fail(std::string("cannot wait for the node director: ") + e.what());
      }
      auto message = receive();
      if (!message) return tl::unexpected(message.error());
      if (!*message) continue;
      if (wanted(**message)) return std::move(**message);
      early.push_back(std::move(**message));
    }
  }

  Result<ProtectionGroupAnswer> request_group(const wire::ComponentMessage& request,
                                              std::uint64_t id, std::chrono::milliseconds timeout,
                                              const std::string& what) {
    if (auto sent = send(request); !sent) return tl::unexpected(sent.error());
    auto answer = await(
        [&](const wire::ComponentMessage& m) {
          const auto* group = std::get_if<wire::ProtectionGroup>(&m);
          return group != nullptr && group->request == id;
        },
        timeout, what);
    if (!answer) return tl::unexpected(answer.error());
    auto& group = std::get<wire::ProtectionGroup>(*answer);
    return ProtectionGroupAnswer{std::move(group.members), group.refusal, std::move(group.error)};
  }

  // Sends a checkpoint request and waits for its answer; a refusal is an error.
  Result<wire::CheckpointReply> request_checkpoint(const std::string& name,
                                                   decltype(wire::CheckpointRequest::body) body,
                                                   std::chrono::milliseconds timeout,
                                                   const std::string& what) {
    const std::uint64_t id = ++requests;
    const std::string bytes = wire::encode(wire::ComponentMessage{
        wire::CheckpointRequest{id, checkpoint::CheckpointName(name), std::move(body)}});
    if (static_cast<std::int64_t>(bytes.size()) > wire::kMaxComponentMessageBytes) {
      return fail("checkpoint '" + name + "': " + what + " is " + std::to_string(bytes.size()) +
                  " bytes encoded, over the " + std::to_string(wire::kMaxComponentMessageBytes) +
                  " a message to the node director may have (write a large section in parts)");
    }
    try {
      socket.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      return fail(std::string("cannot send to the node director: ") + e.what());
    }
    auto answer = await(
        [&](const wire::ComponentMessage& m) {
          const auto* reply = std::get_if<wire::CheckpointReply>(&m);
          return reply != nullptr && reply->request == id;
        },
        timeout, what + " of checkpoint '" + name + "'");
    if (!answer) return tl::unexpected(answer.error());
    auto& reply = std::get<wire::CheckpointReply>(*answer);
    if (!reply.ok) return fail(reply.error);
    return std::move(reply);
  }

  // Runs the message's callback; false for a message that has none (a stray register reply).
  bool run(const wire::ComponentMessage& message) {
    if (const auto* set = std::get_if<wire::CsiSet>(&message)) {
      if (callbacks.csi_set) {
        callbacks.csi_set(set->invocation,
                          {set->csi, set->ha, set->reason, set->attributes, set->active});
      }
    } else if (const auto* remove = std::get_if<wire::CsiRemove>(&message)) {
      if (callbacks.csi_remove) callbacks.csi_remove(remove->invocation, remove->csi);
    } else if (const auto* check = std::get_if<wire::HealthcheckCallback>(&message)) {
      if (callbacks.healthcheck) {
        callbacks.healthcheck(check->invocation, check->key);
      } else {
        (void)send(wire::Response{check->invocation, true, ""});
      }
    } else if (const auto* group = std::get_if<wire::ProtectionGroup>(&message);
               group != nullptr && group->request == 0) {
      if (callbacks.protection_group) {
        callbacks.protection_group({group->csi, group->members, group->size});
      }
    } else if (const auto* terminate = std::get_if<wire::TerminateCallback>(&message)) {
      if (callbacks.terminate) {
        callbacks.terminate(terminate->invocation);
      } else {
        (void)send(wire::Response{terminate->invocation, true, ""});
        std::raise(SIGTERM);
      }
    } else {
      return false;  // an answer nobody waits for any more, or a message meant for amfd
    }
    return true;
  }
};

Result<Handle> Handle::initialize(Callbacks callbacks) {
  const char* name = std::getenv("AMF_COMPONENT_NAME");
  const char* endpoint = std::getenv("AMF_COMPONENT_SOCKET");
  if (name == nullptr || endpoint == nullptr) {
    return fail(
        "AMF_COMPONENT_NAME and AMF_COMPONENT_SOCKET are not set: this program must be started "
        "by amfd as a component");
  }
  return initialize(std::move(callbacks), name, endpoint);
}

Result<Handle> Handle::initialize(Callbacks callbacks, std::string name, std::string endpoint) {
  auto impl = std::make_unique<Impl>();
  impl->callbacks = std::move(callbacks);
  impl->name = std::move(name);
  try {
    impl->socket.set(zmq::sockopt::linger, 0);
    // A bound on what the component will hold of one message (a CSI set with its attributes).
    impl->socket.set(zmq::sockopt::maxmsgsize, std::int64_t{16} << 20);
    impl->socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return fail("cannot connect to node director at " + endpoint + ": " + e.what());
  }
  return Handle(std::move(impl));
}

Handle::Handle(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Handle::Handle(Handle&&) noexcept = default;
Handle& Handle::operator=(Handle&&) noexcept = default;
Handle::~Handle() = default;

Result<void> Handle::register_component(std::chrono::milliseconds timeout) {
  auto sent = impl_->send(wire::RegisterRequest{impl_->name, static_cast<std::int32_t>(getpid())});
  if (!sent) return sent;
  auto answer = impl_->await(
      [](const wire::ComponentMessage& m) {
        return std::holds_alternative<wire::RegisterReply>(m);
      },
      timeout, "the registration of " + impl_->name);
  if (!answer) return tl::unexpected(answer.error());
  const auto& reply = std::get<wire::RegisterReply>(*answer);
  if (!reply.ok) return fail("registration of " + impl_->name + " refused: " + reply.error);
  return {};
}

Result<ProtectionGroupAnswer> Handle::track_protection_group(const std::string& csi,
                                                             TrackFlags flags,
                                                             std::chrono::milliseconds timeout) {
  const std::uint64_t id = ++impl_->requests;
  return impl_->request_group(
      wire::ProtectionGroupTrack{id, csi, flags.current, flags.current_callback, flags.changes,
                                 flags.changes_only},
      id, timeout, "tracking the protection group of " + csi);
}

Result<ProtectionGroupAnswer> Handle::stop_tracking_protection_group(
    const std::string& csi, std::chrono::milliseconds timeout) {
  const std::uint64_t id = ++impl_->requests;
  return impl_->request_group(wire::ProtectionGroupTrackStop{id, csi}, id, timeout,
                              "stopping the tracking of " + csi);
}

int Handle::selection_fd() const { return impl_->socket.get(zmq::sockopt::fd); }

bool Handle::pending() const {
  return !impl_->early.empty() || (impl_->socket.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
}

Result<void> Handle::dispatch() {
  // One at a time, in the order they came: a callback that waits for an answer (a protection
  // group request) keeps what arrives meanwhile in `early`, ahead of the socket.
  while (true) {
    auto ran = dispatch_one();
    if (!ran) return tl::unexpected(ran.error());
    if (!*ran) return {};
  }
}

Result<bool> Handle::dispatch_one() {
  while (!impl_->early.empty()) {
    const wire::ComponentMessage message = std::move(impl_->early.front());
    impl_->early.pop_front();
    if (impl_->run(message)) return true;
  }
  while (true) {
    auto message = impl_->receive();
    if (!message) return tl::unexpected(message.error());
    if (!*message) return false;
    if (impl_->run(**message)) return true;
  }
}

Result<void> Handle::response(Invocation invocation, bool ok, const std::string& error) {
  return impl_->send(wire::Response{invocation, ok, error});
}

Result<void> Handle::error_report(const std::string& recommended_recovery,
                                  const std::string& reason) {
  return impl_->send(wire::ErrorReport{recommended_recovery, reason});
}

Result<void> Handle::healthcheck_confirm(const std::string& key) {
  return impl_->send(wire::HealthcheckConfirm{key});
}

Result<void> Handle::checkpoint_open(const std::string& name,
                                     std::optional<checkpoint::Attributes> create, bool write,
                                     std::chrono::milliseconds timeout) {
  auto reply =
      impl_->request_checkpoint(name, wire::CheckpointOpen{create, write}, timeout, "open");
  if (!reply) return tl::unexpected(reply.error());
  return {};
}

Result<void> Handle::checkpoint_close(const std::string& name, std::chrono::milliseconds timeout) {
  auto reply = impl_->request_checkpoint(name, wire::CheckpointClose{}, timeout, "close");
  if (!reply) return tl::unexpected(reply.error());
  return {};
}

Result<void> Handle::checkpoint_write(const std::string& name, checkpoint::Operation operation,
                                      std::chrono::milliseconds timeout) {
  auto reply = impl_->request_checkpoint(name, std::move(operation), timeout, "a write");
  if (!reply) return tl::unexpected(reply.error());
  return {};
}

Result<std::string> Handle::checkpoint_read(const std::string& name, const std::string& section,
                                            std::uint64_t offset, std::uint64_t size,
                                            std::chrono::milliseconds timeout) {
  auto reply = impl_->request_checkpoint(
      name, wire::CheckpointRead{checkpoint::SectionId(section), offset, size}, timeout, "a read");
  if (!reply) return tl::unexpected(reply.error());
  return std::move(reply->data);
}

Result<std::vector<checkpoint::SectionInfo>> Handle::checkpoint_sections(
    const std::string& name, std::chrono::milliseconds timeout) {
  auto reply =
      impl_->request_checkpoint(name, wire::CheckpointSections{}, timeout, "the list of sections");
  if (!reply) return tl::unexpected(reply.error());
  return std::move(reply->sections);
}

const std::string& Handle::name() const { return impl_->name; }

}  // namespace amf::component
