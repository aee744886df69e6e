#include "amf/daemon/channels.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "amf/wire/codec.h"

namespace amf::daemon {

namespace {

// The largest message amfd reads on each socket; a longer one closes that connection (ZeroMQ's
// maxmsgsize), so a peer cannot make amfd hold a frame of any size it declares. A CSI set is
// what components receive, not send; what they send is a few names and numbers.
using wire::kMaxComponentMessageBytes;
constexpr std::int64_t kMaxAdminMessageBytes = 64 * 1024;

// The PID of the process that opened the connection a message came on: the kernel's
// SO_PEERCRED, which ZeroMQ appends to an ipc peer's address (":uid:gid:pid"). 0 if unknown.
pid_t peer_pid(zmq::message_t& message) {
  try {
    const std::string address = message.gets("Peer-Address");
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) return 0;
    return static_cast<pid_t>(std::strtol(address.c_str() + colon + 1, nullptr, 10));
  } catch (const zmq::error_t&) {
    return 0;
  }
}

void close_and_unlink(zmq::socket_t& socket, const std::string& endpoint) {
  socket.close();
  if (endpoint.rfind("ipc://", 0) == 0) ::unlink(endpoint.substr(6).c_str());
}

}  // namespace

Result<std::string> bind_local_router(zmq::socket_t& socket, const std::string& path,
                                      std::int64_t max_message_bytes) {
  ::unlink(path.c_str());
  const std::string endpoint = "ipc://" + path;
  const mode_t umask_before = ::umask(0077);
  try {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::router_mandatory, true);
    socket.set(zmq::sockopt::maxmsgsize, max_message_bytes);
    socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    ::umask(umask_before);
    return fail("cannot bind " + path + ": " + e.what());
  }
  ::umask(umask_before);
  ::chmod(path.c_str(), 0660);  // owner and group only
  return endpoint;
}

// ---- components.sock ----

ComponentChannel::ComponentChannel(boost::asio::io_context& io, zmq::context_t& zmq,
                                   Callbacks callbacks, std::shared_ptr<spdlog::logger> log)
    : io_(io),
      socket_(zmq, zmq::socket_type::router),
      callbacks_(std::move(callbacks)),
      log_(std::move(log)) {}

ComponentChannel::~ComponentChannel() {
  watch_.reset();
  close_and_unlink(socket_, endpoint_);
}

Result<void> ComponentChannel::bind(const std::string& path) {
  auto endpoint = bind_local_router(socket_, path, kMaxComponentMessageBytes);
  if (!endpoint) return tl::unexpected(endpoint.error());
  endpoint_ = *endpoint;
  watch_ = std::make_unique<ZmqWatch>(io_, socket_, [this](auto& frames) { on_frames(frames); });
  return {};
}

void ComponentChannel::on_frames(std::vector<zmq::message_t>& frames) {
  if (frames.size() != 2) {
    log_->warn("component socket: dropped a message of {} frames (expected 2)", frames.size());
    return;
  }
  const std::string routing_id = frames[0].to_string();
  auto decoded = wire::decode_component_message(frames[1].to_string_view());
  if (!decoded) {
    log_->warn("component socket: {}", decoded.error().message());
    return;
  }
  auto known = peer_by_routing_id_.find(routing_id);
  if (const auto* reg = std::get_if<wire::RegisterRequest>(&*decoded)) {
    const pid_t sender = peer_pid(frames[1]);
    const CompId comp(reg->component_name);
    // Only the process amfd started for the component, or one of its descendants, may
    // register as it; anyone else would be handed the component's CSI assignments.
    if (callbacks_.known(comp) && !callbacks_.belongs(comp, sender)) {
      const std::string why = "registration as " + reg->component_name + " refused: process " +
                              std::to_string(sender) +
                              " is not one that amfd started for this component";
      log_->warn("component socket: {}", why);
      callbacks_.record(model::Notification{callbacks_.now(), model::NotificationKind::kError,
                                            reg->component_name, "", "", "", why});
      return send_to(routing_id, wire::RegisterReply{false, why});
    }
    node::PeerId peer = 0;
    if (known != peer_by_routing_id_.end()) {
      peer = known->second;
    } else {
      peer = next_peer_++;
      routing_id_by_peer_[peer] = routing_id;
      peer_by_routing_id_[routing_id] = peer;
    }
    registering_[peer] = reg->component_name;
    callbacks_.post(node::ComponentRegister{peer, reg->component_name});
    return;
  }
  if (known == peer_by_routing_id_.end()) {
    log_->debug("component socket: message from a connection that has not registered; dropped");
    return;
  }
  const node::PeerId peer = known->second;
  if (const auto* resp = std::get_if<wire::Response>(&*decoded)) {
    callbacks_.post(node::ComponentResponse{peer, resp->invocation, resp->ok});
  } else if (const auto* report = std::get_if<wire::ErrorReport>(&*decoded)) {
    callbacks_.post(node::ComponentErrorReport{peer, report->recommended_recovery, report->reason});
  } else if (const auto* confirm = std::get_if<wire::HealthcheckConfirm>(&*decoded)) {
    callbacks_.post(node::ComponentHealthcheckConfirm{peer, confirm->key});
  } else if (const auto* track = std::get_if<wire::ProtectionGroupTrack>(&*decoded)) {
    callbacks_.post(node::ComponentTrackProtectionGroup{peer, track->request, track->csi,
                                                        track->current, track->current_callback,
                                                        track->changes, track->changes_only});
  } else if (const auto* stop = std::get_if<wire::ProtectionGroupTrackStop>(&*decoded)) {
    callbacks_.post(node::ComponentStopTrackingProtectionGroup{peer, stop->request, stop->csi});
  } else if (const auto* ckpt = std::get_if<wire::CheckpointRequest>(&*decoded)) {
    if (callbacks_.checkpoint) callbacks_.checkpoint(peer, *ckpt);
  } else {
    log_->warn("component socket: connection {} sent a message only amfd may send", peer);
  }
}

