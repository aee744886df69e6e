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
    // Non-zero: once the requests have gone to another member than the first for this long,
    // the next one tries the first again (amfd lists its own node's member first, and a client
    // left on another node's member would wait out `answer` when that node dies). Zero: a
    // client stays with the member that answers.
    Duration back_to_first{};
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

  // etcd's own cluster, for keeping its leader off the director's node (Cluster): the members,
  // the asked member's view of who leads, and a request to the leader to hand its role over
  // (MoveLeader; refused, as an error, by a member that does not lead).
  struct Member {
    std::uint64_t id = 0;
    std::string name;
    std::vector<std::string> client_urls;  // "http://10.0.0.1:2379"
  };
  struct Status {
    std::uint64_t member = 0;  // the member that answered
    std::uint64_t leader = 0;  // 0: it knows no leader
  };
  void members(Callback<std::vector<Member>> done);
  void status(Callback<Status> done);
  void move_leader(std::uint64_t to, Callback<void> done);

 private:
  class Connection;
  std::shared_ptr<Connection> connection_;
};

// The members with a node's own first (those on `node_address`), the rest in their order;
// unchanged when `node_address` is not an IP literal. A node then asks the member that lives and
// dies with it: when another node crashes, its member with it, no request of this node is in
// flight to the dead member, waiting out the answer timeout (half a second with the fast
// profile) before the next member is tried, which a new director's claim would wait for too.
std::vector<std::string> own_member_first(std::vector<std::string> members,
                                          const std::string& node_address);

}  // namespace amf::daemon
