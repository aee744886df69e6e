#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>

#include "amf/daemon/deadline_timer.h"
#include "amf/daemon/etcd_client.h"
#include "amf/membership/election.h"

namespace amf::daemon {

// The election core (amf/membership/election.h) carried out against etcd: its reads and swaps
// of the director record become EtcdClient calls, its deadlines an Asio timer. The record's
// value is JSON: {"director": "sc-1", "epoch": 4}. Won, Lost and DirectorIs go to the
// observer, which makes the node lead its membership, stop leading, or obey a newer epoch (and
// must not destroy this object from within the call).
class DirectorElection {
 public:
  using Observer = std::function<void(const membership::ElectionEffect&, TimePoint)>;

  DirectorElection(boost::asio::io_context& io, EtcdClient& etcd, std::string key,
                   membership::ElectionSettings settings, Observer observer);
  ~DirectorElection();
  DirectorElection(const DirectorElection&) = delete;
  DirectorElection& operator=(const DirectorElection&) = delete;

  // What membership says now (call after each of its events).
  void membership(bool leased, bool suspects_director);
  // Membership's keeper stepped down (membership::StepDown): see Election::resign.
  void resign(const std::string& cause);
  const membership::Election& core() const { return core_; }

 private:
  void carry_out();
  void arm_timer();

  EtcdClient& etcd_;
  std::string key_;
  membership::Election core_;
  Observer observer_;
  DeadlineTimer timer_;
  // Set false when this object goes: answers still in flight then find nobody to tell.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace amf::daemon
