#include "amf/daemon/director_election.h"

#include <nlohmann/json.hpp>

namespace amf::daemon {

namespace {

std::string encode(const membership::Record& r) {
  return nlohmann::json{{"director", r.director.str()}, {"epoch", r.epoch}}.dump();
}

// A record that is not ours (written by hand, or by another program) is an error that says so.
Result<membership::Record> decode(const EtcdClient::KeyValue& kv, const std::string& key) {
  auto j = nlohmann::json::parse(kv.value, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("director") || !j["director"].is_string() ||
      j["director"].get<std::string>().empty() || !j.contains("epoch") ||
      !j["epoch"].is_number_unsigned()) {
    return fail("etcd key " + key + " does not hold a director record ({\"director\": node, " +
                "\"epoch\": number}): '" + kv.value.substr(0, 80) + "'");
  }
  return membership::Record{NodeId(j["director"].get<std::string>()),
                            j["epoch"].get<std::uint64_t>(), kv.mod_revision};
}

}  // namespace

DirectorElection::DirectorElection(boost::asio::io_context& io, EtcdClient& etcd, std::string key,
                                   membership::ElectionSettings settings, Observer observer)
    : etcd_(etcd),
      key_(std::move(key)),
      core_(std::move(settings), Clock::now()),
      observer_(std::move(observer)),
      timer_(io, [this] {
        core_.tick(Clock::now());
        carry_out();
        arm_timer();
      }) {
  carry_out();
  arm_timer();
}

DirectorElection::~DirectorElection() { *alive_ = false; }

void DirectorElection::membership(bool leased, bool suspects_director) {
  core_.membership(leased, suspects_director, Clock::now());
  carry_out();
  arm_timer();
}

void DirectorElection::resign(const std::string& cause) {
  core_.resign(cause, Clock::now());
  carry_out();
  arm_timer();
}

void DirectorElection::carry_out() {
  for (const membership::ElectionEffect& e : core_.take_effects()) {
    if (std::holds_alternative<membership::ReadRecord>(e)) {
      etcd_.get(key_, [this, alive = alive_](Result<std::optional<EtcdClient::KeyValue>> r) {
        if (!*alive) return;
        const TimePoint now = Clock::now();
        if (!r) {
          core_.store_failed(r.error().message(), now);
        } else if (!r->has_value()) {
          core_.record(std::nullopt, now);
        } else if (auto record = decode(**r, key_)) {
          core_.record(*record, now);
        } else {
          core_.store_failed(record.error().message(), now);
        }
        carry_out();
        arm_timer();
      });
    } else if (const auto* swap = std::get_if<membership::SwapRecord>(&e)) {
      const membership::Record next = swap->next;
      etcd_.compare_and_put(key_, swap->expected, encode(next),
                            [this, next, alive = alive_](Result<EtcdClient::Swap> r) {
                              if (!*alive) return;
                              const TimePoint now = Clock::now();
                              if (!r) {
                                core_.store_failed(r.error().message(), now);
                              } else if (r->succeeded) {
                                membership::Record stored = next;
                                stored.revision = r->revision;
                                core_.swapped(stored, now);
                              } else if (!r->current) {
                                core_.record(std::nullopt, now);
                              } else if (auto record = decode(*r->current, key_)) {
                                core_.record(*record, now);
                              } else {
                                core_.store_failed(record.error().message(), now);
                              }
                              carry_out();
                              arm_timer();
                            });
    } else {
      observer_(e, Clock::now());
    }
  }
}

void DirectorElection::arm_timer() { timer_.arm(core_.next_deadline()); }

}  // namespace amf::daemon
