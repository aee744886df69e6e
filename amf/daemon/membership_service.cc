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

MembershipService::MembershipService(boost::asio::io_context& io, Settings settings,
                                     Observer observer, Refused on_refused)
    : settings_(std::move(settings)),
      observer_(std::move(observer)),
      on_refused_(std::move(on_refused)),
      node_(settings_.self, all_nodes(settings_), settings_.voters, settings_.profile,
            Clock::now()),
      socket_(io),
      timer_(io, [this] {
        node_.tick(Clock::now());
        carry_out();
        arm_timer();
      }) {}

MembershipService::~MembershipService() {
  *alive_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

Result<std::unique_ptr<MembershipService>> MembershipService::start(boost::asio::io_context& io,
                                                                    Settings settings,
                                                                    Observer observer,
                                                                    Refused on_refused) {
  std::unique_ptr<MembershipService> service(
      new MembershipService(io, std::move(settings), std::move(observer), std::move(on_refused)));
  if (auto opened = service->open(); !opened) return tl::unexpected(opened.error());
  service->receive();
  service->carry_out();  // the first heartbeats
  service->arm_timer();
  return service;
}

Result<void> MembershipService::open() {
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

void MembershipService::receive() {
  socket_.async_receive_from(
      boost::asio::buffer(datagram_), sender_,
      [this, alive = alive_](const boost::system::error_code& ec, std::size_t size) {
        if (!*alive || ec == boost::asio::error::operation_aborted) return;
        if (!ec) {
          const std::string from = " (from " + sender_.address().to_string() + ":" +
                                   std::to_string(sender_.port()) + ")";
          auto message = unseal(std::string_view(datagram_.data(), size));
          if (!message) {
            ++refused_;
            on_refused_(message.error().message() + from);
          } else {
            node_.receive(*message, Clock::now());
            carry_out();
            arm_timer();
          }
        }
        // Errors on a UDP socket (an ICMP "port unreachable" from an earlier send) concern one
        // peer, not this socket: keep receiving.
        receive();
      });
}

Result<membership::Message> MembershipService::unseal(std::string_view datagram) const {
  if (!settings_.key) return wire::decode_membership_message(datagram);
  auto opened = settings_.key->open(datagram);
  if (!opened) return fail("membership " + opened.error().message());
  return wire::decode_membership_message(*opened);
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
      auto peer = peers_.find(s->to);
      if (peer == peers_.end()) continue;  // a node with no endpoint: the configuration's to check
      const std::string bytes =
          settings_.key ? settings_.key->seal(wire::encode(s->message)) : wire::encode(s->message);
      boost::system::error_code ec;
      socket_.send_to(boost::asio::buffer(bytes), peer->second, 0, ec);
      if (ec) ++dropped_;
      continue;
    }
    observer_(e, now);
  }
}

void MembershipService::arm_timer() { timer_.arm(node_.next_deadline()); }

}  // namespace amf::daemon
