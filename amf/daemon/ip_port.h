#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <utility>

#include "amf/core/result.h"

namespace amf::daemon {

// "127.0.0.1:2379" or "[::1]:2379": an IP literal and a port, for the adapters that are given
// addresses (no name lookup). `what` names the text in errors, e.g. "etcd member '...'".
inline Result<std::pair<boost::asio::ip::address, unsigned short>> parse_ip_port(
    const std::string& text, const std::string& what) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return fail(what + " has no port");
  std::string host = text.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return fail(what + ": '" + host + "' is not an IP address");
  int port = 0;
  try {
    port = std::stoi(text.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port < 1 || port > 65535) return fail(what + " has no valid port (1 to 65535)");
  return std::make_pair(address, static_cast<unsigned short>(port));
}

}  // namespace amf::daemon
