#include "amf/daemon/membership_service.h"

#include "amf/daemon/ip_port.h"
#include "amf/wire/codec.h"

namespace amf::daemon {

using boost::asio::ip::udp;

namespace {

std::vector<NodeId> all_nodes(const MembershipService::Settings& s) {
  std::vector<NodeId> nodes{s.self.node};
  for (const auto& [node, endpoint] : s.peers) nodes.push_back(node);
  return nodes;
}

}  // namespace

Result<udp::endpoint> parse_udp_endpoint(const std::string& text) {
  const std::string scheme = "udp://";
  if (text.rfind(scheme, 0) != 0) {
    return fail("membership endpoint '" + text + "' must start with udp://");
  }
  auto ip_port = parse_ip_port(text.substr(scheme.size()), "membership endpoint '" + text + "'");
  if (!ip_port) return tl::unexpected(ip_port.error());
  return udp::endpoint(ip_port->first, ip_port->second);
}

MembershipSocket::MembershipSocket(boost::asio::io_context& io, Settings settings,
                                   Receiver receiver, Refused on_refused)
    : settings_(std::move(settings)),
      receiver_(std::move(receiver)),
      on_refused_(std::move(on_refused)),
      socket_(io) {}

MembershipSocket::~MembershipSocket() {
  *alive_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

Result<std::unique_ptr<MembershipSocket>> MembershipSocket::open(boost::asio::io_context& io,
                                                                 Settings settings,
                                                                 Receiver receiver,
                                                                 Refused on_refused) {
  std::unique_ptr<MembershipSocket> socket(
      new MembershipSocket(io, std::move(settings), std::move(receiver), std::move(on_refused)));
  if (auto bound = socket->bind(); !bound) return tl::unexpected(bound.error());
  socket->receive();
  return socket;
}

Result<void> MembershipSocket::bind() {
  auto local = parse_udp_endpoint(settings_.endpoint);
  if (!local) return tl::unexpected(local.error());
  for (const auto& [node, text] : settings_.peers) {
    auto peer = parse_udp_endpoint(text);
    if (!peer) return tl::unexpected(peer.error().with_context("peer " + node.str()));
    peers_[node] = *peer;
  }
  boost::system::error_code ec;
  socket_.open(local->protocol(), ec);
  if (!ec) socket_.bind(*local, ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) return fail("membership: cannot bind " + settings_.endpoint + ": " + ec.message());
  return {};
}

void MembershipSocket::receive() {
  socket_.async_receive_from(
      boost::asio::buffer(datagram_), sender_,
      [this, alive = alive_](const boost::system::error_code& ec, std::size_t size) {
        if (!*alive || ec == boost::asio::error::operation_aborted) return;
        if (!ec) {
          auto message = unseal(std::string_view(datagram_.data(), size));
          if (!message) {
            ++refused_;
            const std::string from = sender_.address().to_string();
            auto report = reports_.admit(message.error().message() + " " + from,
                                         message.error().message() + " (from " + from + ":" +
                                             std::to_string(sender_.port()) + ")",
                                         Clock::now());
            if (report) on_refused_(*report);
          } else {
            receiver_(*message);
            if (!*alive) return;  // the receiver ended this socket's owner
          }
        }
        // Errors on a UDP socket (an ICMP "port unreachable" from an earlier send) concern one
        // peer, not this socket: keep receiving.
        receive();
      });
}

Result<membership::Message> MembershipSocket::unseal(std::string_view datagram) const {
  if (!settings_.key) return wire::decode_membership_message(datagram);
  auto opened = settings_.key->open(datagram);
  if (!opened) return fail("membership " + opened.error().message());
  return wire::decode_membership_message(*opened);
}

void MembershipSocket::send(const membership::Send& send) {
  auto peer = peers_.find(send.to);
  if (peer == peers_.end()) return;
  const std::string bytes =
      settings_.key ? settings_.key->seal(wire::encode(send.message)) : wire::encode(send.message);
  boost::system::error_code ec;
  socket_.send_to(boost::asio::buffer(bytes), peer->second, 0, ec);
  if (ec) ++dropped_;
}

MembershipService::MembershipService(boost::asio::io_context& io, Settings settings,
                                     Observer observer)
    : settings_(std::move(settings)),
      observer_(std::move(observer)),
      node_(settings_.self, all_nodes(settings_), settings_.voters, settings_.profile,
            Clock::now()),
      timer_(io, [this] {
        node_.tick(Clock::now());
        carry_out();
        arm_timer();
      }) {}

Result<std::unique_ptr<MembershipService>> MembershipService::start(boost::asio::io_context& io,
                                                                    Settings settings,
                                                                    Observer observer,
                                                                    Refused on_refused) {
  std::unique_ptr<MembershipService> service(
      new MembershipService(io, std::move(settings), std::move(observer)));
  MembershipService& s = *service;
  auto socket = MembershipSocket::open(
      io, {s.settings_.endpoint, s.settings_.peers, s.settings_.key},
      [&s](const membership::Message& m) {
        s.node_.receive(m, Clock::now());
        s.carry_out();
        s.arm_timer();
      },
      std::move(on_refused));
  if (!socket) return tl::unexpected(socket.error());
  s.socket_ = std::move(*socket);
  s.carry_out();  // the first heartbeats
  s.arm_timer();
  return service;
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
      socket_->send(*s);
      continue;
    }
    observer_(e, now);
  }
}

void MembershipService::arm_timer() { timer_.arm(node_.next_deadline()); }

}  // namespace amf::daemon
