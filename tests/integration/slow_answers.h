#pragma once

// A TCP relay on loopback that holds every byte a server sends back for a fixed delay before it
// passes it on: a server that answers slowly (an etcd member on a disk whose fsync takes
// hundreds of milliseconds) without touching the server. Requests pass at once. It runs on the
// test's loop; connections through it close when either side closes.
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "amf/core/time.h"

namespace amf::testing {

class SlowAnswers {
 public:
  using tcp = boost::asio::ip::tcp;

  SlowAnswers(boost::asio::io_context& io, int server_port, Duration delay)
      : io_(io),
        server_(boost::asio::ip::address_v4::loopback(), static_cast<std::uint16_t>(server_port)),
        delay_(delay),
        acceptor_(io, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)) {
    accept();
  }
  ~SlowAnswers() {
    *alive_ = false;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& weak : pipes_) {
      if (auto p = weak.lock()) p->close();
    }
  }
  SlowAnswers(const SlowAnswers&) = delete;
  SlowAnswers& operator=(const SlowAnswers&) = delete;

  // Where clients connect: "127.0.0.1:PORT".
  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

 private:
  struct Pipe : std::enable_shared_from_this<Pipe> {
    Pipe(boost::asio::io_context& io, Duration delay)
        : client(io), server(io), timer(io), delay(delay) {}

    void start(const tcp::endpoint& to) {
      server.async_connect(to, [self = shared_from_this()](boost::system::error_code ec) {
        if (ec) return self->close();
        self->requests();
        self->answers();
      });
    }
    void requests() {  // client to server, at once
      client.async_read_some(
          boost::asio::buffer(up),
          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            if (ec) return self->close();
            boost::asio::async_write(self->server, boost::asio::buffer(self->up, n),
                                     [self](boost::system::error_code ec, std::size_t) {
                                       if (ec) return self->close();
                                       self->requests();
                                     });
          });
    }
    void answers() {  // server to client, each piece held for the delay
      server.async_read_some(
          boost::asio::buffer(down),
          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            if (ec) {
              self->server_done = true;
              if (!self->passing) self->pass();
              return;
            }
            self->held.emplace_back(Clock::now() + self->delay, std::string(self->down.data(), n));
            if (!self->passing) self->pass();
            self->answers();
          });
    }
    void pass() {
      if (held.empty()) {
        passing = false;
        if (server_done) close();
        return;
      }
      passing = true;
      timer.expires_at(held.front().first);
      timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec) return self->close();
        boost::asio::async_write(self->client, boost::asio::buffer(self->held.front().second),
                                 [self](boost::system::error_code ec, std::size_t) {
                                   if (ec) return self->close();
                                   self->held.pop_front();
                                   self->pass();
                                 });
      });
    }
    void close() {
      boost::system::error_code ignored;
      client.close(ignored);
      server.close(ignored);
      timer.cancel();
    }

    tcp::socket client;
    tcp::socket server;
    boost::asio::steady_timer timer;
    Duration delay;
    std::array<char, 8192> up{};
    std::array<char, 8192> down{};
    std::deque<std::pair<TimePoint, std::string>> held;
    bool passing = false;
    bool server_done = false;
  };

  void accept() {
    auto pipe = std::make_shared<Pipe>(io_, delay_);
    acceptor_.async_accept(pipe->client,
                           [this, alive = alive_, pipe](boost::system::error_code ec) {
                             if (ec || !*alive) return;  // closed
                             pipes_.push_back(pipe);
                             pipe->start(server_);
                             accept();
                           });
  }

  boost::asio::io_context& io_;
  tcp::endpoint server_;
  Duration delay_;
  tcp::acceptor acceptor_;
  std::vector<std::weak_ptr<Pipe>> pipes_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace amf::testing
