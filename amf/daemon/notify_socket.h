#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/result.h"

namespace amf::daemon {

// What one sd_notify datagram says (sd_notify(3)): newline-separated KEY=VALUE assignments.
struct NotifyMessage {
  bool ready = false;                 // READY=1: start-up is finished
  bool watchdog = false;              // WATCHDOG=1: alive
  bool watchdog_trigger = false;      // WATCHDOG=trigger: treat me as failed now
  bool stopping = false;              // STOPPING=1: shutting down
  bool reloading = false;             // RELOADING=1
  std::optional<std::string> status;  // STATUS=free text
  std::optional<int> errno_value;     // ERRNO=n
  std::optional<pid_t> mainpid;       // MAINPID=n (recorded; amf keeps the PID it started)
  std::vector<std::string> other;     // assignments amf does not use (ignored, as systemd does)
};

// Parses one datagram. Fails, saying why, on what the protocol does not allow: an empty
// datagram, a NUL byte, a line without '=', a variable name that is not [A-Z0-9_]+, or a
// malformed number in ERRNO/MAINPID. READY, WATCHDOG, STOPPING and RELOADING other than "1"
// (and "trigger" for WATCHDOG) are errors too: a component that lies gets told so.
Result<NotifyMessage> parse_notify(std::string_view datagram);

// "READY=1, STATUS=serving" (for the event log).
std::string describe(const NotifyMessage& m);

// One NOTIFY_SOCKET per component: an AF_UNIX datagram socket in `dir`, with SO_PASSCRED so
// that every datagram arrives with its sender's PID as the kernel saw it. Whether that PID
// belongs to the component is the caller's decision (the handler gets it), so that one
// component cannot speak for another even if it finds another's socket.
//
// Runs on the io_context's thread; not thread-safe. Closing or destroying removes the socket
// files.
class NotifySockets {
 public:
  // `message` is the parsed datagram, or why it could not be parsed.
  using Handler =
      std::function<void(const CompId& comp, pid_t sender, const Result<NotifyMessage>& message)>;

  NotifySockets(boost::asio::io_context& io, std::string dir, Handler handler);
  ~NotifySockets();
  NotifySockets(const NotifySockets&) = delete;
  NotifySockets& operator=(const NotifySockets&) = delete;

  // Creates (or re-creates) the component's socket; its path, for NOTIFY_SOCKET.
  Result<std::string> open(const CompId& comp);
  void close(const CompId& comp);
  // The path open() gives `comp`'s socket (whether or not it is open).
  std::string path_of(const CompId& comp) const;

  // The largest datagram read; longer ones are cut and rejected.
  static constexpr std::size_t kMaxDatagram = 4096;

 private:
  struct Entry;
  void arm(const CompId& comp);
  void drain(const CompId& comp);

  boost::asio::io_context& io_;
  std::string dir_;
  Handler handler_;
  std::map<CompId, std::unique_ptr<Entry>> sockets_;
};

}  // namespace amf::daemon
