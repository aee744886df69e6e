#pragma once

#include <cstdio>
#include <cstdlib>

// AMF_ASSERT guards invariants whose violation means the program is wrong, not the input.
// It stays on in release builds: continuing with a broken invariant in an availability
// manager could mean two active instances of one service, which is worse than a crash the
// node director's own supervisor (systemd) restarts.
#define AMF_ASSERT(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (false)
