#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/result.h"
#include "amf/core/time.h"
#include "amf/model/config.h"

struct nl_sock;

namespace amf::daemon {

// The SIs' floating service addresses on this host (model::ServiceAddress): brought up and taken
// down over rtnetlink (libnl-route-3), and announced when they come up, so that the neighbours'
// caches point at this host at once instead of when their entries go stale:
// - IPv4: a gratuitous ARP request and reply from the interface's hardware address (a packet
//   socket), as Pacemaker's IPaddr2 sends with send_arp;
// - IPv6: the address is added without duplicate address detection (IFA_F_NODAD: usable at
//   once; a tentative address could not be bound), and an unsolicited neighbour advertisement
//   with the override flag goes to all nodes (ff02::1), as IPaddr2's send_ua does.
// Each raised address is announced kAnnouncements times, kAnnounceEvery apart (Pacemaker's
// IPaddr2 defaults: five, 200 ms apart), so that one lost broadcast leaves no neighbour, and no
// switch's forwarding table, on the old node. The first goes out from raise(); the later ones
// from announce_due(), which the host calls at next_announcement(); drop() ends them.
// An interface without a hardware address (loopback) gets no announcement. Needs
// CAP_NET_ADMIN (and CAP_NET_RAW for the announcements). Not thread-safe; each call is a few
// system calls, made on amfd's loop.
class ServiceAddresses {
 public:
  ServiceAddresses();
  ~ServiceAddresses();
  ServiceAddresses(const ServiceAddresses&) = delete;
  ServiceAddresses& operator=(const ServiceAddresses&) = delete;

  // The service addresses of the SIs that `node` may hold: those of SGs with an SU on it.
  static std::vector<std::pair<SiId, model::ServiceAddress>> of_node(
      const model::ClusterConfig& config, const NodeId& node);
  // Each of them names an interface this host has; else which SI's does not, and what it has.
  static Result<void> check(const std::vector<std::pair<SiId, model::ServiceAddress>>& addresses);

  static constexpr int kAnnouncements = 5;
  static constexpr Duration kAnnounceEvery = std::chrono::milliseconds(200);

  // Adds the address (one already there is kept) and announces it; the later announcements
  // fall due from `now` on.
  Result<void> raise(const model::ServiceAddress& address, TimePoint now);
  // Removes the address (one not there is fine).
  Result<void> drop(const model::ServiceAddress& address);
  // Whether raise() brought the address up and drop() has not taken it down (a removal that
  // failed leaves it up).
  bool raised(const model::ServiceAddress& address) const {
    return raised_.contains(address.address);
  }
  // Whether the address is configured on its interface now.
  Result<bool> present(const model::ServiceAddress& address);
  // When the next repeated announcement falls due; none while nothing is left to announce.
  std::optional<TimePoint> next_announcement() const;
  // Sends the announcements due at `now` (of addresses still up); what failed, one line each.
  std::vector<std::string> announce_due(TimePoint now);
  // Removes every address that raise() brought up and drop() has not taken down (the node's
  // life ends: nothing of it may answer any more); what failed, one line each.
  std::vector<std::string> drop_all();

 private:
  Result<void> change(const model::ServiceAddress& address, bool add);
  // One gratuitous ARP or unsolicited neighbour advertisement; nothing without a hardware address.
  Result<void> announce(const model::ServiceAddress& address);
  Result<void> open_announcers(bool ipv6);
  int arp_fd_ = -1;  // a packet socket, kept open (open_announcers)
  int nd_fd_ = -1;   // an ICMPv6 raw socket, likewise
  nl_sock* sock_ = nullptr;
  std::string error_;  // why sock_ is null
  struct Raised {
    model::ServiceAddress address;
    int announced = 0;  // how many announcements went out (or were due and failed)
    TimePoint next{};   // when the next falls due, while announced < kAnnouncements
  };
  std::map<std::string, Raised> raised_;  // by address
};

}  // namespace amf::daemon
