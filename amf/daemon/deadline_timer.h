#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "amf/core/time.h"

namespace amf::daemon {

// Wakes a sans-I/O core at its next deadline. Arm it after every turn with the core's
// next_deadline(); it is left alone when the deadline has not moved (re-arming costs two
// system calls). `expired` runs on the loop; not after the timer is gone.
class DeadlineTimer {
 public:
  DeadlineTimer(boost::asio::io_context& io, std::function<void()> expired)
      : timer_(io), expired_(std::move(expired)) {}
  ~DeadlineTimer() {
    *alive_ = false;  // a wait that completed already may still be queued: it must find nobody
    timer_.cancel();
  }
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  void arm(std::optional<TimePoint> next) {
    if (!next || next == armed_) return;
    armed_ = next;
    timer_.expires_at(*next);
    timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
      if (ec || !*alive) return;  // re-armed, or the timer is gone
      armed_.reset();
      expired_();
    });
  }

 private:
  boost::asio::steady_timer timer_;
  std::optional<TimePoint> armed_;
  std::function<void()> expired_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace amf::daemon
