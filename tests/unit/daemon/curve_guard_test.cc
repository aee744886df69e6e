// How the guard writes a peer's address: an IPv4 peer of a socket that takes IPv6 too comes
// as an IPv4-mapped address, which people read as the IPv4 address it is.
#include "amf/daemon/curve_guard.h"

#include <gtest/gtest.h>

namespace amf::daemon {
namespace {

TEST(CurveGuardTest, AnIpv4MappedPeerAddressIsWrittenAsIpv4AndOthersAsTheyCome) {
  EXPECT_EQ(CurveGuard::readable_address("::ffff:10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(CurveGuard::readable_address("10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(CurveGuard::readable_address("fd00::7"), "fd00::7");
  EXPECT_EQ(CurveGuard::readable_address("::ffff:fd00"), "::ffff:fd00");
  EXPECT_EQ(CurveGuard::readable_address(""), "");
}

}  // namespace
}  // namespace amf::daemon
