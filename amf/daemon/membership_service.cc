#include "amf/daemon/membership_service.h"

#include "amf/wire/codec.h"

namespace amf::daemon {

namespace {

std::vector<NodeId> all_nodes(const MembershipService::Settings& s) {
  std::vector<NodeId> nodes{s.self.node};
  for (const auto& [node, endpoint] : s.peers) nodes.push_back(node);
  return nodes;
}

constexpr std::int64_t kMaxMessageBytes = 64 * 1024;

}  // namespace

MembershipService::MembershipService(boost::asio::io_context& io, zmq::context_t& zmq,
                                     Settings settings, Observer observer, Refused on_refused)
    : io_(io),
      zmq_(zmq),
      settings_(std::move(settings)),
      observer_(std::move(observer)),
      on_refused_(std::move(on_refused)),
      node_(settings_.self, all_nodes(settings_), settings_.voters, settings_.profile,
            Clock::now()),
      in_(zmq, zmq::socket_type::pull),
      timer_(io) {}

MembershipService::~MembershipService() {
  timer_.cancel();
  watch_.reset();
}

Result<std::unique_ptr<MembershipService>> MembershipService::start(boost::asio::io_context& io,
                                                                    zmq::context_t& zmq,
                                                                    Settings settings,
                                                                    Observer observer,
                                                                    Refused on_refused) {
  std::unique_ptr<MembershipService> service(new MembershipService(
      io, zmq, std::move(settings), std::move(observer), std::move(on_refused)));
  if (auto opened = service->open(); !opened) return tl::unexpected(opened.error());
  service->carry_out();  // the first heartbeats
  service->arm_timer();
  return service;
}

Result<void> MembershipService::open() {
  try {
    in_.set(zmq::sockopt::linger, 0);
    in_.set(zmq::sockopt::maxmsgsize, kMaxMessageBytes);
    in_.bind(settings_.endpoint);
  } catch (const zmq::error_t& e) {
    return fail("membership: cannot bind " + settings_.endpoint + ": " + e.what());
  }
  for (const auto& [node, endpoint] : settings_.peers) {
    zmq::socket_t socket(zmq_, zmq::socket_type::push);
    try {
      socket.set(zmq::sockopt::linger, 0);
      socket.set(zmq::sockopt::immediate, true);  // no queue for a peer not connected
      socket.set(zmq::sockopt::sndhwm, 16);
      // A restarted peer must hear us within its timeout: retry every 10 ms, no back-off.
      socket.set(zmq::sockopt::reconnect_ivl, 10);
      socket.set(zmq::sockopt::reconnect_ivl_max, 10);
      socket.connect(endpoint);
    } catch (const zmq::error_t& e) {
      return fail("membership: cannot connect to " + node.str() + " at " + endpoint + ": " +
                  e.what());
    }
    out_.emplace(node, std::move(socket));
  }
  watch_ =
      std::make_unique<ZmqWatch>(io_, in_, [this](std::vector<zmq::message_t>& f) { received(f); });
  return {};
}

void MembershipService::received(std::vector<zmq::message_t>& frames) {
  if (frames.size() != 1) {
    ++refused_;
    on_refused_("membership message in " + std::to_string(frames.size()) +
                " frames (expected one)");
    return;
  }
  auto message = wire::decode_membership_message(frames[0].to_string_view());
  if (!message) {
    ++refused_;
    on_refused_(message.error().message());
    return;
  }
  node_.receive(*message, Clock::now());
  carry_out();
  arm_timer();
}

void MembershipService::lead(std::uint64_t epoch) {
  node_.lead(epoch, node_.member().view(), Clock::now());
  carry_out();
  arm_timer();
}

void MembershipService::stop_leading() {
  node_.stop_leading();
  arm_timer();  // the keeper's deadlines are gone; an earlier expiry only ticks for nothing
}

void MembershipService::carry_out() {
  const TimePoint now = Clock::now();
  for (membership::Effect& e : node_.take_effects()) {
    if (auto* s = std::get_if<membership::Send>(&e)) {
      auto out = out_.find(s->to);
      if (out == out_.end()) continue;  // a node with no endpoint: the configuration's to check
      const std::string bytes = wire::encode(s->message);
      if (!out->second.send(zmq::buffer(bytes), zmq::send_flags::dontwait)) ++dropped_;
      continue;
    }
    observer_(e, now);
  }
}

void MembershipService::arm_timer() {
  auto next = node_.next_deadline();
  if (!next || next == armed_) return;  // re-arming for the same time costs two system calls
  armed_ = next;
  timer_.expires_at(*next);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    armed_.reset();
    node_.tick(Clock::now());
    carry_out();
    arm_timer();
  });
}

}  // namespace amf::daemon
