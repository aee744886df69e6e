#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <vector>
#include <zmq.hpp>

namespace amf::daemon {

// Delivers every multipart message arriving on a ZeroMQ socket to a handler, from the Asio
// loop. ZeroMQ's notification fd is edge-like: it signals "look at ZMQ_EVENTS", not "a message
// waits", so each wake-up drains the socket completely, and so does kick() after any send on
// the socket (a send can consume the edge that announced an incoming message).
//
// Not thread-safe; the socket must outlive the watch. The fd is never closed by the watch.
class ZmqWatch {
 public:
  using Handler = std::function<void(std::vector<zmq::message_t>& frames)>;

  ZmqWatch(boost::asio::io_context& io, zmq::socket_t& socket, Handler handler);
  ~ZmqWatch();
  ZmqWatch(const ZmqWatch&) = delete;
  ZmqWatch& operator=(const ZmqWatch&) = delete;

  // Re-check the socket soon (call after sending on it).
  void kick();

 private:
  void arm();
  void drain();

  boost::asio::io_context& io_;
  zmq::socket_t& socket_;
  Handler handler_;
  boost::asio::posix::stream_descriptor fd_;
  bool kick_posted_ = false;
  // False once the watch is gone: a kick posted before may still run on the loop.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace amf::daemon
