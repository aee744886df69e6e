#include "amf/daemon/service_address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>

namespace amf::daemon {

namespace {

using Mac = std::array<unsigned char, ETH_ALEN>;

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// The interface's Ethernet address; none for one without (loopback, a tunnel).
std::optional<Mac> hardware_address(const std::string& interface) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.fd < 0) return std::nullopt;
  ifreq request{};
  std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd.fd, SIOCGIFHWADDR, &request) != 0) return std::nullopt;
  if (request.ifr_hwaddr.sa_family != ARPHRD_ETHER) return std::nullopt;
  Mac mac;
  std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, mac.size());
  if (std::all_of(mac.begin(), mac.end(), [](unsigned char b) { return b == 0; })) {
    return std::nullopt;
  }
  return mac;
}

// A gratuitous ARP request and reply: sender and target protocol address are both `address`,
// sent to the broadcast address. A neighbour that has an entry for the address takes the new
// hardware address from either.
Result<void> announce_ipv4(int fd, const model::ServiceAddress& address, unsigned index,
                           const Mac& mac) {
  in_addr ip{};
  ::inet_pton(AF_INET, address.address.c_str(), &ip);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = static_cast<int>(index);
  to.sll_halen = ETH_ALEN;
  std::memset(to.sll_addr, 0xff, ETH_ALEN);
  for (const unsigned short op : {ARPOP_REQUEST, ARPOP_REPLY}) {
    // arphdr, then sender hardware and protocol address, target hardware and protocol address.
    std::array<unsigned char, sizeof(arphdr) + 2 * (ETH_ALEN + 4)> frame{};
    arphdr header{};
    header.ar_hrd = htons(ARPHRD_ETHER);
    header.ar_pro = htons(ETH_P_IP);
    header.ar_hln = ETH_ALEN;
    header.ar_pln = 4;
    header.ar_op = htons(op);
    unsigned char* at = frame.data();
    std::memcpy(at, &header, sizeof header);
    at += sizeof header;
    std::memcpy(at, mac.data(), ETH_ALEN);
    std::memcpy(at + ETH_ALEN, &ip, 4);
    // The target hardware address: unknown (zero) in a request, the broadcast in a reply.
    std::memset(at + ETH_ALEN + 4, op == ARPOP_REPLY ? 0xff : 0, ETH_ALEN);
    std::memcpy(at + 2 * ETH_ALEN + 4, &ip, 4);
    if (::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) <
        0) {
      return fail(std::string("gratuitous ARP not sent: ") + std::strerror(errno));
    }
  }
  return {};
}

// An unsolicited neighbour advertisement (RFC 4861, 4.4 and 7.2.6): to all nodes, override
// set, with the target's link-layer address; hop limit 255, or receivers drop it. The kernel
// fills in the checksum of an ICMPv6 raw socket.
Result<void> announce_ipv6(int fd, const model::ServiceAddress& address, unsigned index,
                           const Mac& mac) {
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index);
  struct {
    nd_neighbor_advert advert;
    nd_opt_hdr option;
    unsigned char mac[ETH_ALEN];
  } __attribute__((packed)) message{};
  message.advert.nd_na_type = ND_NEIGHBOR_ADVERT;
  message.advert.nd_na_code = 0;
  message.advert.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
  ::inet_pton(AF_INET6, address.address.c_str(), &message.advert.nd_na_target);
  message.option.nd_opt_type = ND_OPT_TARGET_LINKADDR;
  message.option.nd_opt_len = 1;  // in units of 8 bytes
  std::memcpy(message.mac, mac.data(), ETH_ALEN);
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
  to.sin6_scope_id = index;
  if (::sendto(fd, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
    return fail(std::string("unsolicited neighbour advertisement not sent: ") +
                std::strerror(errno));
  }
  return {};
}

std::string interfaces_here() {
  std::set<std::string> names;
  if (ifaddrs* list = nullptr; ::getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) names.insert(i->ifa_name);
    ::freeifaddrs(list);
  }
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

struct AddrDeleter {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
  void operator()(nl_addr* a) const { nl_addr_put(a); }
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};

}  // namespace

ServiceAddresses::ServiceAddresses() {
  sock_ = nl_socket_alloc();
  if (sock_ == nullptr) {
    error_ = "no netlink socket could be allocated";
    return;
  }
  if (const int err = nl_connect(sock_, NETLINK_ROUTE); err < 0) {
    error_ = std::string("no rtnetlink connection: ") + nl_geterror(err);
    nl_socket_free(sock_);
    sock_ = nullptr;
  }
}

