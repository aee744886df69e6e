#include "amf/keys/cluster_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace amf::keys {

namespace {

Result<void> ready() {
  if (sodium_init() < 0) return fail("libsodium cannot initialise");
  static_assert(ClusterKey::kBytes == crypto_auth_KEYBYTES);
  static_assert(ClusterKey::kTagBytes == crypto_auth_BYTES);
  return {};
}

}  // namespace

Result<void> ClusterKey::generate(const std::string& path) {
  if (auto ok = ready(); !ok) return ok;
  unsigned char key[crypto_auth_KEYBYTES];
  crypto_auth_keygen(key);
  char hex[crypto_auth_KEYBYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, key, sizeof key);
  sodium_memzero(key, sizeof key);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(
        "cannot create key file " + path + ": " + std::strerror(errno) +
        (errno == EEXIST ? " (a key is never overwritten; remove it first if you mean it)" : ""));
  }
  std::string text = std::string(hex) + "\n";
  sodium_memzero(hex, sizeof hex);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  sodium_memzero(text.data(), text.size());
  ::close(fd);
  if (!written) {
    ::unlink(path.c_str());
    return fail("cannot write key file " + path);
  }
  return {};
}

Result<ClusterKey> ClusterKey::load(const std::string& path) {
  if (auto ok = ready(); !ok) return tl::unexpected(ok.error());
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot read key file " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail("key file " + path + " may be read or written by others (mode " + mode +
                "): chmod 600 " + path);
  }
  char text[crypto_auth_KEYBYTES * 2 + 2] = {};
  const ssize_t n = ::read(fd, text, sizeof text);
  char extra;
  const bool more = n == static_cast<ssize_t>(sizeof text) && ::read(fd, &extra, 1) > 0;
  ::close(fd);
  std::size_t length = n > 0 ? static_cast<std::size_t>(n) : 0;
  if (length > 0 && text[length - 1] == '\n') --length;
  ClusterKey key;
  std::size_t bytes = 0;
  const char* end = nullptr;
  if (more || length != crypto_auth_KEYBYTES * 2 ||
      sodium_hex2bin(key.key_.data(), key.key_.size(), text, length, nullptr, &bytes, &end) != 0 ||
      bytes != crypto_auth_KEYBYTES) {
    sodium_memzero(text, sizeof text);
    return fail("key file " + path + " does not hold one key (64 hexadecimal digits); make one " +
                "with 'amfctl keygen FILE'");
  }
  sodium_memzero(text, sizeof text);
  return key;
}

std::string ClusterKey::seal(std::string_view message) const {
  std::string out(message);
  out.resize(message.size() + crypto_auth_BYTES);
  crypto_auth(reinterpret_cast<unsigned char*>(out.data() + message.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), key_.data());
  return out;
}

Result<std::string_view> ClusterKey::open(std::string_view datagram) const {
  if (datagram.size() < crypto_auth_BYTES) {
    return fail("datagram of " + std::to_string(datagram.size()) +
                " bytes is too short to carry the cluster key's tag");
  }
  const std::string_view message = datagram.substr(0, datagram.size() - crypto_auth_BYTES);
  if (crypto_auth_verify(reinterpret_cast<const unsigned char*>(datagram.data() + message.size()),
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         key_.data()) != 0) {
    return fail("datagram not signed with this cluster's key");
  }
  return message;
}

CurveKeys ClusterKey::curve_keys() const {
  static_assert(kBytes == crypto_kdf_KEYBYTES);
  static_assert(sizeof(CurveKeys::public_key) == crypto_box_PUBLICKEYBYTES);
  static_assert(sizeof(CurveKeys::secret_key) == crypto_box_SECRETKEYBYTES);
  static_assert(crypto_box_SEEDBYTES <= crypto_kdf_BYTES_MAX);
  // The context names the use, so that the key pair says nothing about the HMAC key.
  unsigned char seed[crypto_box_SEEDBYTES];
  crypto_kdf_derive_from_key(seed, sizeof seed, 1, "amfcurve", key_.data());
  CurveKeys keys;
  crypto_box_seed_keypair(keys.public_key.data(), keys.secret_key.data(), seed);
  sodium_memzero(seed, sizeof seed);
  return keys;
}

}  // namespace amf::keys
