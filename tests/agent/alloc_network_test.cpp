// The alloc network's CNI inputs and outputs (runner/alloc_network.hpp): the conflist Nomad
// uses for bridge mode, loopback alone for none, portmap's mappings and the alloc's address
// read from a plugin result.
#include "runner/alloc_network.hpp"

#include <gtest/gtest.h>

using namespace drover::runner;
using nlohmann::json;

TEST(AllocNetwork, BridgeConflistIsNomads) {
  json list = cni_conflist("bridge");
  EXPECT_EQ(list["name"], "nomad");
  std::vector<std::string> types;
  for (const auto& p : list["plugins"]) types.push_back(p["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"loopback", "bridge", "firewall", "portmap"}));
  const auto& bridge = list["plugins"][1];
  EXPECT_EQ(bridge["bridge"], "nomad");
  EXPECT_EQ(bridge["ipMasq"], true);
  EXPECT_EQ(bridge["isGateway"], true);
  EXPECT_EQ(bridge["ipam"]["type"], "host-local");
  EXPECT_EQ(bridge["ipam"]["ranges"][0][0]["subnet"], "172.26.64.0/20");
  EXPECT_EQ(list["plugins"][2]["iptablesAdminChainName"], "NOMAD-ADMIN");
  EXPECT_EQ(list["plugins"][3]["capabilities"]["portMappings"], true);
  EXPECT_EQ(list["plugins"][3]["snat"], true);
}

TEST(AllocNetwork, ModeNoneIsLoopbackAlone) {
  json list = cni_conflist("none");
  ASSERT_EQ(list["plugins"].size(), 1u);
  EXPECT_EQ(list["plugins"][0]["type"], "loopback");
}

TEST(AllocNetwork, PortMappingsPublishHostPortToThePortInside) {
  drover::state::AllocatedPort http{"http", 24817, 8080, "127.0.0.1"};
  drover::state::AllocatedPort same{"admin", 9090, 0, ""};
  json m = cni_port_mappings({http, same});
  ASSERT_EQ(m.size(), 4u);  // tcp and udp each, as Nomad
  EXPECT_EQ(m[0], (json{{"hostPort", 24817},
                        {"containerPort", 8080},
                        {"protocol", "tcp"},
                        {"hostIP", "127.0.0.1"}}));
  EXPECT_EQ(m[1]["protocol"], "udp");
  EXPECT_EQ(m[2]["containerPort"], 9090);
  EXPECT_FALSE(m[2].contains("hostIP"));
}

TEST(AllocNetwork, AddressComesFromTheResultsFirstIPv4) {
  json result = json::parse(R"({"cniVersion": "0.4.0",
    "interfaces": [{"name": "nomad"}, {"name": "veth1"}, {"name": "eth0", "sandbox": "/x"}],
    "ips": [{"version": "6", "address": "fd00::5/64"},
            {"version": "4", "interface": 2, "address": "172.26.64.7/20", "gateway": "172.26.64.1"}]})");
  auto ip = cni_result_ip(result);
  ASSERT_TRUE(ip.ok()) << ip.message();
  EXPECT_EQ(*ip, "172.26.64.7");
  auto none = cni_result_ip(json::parse(R"({"cniVersion": "0.4.0", "ips": []})"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("no IPv4 address"), std::string::npos);
  EXPECT_FALSE(cni_result_ip(json::parse(R"({"code": 7, "msg": "x"})")).ok());
}
