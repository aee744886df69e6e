#include "amf/membership/election.h"

#include <algorithm>

namespace amf::membership {

namespace {

std::string ms(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

std::string describe(const ElectionEffect& effect) {
  struct Visitor {
    std::string operator()(const ReadRecord&) const { return "read the director record"; }
    std::string operator()(const SwapRecord& e) const {
      return "swap the director record from revision " + std::to_string(e.expected) + " to " +
             e.next.director.str() + " epoch " + std::to_string(e.next.epoch);
    }
    std::string operator()(const Won& e) const {
      return "won the director's role, epoch " + std::to_string(e.epoch);
    }
    std::string operator()(const Lost& e) const {
      return "lost the director's role (" + e.cause + ")";
    }
    std::string operator()(const DirectorIs& e) const {
      return "director is " + e.director.str() + ", epoch " + std::to_string(e.epoch);
    }
  };
  return std::visit(Visitor{}, effect);
}

Election::Election(ElectionSettings settings, TimePoint now)
    : settings_(std::move(settings)), next_read_(now), read_base_(now) {
  read();
}

// `follow` only while this node follows another node's director that it does not suspect: not
// when the record is gone, names this node (a role lost or an earlier life's), or is unknown.
Duration Election::interval() const {
  const bool following =
      !leading_ && known_ && !absent_ && known_->director != settings_.self && !suspects_director_;
  return following && settings_.follow > Duration::zero() ? settings_.follow : settings_.check;
}

void Election::schedule_read(TimePoint now) {
  read_base_ = now;
  next_read_ = now + interval();
}

void Election::read() {
  in_flight_ = true;
  effects_.push_back(ReadRecord{});
}

void Election::record(const std::optional<Record>& record, TimePoint now) {
  in_flight_ = false;
  if (record) {
    const bool news =
        !known_ || record->epoch != known_->epoch || record->director != known_->director;
    // Epochs only grow: a read older than what a swap already told us changes nothing.
    if (!known_ || record->epoch >= known_->epoch) {
      known_ = record;
      if (news) {
        effects_.push_back(DirectorIs{record->director, record->epoch});
        suspects_director_ = false;  // that was about the director before; the host says anew
      }
    }
  } else {
    absent_ = true;
  }
  if (record) absent_ = false;
  if (leading_) {
    if (!record) {
      lose("the director record is gone from etcd");
    } else if (record->director != settings_.self || record->epoch != led_epoch_) {
      lose(record->director.str() + " holds epoch " + std::to_string(record->epoch));
    } else {
      last_read_ok_ = now;
    }
  }
  schedule_read(now);
  consider(now);
}

void Election::swapped(const Record& record, TimePoint now) {
  in_flight_ = false;
  known_ = record;
  absent_ = false;
  leading_ = true;
  ever_led_ = true;
  led_epoch_ = record.epoch;
  leased_since_won_ = false;
  last_read_ok_ = now;
  schedule_read(now);
  effects_.push_back(Won{record.epoch});
  effects_.push_back(DirectorIs{record.director, record.epoch});
}

void Election::store_failed(const std::string& why, TimePoint now) {
  in_flight_ = false;
  schedule_read(now);
  last_failure_ = why;
  tick(now);
}

void Election::membership(const Standing& standing, TimePoint now) {
  const bool leased = standing.leased;
  leased_ = leased;
  hears_majority_ = standing.hears_majority;
  suspects_director_ = standing.suspects_director;
  // A follower that comes to suspect the director reads every `check` again from now on.
  if (!in_flight_) next_read_ = std::min(next_read_, read_base_ + interval());
  if (leading_ && leased) leased_since_won_ = true;
  // A director cut off from the majority (its lease ran out after it held one) stops acting;
  // a candidate on the majority side will take over.
  if (leading_ && leased_since_won_ && !leased) {
    lose("this node lost its lease: cut off from the majority of the voters");
  }
  consider(now);
}

void Election::tick(TimePoint now) {
  if (leading_ && now - last_read_ok_ >= settings_.grace) {
    lose("could not read the director record for " + ms(now - last_read_ok_) +
         (last_failure_.empty() ? "" : ": " + last_failure_));
  }
  if (!in_flight_ && now >= next_read_) read();
}

std::optional<TimePoint> Election::next_deadline() const {
  std::optional<TimePoint> next;
  if (!in_flight_) next = next_read_;
  if (leading_) {
    const TimePoint give_up = last_read_ok_ + settings_.grace;
    next = next ? std::min(*next, give_up) : give_up;
  }
  return next;
}

// A candidate that does not lead swaps the record to itself with the next epoch when there is
// none, when it names this node but this life does not lead, or when the director's node is
// suspected and this node is on the majority's side (a node cut off from the majority never
// deposes).
//
// On the majority's side: it holds its lease, or it and a majority of the voters hear each other
// (Member::hears_majority, both ways). The second is for when no lease can be had: leases come
// from views and views from a director, so a cluster whose lives all restarted, or whose
// director lost the role while no view listed the lives now up, would otherwise wait for ever.
// Neither lets two directors act: the epoch fences, and a director acts only once it holds a
// lease.
void Election::consider(TimePoint now) {
  (void)now;
  if (!settings_.candidate || leading_ || in_flight_) return;
  const std::uint64_t next_epoch = (known_ ? known_->epoch : 0) + 1;
  const bool majority_side = leased_ || hears_majority_;
  std::optional<std::int64_t> expected;
  if (absent_) {
    expected = 0;
  } else if (known_ && known_->director == settings_.self && (!ever_led_ || majority_side)) {
    // A record of this node that this life does not hold: an earlier life's (a restart), or
    // this life's, lost (with its lease, or with etcd out of reach for the grace) and now on
    // the majority's side again.
    expected = known_->revision;
  } else if (known_ && suspects_director_ && majority_side) {
    expected = known_->revision;
  }
  if (!expected) return;
  in_flight_ = true;
  effects_.push_back(SwapRecord{*expected, {settings_.self, next_epoch, 0}});
}

void Election::resign(const std::string& cause, TimePoint now) {
  if (!leading_) return;
  lose(cause);
  ever_led_ = false;  // the life that led is over
  consider(now);
}

void Election::lose(const std::string& cause) {
  leading_ = false;
  leased_since_won_ = false;
  effects_.push_back(Lost{cause});
}

}  // namespace amf::membership
