#pragma once

#include <string_view>
#include <zmq.hpp>

#include "amf/keys/cluster_key.h"

namespace amf::keys {

// Makes `dealer` (not yet connected) a CURVE client of a server that holds `key`'s pair. Every
// node holds the one pair, and so does amfctl given --cluster-key: the server's key is the
// client's own public key. (The server's side is daemon::CurveGuard.)
inline void make_curve_client(zmq::socket_t& dealer, const ClusterKey& key) {
  const CurveKeys keys = key.curve_keys();
  const auto bytes = [](const auto& k) {
    return std::string_view(reinterpret_cast<const char*>(k.data()), k.size());
  };
  dealer.set(zmq::sockopt::curve_serverkey, bytes(keys.public_key));
  dealer.set(zmq::sockopt::curve_publickey, bytes(keys.public_key));
  dealer.set(zmq::sockopt::curve_secretkey, bytes(keys.secret_key));
}

}  // namespace amf::keys