void ComponentChannel::registration_answered(node::PeerId peer, bool ok) {
  auto it = registering_.find(peer);
  if (it == registering_.end()) return;
  const std::string name = it->second;
  registering_.erase(it);
  if (ok) {
    peer_by_component_[name] = peer;
    return;
  }
  for (const auto& [comp, p] : peer_by_component_) {
    if (p == peer) return;
  }
  drop_peer(peer);
}

void ComponentChannel::forget(const CompId& comp) {
  auto peer = peer_by_component_.find(comp.str());
  if (peer == peer_by_component_.end()) return;
  drop_peer(peer->second);
  peer_by_component_.erase(peer);
}

std::optional<node::PeerId> ComponentChannel::peer_of(const CompId& comp) const {
  auto it = peer_by_component_.find(comp.str());
  if (it == peer_by_component_.end()) return std::nullopt;
  return it->second;
}

void ComponentChannel::drop_peer(node::PeerId peer) {
  if (auto rid = routing_id_by_peer_.find(peer); rid != routing_id_by_peer_.end()) {
    peer_by_routing_id_.erase(rid->second);
    routing_id_by_peer_.erase(rid);
  }
}

void ComponentChannel::send(node::PeerId peer, const wire::ComponentMessage& message) {
  auto it = routing_id_by_peer_.find(peer);
  if (it == routing_id_by_peer_.end()) return;
  send_to(it->second, message);
}

void ComponentChannel::send_to(const std::string& routing_id,
                               const wire::ComponentMessage& message) {
  const std::string bytes = wire::encode(message);
  try {
    socket_.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    // Gone (EHOSTUNREACH) or not keeping up: the callback timeout turns silence into a fault.
    log_->warn("component connection: send failed: {}", e.what());
  }
  watch_->kick();
}

// ---- admin.sock ----

AdminChannel::AdminChannel(boost::asio::io_context& io, zmq::context_t& zmq, Callbacks callbacks,
                           std::shared_ptr<spdlog::logger> log)
    : io_(io),
      socket_(zmq, zmq::socket_type::router),
      callbacks_(std::move(callbacks)),
      log_(std::move(log)) {}

AdminChannel::~AdminChannel() {
  watch_.reset();
  close_and_unlink(socket_, endpoint_);
  remote_watch_.reset();
  remote_.close();  // before its guard (no connection unchecked) and its context
  guard_.reset();
}

Result<void> AdminChannel::bind(const std::string& path) {
  auto endpoint = bind_local_router(socket_, path, kMaxAdminMessageBytes);
  if (!endpoint) return tl::unexpected(endpoint.error());
  endpoint_ = *endpoint;
  watch_ =
      std::make_unique<ZmqWatch>(io_, socket_, [this](auto& frames) { on_frames(frames, false); });
  return {};
}

Result<void> AdminChannel::bind_remote(const std::string& endpoint, const keys::ClusterKey& key) {
  remote_zmq_ = std::make_unique<zmq::context_t>(1);
  remote_ = zmq::socket_t(*remote_zmq_, zmq::socket_type::router);
  try {
    remote_.set(zmq::sockopt::linger, 0);
    remote_.set(zmq::sockopt::ipv6, true);
    remote_.set(zmq::sockopt::router_mandatory, true);
    remote_.set(zmq::sockopt::maxmsgsize, kMaxAdminMessageBytes);
    auto guard = CurveGuard::guard(io_, *remote_zmq_, remote_, key, "remote admin socket", endpoint,
                                   [this](const std::string& reason) {
                                     if (callbacks_.refused) callbacks_.refused(reason);
                                   });
    if (!guard) return tl::unexpected(guard.error());
    guard_ = std::move(*guard);
    remote_.bind(endpoint);
  } catch (const zmq::error_t& e) {
    return fail("remote admin socket: cannot bind " + endpoint + ": " + e.what());
  }
  remote_watch_ =
      std::make_unique<ZmqWatch>(io_, remote_, [this](auto& frames) { on_frames(frames, true); });
  log_->info("remote admin socket on {} (CURVE, the cluster's key)", endpoint);
  return {};
}

