// The port allocator and Nomad's reserved_ports syntax: dynamic ports from the range, never
// one held, reserved or busy on the host; static conflicts named with their holder.
#include "runner/port_allocator.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "runner/host_networks.hpp"

using namespace drover;
using namespace drover::runner;

namespace {

jobspec::TaskGroup group(std::vector<jobspec::Port> reserved, std::vector<jobspec::Port> dynamic) {
  jobspec::TaskGroup g;
  g.name = "web";
  jobspec::Network n;
  n.reserved_ports = std::move(reserved);
  n.dynamic_ports = std::move(dynamic);
  g.networks.push_back(n);
  return g;
}

PortConfig config(int min, int max) {
  PortConfig c;
  c.min_dynamic = min;
  c.max_dynamic = max;
  c.default_network.name = "default";
  c.default_network.address = "127.0.0.1";
  return c;
}

const auto kAllFree = [](int) { return true; };

}  // namespace

TEST(PortList, ReadsNomadsSyntax) {
  auto r = parse_port_list("22, 80,8500-8502 ,9000");
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(*r, (std::set<int>{22, 80, 8500, 8501, 8502, 9000}));
  EXPECT_TRUE(parse_port_list("")->empty());
  EXPECT_EQ(format_port_list(*r), "22,80,8500-8502,9000");
}

TEST(PortList, NamesEveryBadPart) {
  auto r = parse_port_list("22,abc,90-80,70000,,5");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("\"abc\" is not a port"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("\"90-80\": the range is reversed"), std::string::npos);
  EXPECT_NE(r.message().find("\"70000\" is not a port"), std::string::npos);
  EXPECT_NE(r.message().find("an empty entry between commas"), std::string::npos);
}

TEST(PortAllocator, DynamicPortsComeFromTheRangeAndAreNeverGivenTwice) {
  PortAllocator a(config(20000, 20009), kAllFree);
  PortUsage usage;
  std::set<int> seen;
  auto g = group({}, {{"http"}});
  for (int i = 0; i < 10; ++i) {
    auto r = a.allocate(g, usage, {"alloc-" + std::to_string(i), "web"});
    ASSERT_TRUE(r) << r.message();
    ASSERT_EQ(r->size(), 1u);
    const auto& p = r->at(0).ports.at(0);
    EXPECT_EQ(p.label, "http");
    EXPECT_EQ(p.host_ip, "127.0.0.1");
    EXPECT_GE(p.value, 20000);
    EXPECT_LE(p.value, 20009);
    EXPECT_TRUE(seen.insert(p.value).second) << "port " << p.value << " given twice";
  }
  auto full = a.allocate(g, usage, {"alloc-x", "web"});
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Errc::Conflict);
  EXPECT_NE(full.message().find("no free dynamic port in 20000-20009 (10 held by allocs"),
            std::string::npos)
      << full.message();
}

TEST(PortAllocator, SkipsReservedPortsAndPortsBusyOnTheHost) {
  auto c = config(20000, 20003);
  c.reserved = {20000};
  PortAllocator a(c, [](int port) { return port != 20001 && port != 20002; });
  PortUsage usage;
  auto r = a.allocate(group({}, {{"http"}}), usage, {"a1", "web"});
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->at(0).ports.at(0).value, 20003);
}

TEST(PortAllocator, TheRealProbeSeesAListener) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  EXPECT_FALSE(host_port_free(port));
  ::close(fd);
  EXPECT_TRUE(host_port_free(port));
}

TEST(PortAllocator, AStaticPortHeldByAnotherAllocIsAConflictNamingIt) {
  PortAllocator a(config(20000, 20100), kAllFree);
  PortUsage usage;
  auto g = group({{"http", 8080}}, {});
  ASSERT_TRUE(a.allocate(g, usage, {"11111111-aaaa", "first"}));
  auto r = a.allocate(g, usage, {"22222222-bbbb", "second"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Conflict);
  EXPECT_EQ(r.message(),
            "static port 8080 (port \"http\") on 127.0.0.1 is held by alloc 11111111-aaaa (job "
            "\"first\")");
}

TEST(PortAllocator, AStaticPortOfAReplacedAllocIsFreeForTheNewVersion) {
  PortAllocator a(config(20000, 20100), kAllFree);
  PortUsage usage;
  state::AllocatedNetwork old;
  old.ports.push_back({"http", 8080, 0, "127.0.0.1", "", true});
  usage.add({old}, {"old-alloc", "web", /*replaced=*/true});
  EXPECT_TRUE(a.allocate(group({{"http", 8080}}, {}), usage, {"new-alloc", "web"}));
}

TEST(PortAllocator, ReservedPortsOfTheAgentConfigAreRefusedSayingSo) {
  auto c = config(20000, 20100);
  c.reserved = {22};
  HostNetwork pub;
  pub.name = "public";
  pub.address = "10.1.2.3";
  pub.reserved = {8500};
  c.host_networks.push_back(pub);
  PortAllocator a(c, kAllFree);
  PortUsage usage;
  auto r = a.allocate(group({{"ssh", 22}, {"consul", 8500, 0, "public"}}, {{"x", 0, 0, "nowhere"}}),
                      usage, {"a", "web"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("static port 22 (port \"ssh\") on 127.0.0.1 is reserved by the agent "
                             "config (reserved.reserved_ports)"),
            std::string::npos)
      << r.message();
  EXPECT_NE(r.message().find("static port 8500 (port \"consul\") on 10.1.2.3 is reserved by the "
                             "agent config (host_network \"public\" reserved_ports)"),
            std::string::npos)
      << r.message();
  EXPECT_NE(r.message().find("port \"x\": host_network \"nowhere\" is not configured"),
            std::string::npos)
      << r.message();
}

TEST(PortAllocator, APortOnAHostNetworkGetsItsAddress) {
  auto c = config(20000, 20100);
  HostNetwork pub;
  pub.name = "public";
  pub.address = "10.1.2.3";
  c.host_networks.push_back(pub);
  PortAllocator a(c, kAllFree);
  PortUsage usage;
  // The same static port on two addresses is no conflict (Nomad counts ports per address).
  ASSERT_TRUE(a.allocate(group({{"http", 8080}}, {}), usage, {"a", "web"}));
  auto r = a.allocate(group({{"http", 8080, 80, "public"}}, {}), usage, {"b", "web"});
  ASSERT_TRUE(r) << r.message();
  const auto& p = r->at(0).ports.at(0);
  EXPECT_EQ(p.host_ip, "10.1.2.3");
  EXPECT_EQ(p.host_network, "public");
  EXPECT_EQ(p.to, 80);
  EXPECT_TRUE(p.reserved);
}
