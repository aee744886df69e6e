#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amf/core/result.h"
#include "amf/core/time.h"

namespace amf::daemon {

// etcd's v3 API through its JSON gateway (HTTP/1.1 on a client URL), on the Asio loop: the
// few calls that director election and fencing need. Keys and values are bytes (base64 on the
// wire, as the gateway wants). Requests go one at a time over one kept-alive connection, in
// the order they were made; a request whose member does not answer within the timeout is tried
// on the next member, and fails with the reason once every member was tried.
//
// Callbacks run on the loop. Destroying the client drops the requests not yet answered
// (their callbacks never run).
class EtcdClient {
 public:
  struct KeyValue {
    std::string value;
    std::int64_t mod_revision = 0;
  };
  struct Swap {
    bool succeeded = false;
    std::int64_t revision = 0;        // the store's revision after the call
    std::optional<KeyValue> current;  // when it did not succeed: the key now (none: absent)
  };
  template <class T>
  using Callback = std::function<void(Result<T>)>;

  // `members`: "127.0.0.1:2379" style client addresses (IPv4 or IPv6 literal, then the port).
  EtcdClient(boost::asio::io_context& io, std::vector<std::string> members, Duration timeout);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  void get(const std::string& key, Callback<std::optional<KeyValue>> done);
  // Puts `value` at `key` if the key's mod revision is still `expected` (0: if the key does not
  // exist): the compare-and-swap that election and fencing rest on.
  void compare_and_put(const std::string& key, std::int64_t expected, const std::string& value,
                       Callback<Swap> done);

 private:
  class Connection;
  std::shared_ptr<Connection> connection_;
};

}  // namespace amf::daemon
