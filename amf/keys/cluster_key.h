#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "amf/core/result.h"

namespace amf::keys {

// The secret every node of a cluster shares: membership datagrams carry a tag made with it
// (HMAC-SHA-512-256, libsodium's crypto_auth), and a datagram without a valid tag is refused.
// The command links use ZeroMQ CURVE with a key pair derived from it (curve_keys()): only a
// holder of the secret completes a handshake, and the traffic is encrypted.
// The key file holds 64 hexadecimal digits and a newline, and must be readable by its owner
// only. `amfctl keygen FILE` makes one.
// A Curve25519 key pair, as ZeroMQ CURVE takes it (32 bytes each, binary).
struct CurveKeys {
  std::array<unsigned char, 32> public_key{};
  std::array<unsigned char, 32> secret_key{};
};

class ClusterKey {
 public:
  static constexpr std::size_t kBytes = 32;
  static constexpr std::size_t kTagBytes = 32;

  // A new random key written to `path` (mode 0600); never overwrites an existing file.
  static Result<void> generate(const std::string& path);
  // Refuses a file that others may read or write, that is not exactly one key, or is absent;
  // the error names the file and says how to fix it.
  static Result<ClusterKey> load(const std::string& path);

  // The message with its tag appended.
  std::string seal(std::string_view message) const;
  // The message without its tag, when the tag is right; otherwise an error.
  Result<std::string_view> open(std::string_view datagram) const;

  // The cluster's CURVE key pair, derived from the secret (libsodium's crypto_kdf, then
  // crypto_box_seed_keypair): the same on every node, so every node is both a server that
  // knows whom to accept (the one public key) and a client that knows its server's key.
  CurveKeys curve_keys() const;

 private:
  std::array<unsigned char, kBytes> key_{};
};

}  // namespace amf::keys
