#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// The input of the admin fuzz target (admin.cc), shared with make_corpus.cc, which writes its
// seeds:
//
//   byte 0      which fixed configuration (kConfigurations, modulo)
//   then        records, at most kMaxRecords, each starting with a tag byte:
//     0x00-0xEF   an encoded wire::AdminRequest of `tag` bytes follows (fewer if the input
//                 ends first), decoded with decode_admin_request as amfd decodes admin.sock
//     0xF0-0xF7   SIGKILL component (tag - 0xF0) % SUs + 1 ("app/su-<n>/server")
//     0xF8        1 s passes
//     0xF9        61 s pass (an admin operation's time limit is 60 s)
//     0xFA        10 min pass
//     0xFB-0xFF   nothing (reserved)
//
// One record with one request is what one `amfctl` call sends; more records make sequences.
namespace amf::fuzz::admin_input {

inline constexpr std::size_t kMaxRecords = 64;
inline constexpr std::uint8_t kMaxRequestBytes = 0xEF;
inline constexpr std::uint8_t kKill = 0xF0;
inline constexpr std::uint8_t kSecond = 0xF8;
inline constexpr std::uint8_t kAdminTimeLimit = 0xF9;
inline constexpr std::uint8_t kTenMinutes = 0xFA;

// A request record: the tag and the bytes. The encoding must be at most kMaxRequestBytes.
inline std::string request_record(std::string_view encoded) {
  std::string out(1, static_cast<char>(encoded.size()));
  out += encoded;
  return out;
}

}  // namespace amf::fuzz::admin_input
