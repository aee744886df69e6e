#include "amf/daemon/etcd_client.h"

#include <sodium.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "amf/core/assert.h"
#include "amf/daemon/ip_port.h"

namespace amf::daemon {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using json = nlohmann::json;

namespace {

std::string base64(const std::string& bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<std::string> unbase64(const std::string& text) {
  std::string out(text.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return fail("etcd answered with a value that is not base64");
  }
  out.resize(length);
  return out;
}

// The gateway writes 64-bit integers as strings, and leaves out zero values. (Revisions are
// signed, member ids unsigned.)
template <class T>
T integer_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<T>();
  if (!it->is_string()) return 0;
  try {
    if constexpr (std::is_signed_v<T>) {
      return std::stoll(it->get<std::string>());
    } else {
      return std::stoull(it->get<std::string>());
    }
  } catch (const std::exception&) {
    return 0;
  }
}
constexpr auto int64_of = integer_of<std::int64_t>;
constexpr auto uint64_of = integer_of<std::uint64_t>;

// An answer whose fields have other types than etcd's API gives is an error, not a crash.
Result<std::optional<EtcdClient::KeyValue>> first_kv(const json& range) try {
  auto kvs = range.find("kvs");
  if (kvs == range.end() || !kvs->is_array() || kvs->empty()) {
    return std::optional<EtcdClient::KeyValue>{};
  }
  const json& kv = kvs->front();
  auto value = unbase64(kv.value("value", std::string()));
  if (!value) return tl::unexpected(value.error());
  return std::optional<EtcdClient::KeyValue>{{*value, int64_of(kv, "mod_revision")}};
} catch (const json::exception& e) {
  return fail(std::string("etcd answered a range that is not as its API says: ") + e.what());
}

Result<EtcdClient::Swap> swap_of(const json& answer) try {
  EtcdClient::Swap swap;
  swap.succeeded = answer.value("succeeded", false);
  swap.revision = int64_of(answer.value("header", json::object()), "revision");
  if (!swap.succeeded) {
    const json responses = answer.value("responses", json::array());
    if (responses.is_array() && !responses.empty() &&
        responses.front().contains("response_range")) {
      auto current = first_kv(responses.front()["response_range"]);
      if (!current) return tl::unexpected(current.error());
      swap.current = *current;
    }
  }
  return swap;
} catch (const json::exception& e) {
  return fail(std::string("etcd answered a transaction that is not as its API says: ") + e.what());
}

}  // namespace

// One request at a time over one connection; the connection lives while a request is in
// flight even if the client is gone (the handlers hold it), and then drops the rest.
class EtcdClient::Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Answer = std::function<void(Result<json>)>;

  Connection(boost::asio::io_context& io, std::vector<std::string> members, Timeouts timeouts)
      : members_(std::move(members)), timeouts_(timeouts), stream_(io) {}

  void request(std::string path, json body, Answer answer) {
    queue_.push_back({std::move(path), body.dump(), std::move(answer), 0});
    next();
  }

  void close() {
    closed_ = true;
    queue_.clear();
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

 private:
  struct Pending {
    std::string path;
    std::string body;
    Answer answer;
    std::size_t tries = 0;
  };

  void next() {
    if (busy_ || closed_ || queue_.empty()) return;
    busy_ = true;
    // Back to the first member a while after the requests left it (Timeouts::back_to_first),
    // twice as long after each return that it did not answer, up to a minute.
    if (timeouts_.back_to_first > Duration::zero() && member_ % members_.size() != 0 &&
        Clock::now() - left_first_ >= back_after_) {
      disconnect();
      member_ = 0;
      returning_ = true;
    }
    if (connected_) {
      send();
    } else {
      connect();
    }
  }

  Result<tcp::endpoint> endpoint() const {
    const std::string& member = members_[member_ % members_.size()];
    auto ip_port = parse_ip_port(member, "etcd member '" + member + "'");
    if (!ip_port) return tl::unexpected(ip_port.error());
    return tcp::endpoint(ip_port->first, ip_port->second);
  }

  void connect() {
    auto to = endpoint();
    if (!to) return failed(to.error().message(), false);
    stream_.expires_after(timeouts_.connect);
    stream_.async_connect(*to, [self = shared_from_this()](beast::error_code ec) {
      if (self->closed_) return;
      if (ec) return self->failed("cannot connect: " + ec.message(), true);
      self->connected_ = true;
      self->send();
    });
  }

  void send() {
    const Pending& p = queue_.front();
    request_ = {http::verb::post, p.path, 11};
    request_.set(http::field::host, members_[member_ % members_.size()]);
    request_.set(http::field::content_type, "application/json");
    request_.keep_alive(true);
    request_.body() = p.body;
    request_.prepare_payload();
    // One deadline for sending the request and reading its answer.
    stream_.expires_after(timeouts_.answer);
    http::async_write(stream_, request_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (self->closed_) return;
                        if (ec) return self->failed("cannot send: " + ec.message(), true);
                        self->receive();
                      });
  }

