#include "amf/daemon/zmq_watch.h"

#include <boost/asio/post.hpp>

namespace amf::daemon {

ZmqWatch::ZmqWatch(boost::asio::io_context& io, zmq::socket_t& socket, Handler handler)
    : io_(io),
      socket_(socket),
      handler_(std::move(handler)),
      fd_(io, socket.get(zmq::sockopt::fd)) {
  arm();
  // The fd may have signalled before it was watched, for messages that wait already (a
  // monitor's PAIR signals nothing for its first events until it has been read once).
  kick();
}

ZmqWatch::~ZmqWatch() {
  *alive_ = false;
  fd_.cancel();
  fd_.release();  // the fd belongs to the ZeroMQ socket
}

void ZmqWatch::arm() {
  fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [this](const boost::system::error_code& ec) {
                   if (ec) return;
                   drain();
                   arm();
                 });
}

void ZmqWatch::kick() {
  if (kick_posted_) return;
  kick_posted_ = true;
  boost::asio::post(io_, [this, alive = alive_] {
    if (!*alive) return;
    kick_posted_ = false;
    drain();
  });
}

void ZmqWatch::drain() {
  // Bounded per wake-up so one flooding peer cannot starve the rest of the loop; what is left
  // is picked up by the kick at the end.
  constexpr int kMaxMessagesPerDrain = 256;
  for (int i = 0; i < kMaxMessagesPerDrain; ++i) {
    if (!(socket_.get(zmq::sockopt::events) & ZMQ_POLLIN)) return;
    std::vector<zmq::message_t> frames;
    while (true) {
      zmq::message_t frame;
      if (!socket_.recv(frame, zmq::recv_flags::dontwait)) break;
      const bool more = frame.more();
      frames.push_back(std::move(frame));
      if (!more) break;
    }
    if (!frames.empty()) handler_(frames);
  }
  kick();
}

}  // namespace amf::daemon
