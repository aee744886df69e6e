#pragma once

#include <string>
#include <string_view>

#include "amf/core/result.h"

namespace amf::daemon {

// Replaces the file at `path` with `text` so that after a crash it holds the old text or the new,
// never a mix: a temporary file beside it (PATH.new, mode 0600), fsync, rename, fsync of the
// directory. On failure the file is as it was and the error reads "cannot write WHAT PATH
// (STEP): REASON" (`what`: "the admin-state store").
Result<void> write_durably(const std::string& path, const std::string& text,
                           const std::string& what);

// Writes all of `bytes` to `fd`, again after a short write or EINTR. The error is strerror's,
// and errno stays as the failed write() left it.
Result<void> write_all(int fd, std::string_view bytes);

}  // namespace amf::daemon
