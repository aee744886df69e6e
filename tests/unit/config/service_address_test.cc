// `service_address` of a service instance: read, written canonically, and refused with where
// and why.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/config/support.h"

namespace amf::config {
namespace {

using testing_support::config_of;
using testing_support::errors_of;
using testing_support::has_error;

// Two SGs: `web` (model `model`), whose SI 'front' has the service address `address` (line 11),
// and `db` (2N), whose SI 'main' has `other` (line 18) when given.
std::string yaml(const std::string& address, const std::string& model = "2n",
                 const std::string& other = "") {
  return R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: app
    service_groups:
      - name: web
        redundancy: )" +
         model + R"(
        su_template: {nodes: [n, n], components: [{name: w, command: x, cs_types: [t]}]}
        service_instances:
          - name: front
            service_address: )" +
         address + R"(
            csis: [{name: c, cs_type: t}]
      - name: db
        redundancy: 2n
        su_template: {nodes: [n, n], components: [{name: d, command: x, cs_types: [t]}]}
        service_instances:
          - name: main)" +
         (other.empty() ? "" : "\n            service_address: " + other) + R"(
            csis: [{name: c, cs_type: t}]
)";
}

TEST(ServiceAddressConfigTest, IPv4AndIPv6AddressesAreRead) {
  auto config = config_of(yaml("{address: 10.0.0.100/24, interface: eth0}", "2n",
                               "{address: 'fd00::64/64', interface: bond0.12}"));
  const model::SiConfig* front = config.find_si(SiId("web/front"));
  ASSERT_NE(front, nullptr);
  ASSERT_TRUE(front->service_address);
  EXPECT_EQ(*front->service_address, (model::ServiceAddress{"10.0.0.100", 24, "eth0", false}));
  EXPECT_EQ(front->service_address->str(), "10.0.0.100/24 on eth0");
  const model::SiConfig* main = config.find_si(SiId("db/main"));
  ASSERT_TRUE(main->service_address);
  EXPECT_EQ(*main->service_address, (model::ServiceAddress{"fd00::64", 64, "bond0.12", true}));
}

TEST(ServiceAddressConfigTest, AnSiWithoutOneHasNone) {
  auto config = config_of(yaml("{address: 10.0.0.100/32, interface: eth0}"));
  EXPECT_FALSE(config.find_si(SiId("db/main"))->service_address);
}

TEST(ServiceAddressConfigTest, AnAddressThatIsNotOneIsRefused) {
  for (const std::string bad : {"10.0.0/24", "10.0.0.100", "10.0.0.100/33", "10.0.0.100/x",
                                "fd00::1/129", "host.example/24", "10.0.0.100/-1"}) {
    auto diags = errors_of(yaml("{address: '" + bad + "', interface: eth0}"));
    EXPECT_TRUE(has_error(diags,
                          "'address' in service address of service instance 'front' is '" + bad +
                              "'; expected an IP address with its prefix length",
                          11))
        << bad;
  }
}

TEST(ServiceAddressConfigTest, AnAddressMustBeWrittenAsTheKernelWritesIt) {
  auto diags = errors_of(yaml("{address: 'FD00:0::64/64', interface: eth0}"));
  EXPECT_TRUE(
      has_error(diags, "is 'FD00:0::64', written 'fd00::64' by the kernel; write it so", 11));
}

TEST(ServiceAddressConfigTest, AnInterfaceNameTheKernelWouldRefuseIsRefused) {
  for (const std::string bad : {"''", "averyveryverylong", "eth0:1", "a/b", "'a b'", "."}) {
    auto diags = errors_of(yaml("{address: 10.0.0.100/24, interface: " + bad + "}"));
    EXPECT_TRUE(has_error(diags, "an interface name has 1 to 15 characters", 11)) << bad;
  }
}

TEST(ServiceAddressConfigTest, BothKeysAreNeededAndNoOther) {
  EXPECT_TRUE(has_error(errors_of(yaml("{address: 10.0.0.100/24}")), "interface", 11));
  EXPECT_TRUE(has_error(errors_of(yaml("{interface: eth0}")), "address", 11));
  EXPECT_TRUE(has_error(errors_of(yaml("{address: 10.0.0.100/24, interface: eth0, nic: eth1}")),
                        "nic", 11));
  EXPECT_TRUE(has_error(errors_of(yaml("10.0.0.100/24")), "service_address", 11));
}

TEST(ServiceAddressConfigTest, AnNWayActiveSiCannotHaveOne) {
  auto diags = errors_of(yaml("{address: 10.0.0.100/24, interface: eth0}", "n-way-active"));
  EXPECT_TRUE(has_error(diags,
                        "service group 'web' is n-way-active, whose SIs have several actives; an "
                        "address can follow only one",
                        11));
}

TEST(ServiceAddressConfigTest, TwoSisCannotFloatOneAddress) {
  auto diags = errors_of(yaml("{address: 10.0.0.100/24, interface: eth0}", "2n",
                              "{address: 10.0.0.100/16, interface: eth1}"));
  EXPECT_TRUE(has_error(
      diags, "duplicate service address '10.0.0.100' in the cluster; first defined at line 11",
      18));
}

}  // namespace
}  // namespace amf::config