ServiceAddresses::~ServiceAddresses() {
  if (sock_ != nullptr) nl_socket_free(sock_);
  for (const int fd : {arp_fd_, nd_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

// The announcement sockets, opened once and kept: closing a packet socket waits for an RCU
// grace period (synchronize_net in packet_release), which took 10 to 13 ms on amfd's loop on
// this machine, enough to miss a heartbeat of the fast profile. Neither receives anything: the
// packet socket has no protocol (it names one for each frame it sends), the ICMPv6 one filters
// out every type.
Result<void> ServiceAddresses::open_announcers(bool ipv6) {
  int& fd = ipv6 ? nd_fd_ : arp_fd_;
  if (fd >= 0) return {};
  if (!ipv6) {
    fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(std::string("no packet socket: ") + std::strerror(errno));
    return {};
  }
  fd = ::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) return fail(std::string("no ICMPv6 socket: ") + std::strerror(errno));
  const int hops = 255;
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
  icmp6_filter none;
  ICMP6_FILTER_SETBLOCKALL(&none);
  ::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &none, sizeof none);
  return {};
}

std::vector<std::pair<SiId, model::ServiceAddress>> ServiceAddresses::of_node(
    const model::ClusterConfig& config, const NodeId& node) {
  std::vector<std::pair<SiId, model::ServiceAddress>> out;
  for (const model::SgConfig* sg : config.service_groups()) {
    if (std::none_of(sg->sus.begin(), sg->sus.end(),
                     [&](const model::SuConfig& su) { return su.node == node; })) {
      continue;
    }
    for (const auto& si : sg->sis) {
      if (si.service_address) out.emplace_back(si.id, *si.service_address);
    }
  }
  return out;
}

Result<void> ServiceAddresses::check(
    const std::vector<std::pair<SiId, model::ServiceAddress>>& addresses) {
  // The effective capabilities (CapEff in /proc/self/status, a hexadecimal mask).
  std::ifstream status("/proc/self/status");
  std::uint64_t effective = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapEff:", 0) == 0) effective = std::stoull(line.substr(7), nullptr, 16);
  }
  for (const auto& [bit, name] :
       {std::pair{CAP_NET_ADMIN, "CAP_NET_ADMIN"}, std::pair{CAP_NET_RAW, "CAP_NET_RAW"}}) {
    if ((effective >> bit & 1) == 0) {
      return fail("SI " + addresses.front().first.str() + " floats a service address (" +
                  addresses.front().second.str() + "), and amfd lacks " + name +
                  " to bring it up and announce it; run amfd as root or give it "
                  "CAP_NET_ADMIN and CAP_NET_RAW (AmbientCapabilities= in its unit)");
    }
  }
  for (const auto& [si, address] : addresses) {
    if (::if_nametoindex(address.interface.c_str()) == 0) {
      return fail("the service address of SI " + si.str() + " (" + address.str() +
                  ") names interface '" + address.interface +
                  "', which this host does not have; it has: " + interfaces_here());
    }
  }
  return {};
}

Result<void> ServiceAddresses::change(const model::ServiceAddress& address, bool add) {
  if (sock_ == nullptr) return fail(error_);
  const unsigned index = ::if_nametoindex(address.interface.c_str());
  if (index == 0) return fail("no interface '" + address.interface + "'");
  nl_addr* parsed = nullptr;
  const std::string text = address.address + "/" + std::to_string(address.prefix);
  if (const int err = nl_addr_parse(text.c_str(), address.ipv6 ? AF_INET6 : AF_INET, &parsed);
      err < 0) {
    return fail("'" + text + "' is not an address: " + nl_geterror(err));
  }
  std::unique_ptr<nl_addr, AddrDeleter> local(parsed);
  std::unique_ptr<rtnl_addr, AddrDeleter> request(rtnl_addr_alloc());
  if (!request) return fail("out of memory");
  rtnl_addr_set_ifindex(request.get(), static_cast<int>(index));
  rtnl_addr_set_family(request.get(), address.ipv6 ? AF_INET6 : AF_INET);
  if (const int err = rtnl_addr_set_local(request.get(), local.get()); err < 0) {
    return fail(nl_geterror(err));
  }
  rtnl_addr_set_prefixlen(request.get(), address.prefix);
  if (add) {
    if (address.ipv6) rtnl_addr_set_flags(request.get(), IFA_F_NODAD);
    const int err = rtnl_addr_add(sock_, request.get(), 0);
    if (err < 0 && err != -NLE_EXIST) {
      return fail("adding " + address.str() + " failed: " + nl_geterror(err));
    }
  } else {
    const int err = rtnl_addr_delete(sock_, request.get(), 0);
    if (err < 0 && err != -NLE_NOADDR && err != -NLE_OBJ_NOTFOUND) {
      return fail("removing " + address.str() + " failed: " + nl_geterror(err));
    }
  }
  return {};
}

