#include "amf/daemon/net_probe.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <istream>
#include <memory>

#include "amf/core/time.h"

namespace amf::daemon {

namespace {

using boost::asio::ip::tcp;

// One probe in flight: the socket, its deadline, and the answer given once.
struct Attempt : std::enable_shared_from_this<Attempt> {
  Attempt(boost::asio::io_context& io, std::chrono::milliseconds timeout, ProbeResult done)
      : socket(io), timer(io), timeout(timeout), done(std::move(done)) {}

  void finish(bool ok, const std::string& detail) {
    if (answered) return;
    answered = true;
    timer.cancel();
    boost::system::error_code ignored;
    socket.close(ignored);
    done(ok, detail);
  }
  void arm() {
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->finish(false, "no answer within " + ms_text(self->timeout));
    });
  }

  tcp::socket socket;
  boost::asio::steady_timer timer;
  std::chrono::milliseconds timeout;
  ProbeResult done;
  bool answered = false;
  std::string request;
  boost::asio::streambuf response;
};

tcp::endpoint loopback(int port) {
  return {boost::asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)};
}

}  // namespace

void probe_tcp(boost::asio::io_context& io, int port, std::chrono::milliseconds timeout,
               ProbeResult done) {
  auto a = std::make_shared<Attempt>(io, timeout, std::move(done));
  a->arm();
  a->socket.async_connect(loopback(port), [a](const boost::system::error_code& ec) {
    if (ec) return a->finish(false, ec.message());
    a->finish(true, "connected");
  });
}

void probe_http(boost::asio::io_context& io, int port, const std::string& path,
                std::chrono::milliseconds timeout, ProbeResult done) {
  auto a = std::make_shared<Attempt>(io, timeout, std::move(done));
  a->request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) +
               "\r\nUser-Agent: amfd-probe\r\n\r\n";
  a->arm();
  a->socket.async_connect(loopback(port), [a](const boost::system::error_code& ec) {
    if (ec) return a->finish(false, ec.message());
    boost::asio::async_write(
        a->socket, boost::asio::buffer(a->request),
        [a](const boost::system::error_code& ec, std::size_t) {
          if (ec) return a->finish(false, "sending the request: " + ec.message());
          boost::asio::async_read_until(
              a->socket, a->response, "\r\n",
              [a](const boost::system::error_code& ec, std::size_t) {
                if (ec) return a->finish(false, "reading the status line: " + ec.message());
                std::istream in(&a->response);
                std::string version;
                int code = 0;
                in >> version >> code;
                if (!version.starts_with("HTTP/") || code < 100 || code > 999) {
                  return a->finish(false, "not an HTTP status line");
                }
                a->finish(code >= 200 && code < 400, "HTTP " + std::to_string(code));
              });
        });
  });
}

}  // namespace amf::daemon