  void receive() {
    response_ = {};
    http::async_read(stream_, buffer_, response_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (self->closed_) return;
                       if (ec) return self->failed("no answer: " + ec.message(), true);
                       self->answered();
                     });
  }

  void answered() {
    json body = json::parse(response_.body(), nullptr, false);
    std::string why;
    if (body.is_object()) {
      for (const char* field : {"error", "message"}) {
        if (auto it = body.find(field); it != body.end() && it->is_string()) why = *it;
      }
    }
    const unsigned status = response_.result_int();
    if (status >= 500) {  // this member cannot serve now (no leader, overloaded): try another
      return failed("answered " + std::to_string(status) + (why.empty() ? "" : ": " + why), true);
    }
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    busy_ = false;
    if (!response_.keep_alive()) disconnect();
    if (member_ % members_.size() == 0) back_after_ = timeouts_.back_to_first;
    returning_ = false;
    if (response_.result() != http::status::ok) {
      p.answer(fail("etcd answered " + std::to_string(status) + " to " + p.path +
                    (why.empty() ? "" : ": " + why)));
    } else if (body.is_discarded() || !body.is_object()) {
      p.answer(fail("etcd answered " + p.path + " with something that is not a JSON object"));
    } else {
      p.answer(std::move(body));
    }
    next();
  }

  // The member did not do its part: try the request on the next one, until each was tried.
  void failed(const std::string& why, bool member_fault) {
    const std::string member = members_[member_ % members_.size()];
    disconnect();
    if (member_ % members_.size() == 0) {
      left_first_ = Clock::now();
      if (returning_) {
        back_after_ = std::min<Duration>(2 * back_after_, std::chrono::minutes(1));
      }
    }
    returning_ = false;
    ++member_;
    Pending& p = queue_.front();
    busy_ = false;
    if (member_fault && ++p.tries < members_.size()) return next();
    Pending gone = std::move(p);
    queue_.pop_front();
    gone.answer(fail("etcd " + member + " (" + gone.path + "): " + why +
                     (members_.size() > 1 ? " (every member tried)" : "")));
    next();
  }

  void disconnect() {
    connected_ = false;
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
  }

  std::vector<std::string> members_;
  Timeouts timeouts_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::deque<Pending> queue_;
  std::size_t member_ = 0;                         // the member in use (modulo their number)
  TimePoint left_first_{};                         // when the requests last left the first member
  Duration back_after_ = timeouts_.back_to_first;  // how long after that they go back
  bool returning_ = false;                         // the requests just went back to it
  bool busy_ = false;
  bool connected_ = false;
  bool closed_ = false;
};

EtcdClient::EtcdClient(boost::asio::io_context& io, std::vector<std::string> members,
                       Timeouts timeouts) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  AMF_ASSERT(!members.empty());
  connection_ = std::make_shared<Connection>(io, std::move(members), timeouts);
}

EtcdClient::~EtcdClient() { connection_->close(); }

void EtcdClient::get(const std::string& key, Callback<std::optional<KeyValue>> done) {
  connection_->request("/v3/kv/range", {{"key", base64(key)}},
                       [done = std::move(done)](Result<json> answer) {
                         if (!answer) return done(tl::unexpected(answer.error()));
                         done(first_kv(*answer));
                       });
}

void EtcdClient::compare_and_put(const std::string& key, std::int64_t expected,
                                 const std::string& value, Callback<Swap> done) {
  const std::string k = base64(key);
  json compare =
      expected == 0
          ? json{{"key", k}, {"target", "CREATE"}, {"create_revision", "0"}, {"result", "EQUAL"}}
          : json{{"key", k},
                 {"target", "MOD"},
                 {"mod_revision", std::to_string(expected)},
                 {"result", "EQUAL"}};
  json body{{"compare", json::array({compare})},
            {"success", json::array({{{"request_put", {{"key", k}, {"value", base64(value)}}}}})},
            {"failure", json::array({{{"request_range", {{"key", k}}}}})}};
  connection_->request("/v3/kv/txn", std::move(body),
                       [done = std::move(done)](Result<json> answer) {
                         if (!answer) return done(tl::unexpected(answer.error()));
                         done(swap_of(*answer));
                       });
}

void EtcdClient::members(Callback<std::vector<Member>> done) {
  connection_->request(
      "/v3/cluster/member/list", json::object(), [done = std::move(done)](Result<json> answer) {
        if (!answer) return done(tl::unexpected(answer.error()));
        try {
          std::vector<Member> out;
          const json list = answer->value("members", json::array());
          if (!list.is_array()) return done(fail("etcd answered a member list without a list"));
          for (const json& m : list) {
            Member member{uint64_of(m, "ID"), m.value("name", std::string()), {}};
            for (const json& url : m.value("clientURLs", json::array())) {
              member.client_urls.push_back(url.get<std::string>());
            }
            out.push_back(std::move(member));
          }
          done(std::move(out));
        } catch (const json::exception& e) {
          done(fail(std::string("etcd answered a member list that is not as its API says: ") +
                    e.what()));
        }
      });
}

void EtcdClient::status(Callback<Status> done) {
  connection_->request("/v3/maintenance/status", json::object(),
                       [done = std::move(done)](Result<json> answer) {
                         if (!answer) return done(tl::unexpected(answer.error()));
                         const json header = answer->value("header", json::object());
                         done(Status{uint64_of(header, "member_id"), uint64_of(*answer, "leader")});
                       });
}

void EtcdClient::move_leader(std::uint64_t to, Callback<void> done) {
  connection_->request("/v3/maintenance/transfer-leadership", {{"targetID", std::to_string(to)}},
                       [done = std::move(done)](Result<json> answer) {
                         if (!answer) return done(tl::unexpected(answer.error()));
                         done({});
                       });
}

std::vector<std::string> own_member_first(std::vector<std::string> members,
                                          const std::string& node_address) {
  boost::system::error_code ec;
  const auto self = boost::asio::ip::make_address(node_address, ec);
  if (ec) return members;
  std::stable_partition(members.begin(), members.end(), [&](const std::string& m) {
    auto ip_port = parse_ip_port(m, "etcd member");
    return ip_port && ip_port->first == self;
  });
  return members;
}

}  // namespace amf::daemon