Result<void> ServiceAddresses::announce(const model::ServiceAddress& address) {
  const unsigned index = ::if_nametoindex(address.interface.c_str());
  const std::optional<Mac> mac = hardware_address(address.interface);
  if (!mac) return {};
  if (auto opened = open_announcers(address.ipv6); !opened) return opened;
  return address.ipv6 ? announce_ipv6(nd_fd_, address, index, *mac)
                      : announce_ipv4(arp_fd_, address, index, *mac);
}

Result<void> ServiceAddresses::raise(const model::ServiceAddress& address, TimePoint now) {
  if (auto added = change(address, true); !added) return added;
  raised_[address.address] = Raised{address, 1, now + kAnnounceEvery};
  if (auto sent = announce(address); !sent) {
    return fail(address.str() + " is up, but " + sent.error().message());
  }
  return {};
}

std::optional<TimePoint> ServiceAddresses::next_announcement() const {
  std::optional<TimePoint> next;
  for (const auto& [text, r] : raised_) {
    if (r.announced < kAnnouncements && (!next || r.next < *next)) next = r.next;
  }
  return next;
}

std::vector<std::string> ServiceAddresses::announce_due(TimePoint now) {
  std::vector<std::string> failed;
  for (auto& [text, r] : raised_) {
    if (r.announced >= kAnnouncements || r.next > now) continue;
    ++r.announced;
    r.next = now + kAnnounceEvery;
    if (auto sent = announce(r.address); !sent) {
      failed.push_back(r.address.str() + " is up, but announcement " + std::to_string(r.announced) +
                       " of " + std::to_string(kAnnouncements) +
                       " failed: " + sent.error().message());
    }
  }
  return failed;
}

Result<void> ServiceAddresses::drop(const model::ServiceAddress& address) {
  // No more announcements, even when it cannot be removed: it must not be up here any more.
  if (auto it = raised_.find(address.address); it != raised_.end()) {
    it->second.announced = kAnnouncements;
  }
  if (auto removed = change(address, false); !removed) return removed;
  raised_.erase(address.address);
  return {};
}

Result<bool> ServiceAddresses::present(const model::ServiceAddress& address) {
  if (sock_ == nullptr) return fail(error_);
  const unsigned index = ::if_nametoindex(address.interface.c_str());
  if (index == 0) return false;
  nl_cache* raw = nullptr;
  if (const int err = rtnl_addr_alloc_cache(sock_, &raw); err < 0) {
    return fail(std::string("the addresses could not be listed: ") + nl_geterror(err));
  }
  std::unique_ptr<nl_cache, AddrDeleter> cache(raw);
  unsigned char wanted[sizeof(in6_addr)];
  ::inet_pton(address.ipv6 ? AF_INET6 : AF_INET, address.address.c_str(), wanted);
  const unsigned length = address.ipv6 ? sizeof(in6_addr) : sizeof(in_addr);
  for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr; o = nl_cache_get_next(o)) {
    auto* entry = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(entry) != static_cast<int>(index)) continue;
    nl_addr* local = rtnl_addr_get_local(entry);
    if (local == nullptr || nl_addr_get_len(local) != length) continue;
    if (std::memcmp(nl_addr_get_binary_addr(local), wanted, length) == 0) return true;
  }
  return false;
}

std::vector<std::string> ServiceAddresses::drop_all() {
  std::vector<std::string> failed;
  const auto raised = raised_;
  for (const auto& [text, r] : raised) {
    if (auto dropped = drop(r.address); !dropped) failed.push_back(dropped.error().message());
  }
  return failed;
}

}  // namespace amf::daemon
