// Fuzz target notify: one sd_notify datagram as a component's process sends it on its
// NOTIFY_SOCKET, through parse_notify (amf/daemon/notify_socket.h), then describe() as the
// event log does. A datagram that parses must mean the same when written back out in
// canonical form (one assignment a line) and parsed again; one that does not must say why.
//
// It also checks that what the datagram puts in the event log (its STATUS text, or the parse
// error amfd records as a protocol error) reaches amfctl, i.e. encodes into an EventList reply
// that decodes (corpus/notify/regression-*: text that is not UTF-8, fixed in the codec).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "amf/core/assert.h"
#include "amf/daemon/notify_socket.h"
#include "amf/wire/codec.h"

namespace {

using amf::daemon::NotifyMessage;

std::string canonical(const NotifyMessage& m) {
  std::string out;
  auto line = [&](const std::string& assignment) { out += assignment + "\n"; };
  if (m.ready) line("READY=1");
  if (m.watchdog) line("WATCHDOG=1");
  if (m.watchdog_trigger) line("WATCHDOG=trigger");
  if (m.stopping) line("STOPPING=1");
  if (m.reloading) line("RELOADING=1");
  if (m.status) line("STATUS=" + *m.status);
  if (m.errno_value) line("ERRNO=" + std::to_string(*m.errno_value));
  if (m.mainpid) line("MAINPID=" + std::to_string(*m.mainpid));
  for (const std::string& other : m.other) line(other);
  return out;
}

bool same(const NotifyMessage& a, const NotifyMessage& b) {
  return a.ready == b.ready && a.watchdog == b.watchdog &&
         a.watchdog_trigger == b.watchdog_trigger && a.stopping == b.stopping &&
         a.reloading == b.reloading && a.status == b.status && a.errno_value == b.errno_value &&
         a.mainpid == b.mainpid && a.other == b.other;
}

// The event amfd records, as `amfctl events` reads it.
void check_event_reaches_amfctl(const std::string& to, const std::string& cause) {
  const amf::wire::EventRecord event{1, 0, 0, "status", "app/su-1/server", "", "", to, cause};
  AMF_ASSERT(amf::wire::decode_admin_reply(
                 amf::wire::encode(amf::wire::AdminReply{amf::wire::EventList{{event}}}))
                 .has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view datagram(reinterpret_cast<const char*>(data), size);
  const auto parsed = amf::daemon::parse_notify(datagram);
  if (!parsed) {
    AMF_ASSERT(!parsed.error().message().empty());
    check_event_reaches_amfctl("", "malformed sd_notify message: " + parsed.error().message());
    return 0;
  }
  AMF_ASSERT(!amf::daemon::describe(*parsed).empty());
  if (parsed->status) check_event_reaches_amfctl(*parsed->status, "STATUS= (sd_notify)");
  // What the header promises of an accepted datagram.
  AMF_ASSERT(!datagram.empty() && datagram.find('\0') == std::string_view::npos);
  AMF_ASSERT(!parsed->errno_value || *parsed->errno_value >= 0);
  AMF_ASSERT(!parsed->mainpid || *parsed->mainpid >= 0);

  const std::string again = canonical(*parsed);
  if (again.empty()) return 0;  // only empty lines: nothing to say twice
  const auto reparsed = amf::daemon::parse_notify(again);
  AMF_ASSERT(reparsed.has_value());
  AMF_ASSERT(same(*parsed, *reparsed));
  return 0;
}