void AdminChannel::on_frames(std::vector<zmq::message_t>& frames, bool remote) {
  if (frames.size() != 2) {
    log_->warn("{}admin socket: dropped a message of {} frames (expected 2)",
               remote ? "remote " : "", frames.size());
    return;
  }
  Client client{remote, frames[0].to_string(), ""};
  if (remote) {
    // ZeroMQ tells the peer's address with each message of a TCP connection (not when
    // getpeername failed: then the property is missing).
    const char* address = zmq_msg_gets(frames[1].handle(), "Peer-Address");
    client.address = address != nullptr ? CurveGuard::readable_address(address) : "?";
  }
  auto request = wire::decode_admin_request(frames[1].to_string_view());
  if (!request) {
    return reply(client, wire::AdminError{"bad request: " + request.error().message()});
  }
  struct Visitor {
    AdminChannel& c;
    const Client& client;
    void operator()(const wire::StatusRequest&) { c.start_status(client); }
    void operator()(const wire::EventsRequest& r) {
      c.reply(client, wire::EventList{c.callbacks_.events(r.after_sequence, r.max_events)});
    }
    void operator()(const wire::AdminOperation& op) { c.start_operation(client, op); }
    void operator()(const wire::CheckpointsRequest& r) {
      c.reply(client, c.callbacks_.checkpoints(r.name));
    }
  };
  std::visit(Visitor{*this, client}, *request);
}

void AdminChannel::start_operation(const Client& client, const wire::AdminOperation& op) {
  const auto parsed = director::parse_admin_op(op.operation);
  if (!parsed) {
    return reply(client,
                 wire::AdminOperationResult{false, "unknown operation '" + op.operation +
                                                       "' (lock, unlock, lock-instantiation, "
                                                       "unlock-instantiation, shutdown, "
                                                       "repair, si-swap, adjust, restart)"});
  }
  const auto kind = director::parse_entity_kind(op.entity_kind);
  if (!kind) {
    return reply(
        client, wire::AdminOperationResult{false, "unknown entity kind '" + op.entity_kind + "' (" +
                                                      director::entity_kinds() + ")"});
  }
  if (waiting_.size() >= kMaxOperations) {
    return reply(client,
                 wire::AdminOperationResult{false, "too many operations in progress; try again"});
  }
  const std::uint64_t id = next_id_++;
  waiting_[id] = client;
  log_->info("admin operation {} {} {} (#{}{})", op.operation, op.entity_kind, op.entity, id,
             client.remote ? ", from " + client.address : "");
  callbacks_.start(director::AdminRequest{id, *parsed, *kind, op.entity});
}

void AdminChannel::start_status(const Client& client) {
  if (statuses_.size() < kMaxOperations && callbacks_.forward_status) {
    // Kept before it is asked for: the answer may come before forward_status returns.
    const std::uint64_t id = next_id_++;
    statuses_[id] = client;
    if (callbacks_.forward_status(id)) return;
    statuses_.erase(id);
  }
  wire::ClusterStatus status = callbacks_.status();
  if (callbacks_.forward_status && statuses_.size() >= kMaxOperations) {
    // Answered here at once: the director gathered nothing from the other nodes for it.
    status.components_missing.push_back("every other node: not asked (" +
                                        std::to_string(kMaxOperations) +
                                        " status requests wait already; try again)");
  }
  reply(client, status);
}

void AdminChannel::status_answer(std::uint64_t id, const wire::ClusterStatus& status) {
  auto it = statuses_.find(id);
  if (it == statuses_.end()) return;
  reply(it->second, status);
  statuses_.erase(it);
}

void AdminChannel::answer(const director::AdminResult& result) {
  auto it = waiting_.find(result.id);
  if (it == waiting_.end()) return;
  log_->info("admin operation #{}: {}{}", result.id, result.ok ? "done" : "failed: ",
             result.ok && !result.message.empty() ? "; " + result.message : result.message);
  reply(it->second, wire::AdminOperationResult{result.ok, result.message});
  waiting_.erase(it);
}

void AdminChannel::fail_all(const std::string& message) {
  const std::vector<std::uint64_t> ids = [&] {
    std::vector<std::uint64_t> out;
    for (const auto& [id, client] : waiting_) out.push_back(id);
    return out;
  }();
  for (std::uint64_t id : ids) answer({id, false, message});
}

void AdminChannel::reply(const Client& client, const wire::AdminReply& reply) {
  const std::string bytes = wire::encode(reply);
  zmq::socket_t& socket = client.remote ? remote_ : socket_;
  try {
    socket.send(zmq::buffer(client.routing_id),
                zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    socket.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    log_->warn("{}admin socket: reply not sent (client gone?): {}", client.remote ? "remote " : "",
               e.what());
  }
  (client.remote ? remote_watch_ : watch_)->kick();
}

}  // namespace amf::daemon
