#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace amf::daemon {

// The runtime directory amfd and amfctl agree on when none is given: $AMF_RUNTIME_DIR, else
// /run/amf for root, else $XDG_RUNTIME_DIR/amf, else /tmp/amf-UID. Header-only so amfctl can
// share it without linking the daemon.
inline std::string default_runtime_dir() {
  if (const char* dir = std::getenv("AMF_RUNTIME_DIR")) return dir;
  if (::geteuid() == 0) return "/run/amf";
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR")) return std::string(xdg) + "/amf";
  return "/tmp/amf-" + std::to_string(::geteuid());
}

}  // namespace amf::daemon
