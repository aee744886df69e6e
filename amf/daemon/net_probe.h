#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

namespace amf::daemon {

// The network liveness probes (model::ProbeConfig), on 127.0.0.1, asynchronous on the Asio
// loop. `done` is called exactly once: (true, "connected" / "HTTP 200") or (false, why:
// "connection refused", "HTTP 503", "no answer within 1000 ms").
using ProbeResult = std::function<void(bool ok, const std::string& detail)>;

// Succeeds when a TCP connection to the port is accepted.
void probe_tcp(boost::asio::io_context& io, int port, std::chrono::milliseconds timeout,
               ProbeResult done);

// Sends "GET path HTTP/1.0" and succeeds on a 2xx or 3xx status line.
void probe_http(boost::asio::io_context& io, int port, const std::string& path,
                std::chrono::milliseconds timeout, ProbeResult done);

}  // namespace amf::daemon
