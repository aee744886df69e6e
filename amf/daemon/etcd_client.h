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
// the order they were made; a request whose member does not take the connection or does not
// answer within its timeout is tried on the next member, and fails with the reason once every
// member was tried.
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

  // Two timeouts, because a member that is gone and one whose disk is slow look alike only
  // from far away: a member that does not take a connection within `connect` is taken for gone,
  // while sending a request and reading its answer may take up to `answer` together (a write
  // waits for etcd's fsync, which on a busy disk takes hundreds of milliseconds; a shorter
  // limit would make every write fail there, and a write that landed but timed out is done
  // again). A request's time waiting behind the one before it does not count.
  struct Timeouts {
    Duration connect;
    Duration answer;
  };

  // `members`: "127.0.0.1:2379" style client addresses (IPv4 or IPv6 literal, then the port).
  EtcdClient(boost::asio::io_context& io, std::vector<std::string> members, Timeouts timeouts);
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
