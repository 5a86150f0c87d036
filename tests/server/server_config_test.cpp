// server.yaml (server/server_config.hpp): the agent's etcd block, the leader TTL, and every
// problem named at once.
#include "server/server_config.hpp"

#include <gtest/gtest.h>

using namespace drover::server;

TEST(ServerConfig, ReadsTheEtcdBlockAndLeaderTtl) {
  auto c = parse_server_config(
      "name: s1\nport: 4700\nleader_ttl: 4s\netcd:\n  endpoints: [\"http://127.0.0.1:2379\"]\n"
      "  prefix: /c1\n",
      "server.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->name, "s1");
  EXPECT_EQ(c->port, 4700);
  EXPECT_EQ(c->leader_ttl.count(), 4);
  EXPECT_EQ(c->etcd.prefix, "/c1");
}

TEST(ServerConfig, EveryProblemIsNamedWithTheFile) {
  auto c = parse_server_config("port: 0\nleader_ttl: soon\nbogus: 1\n", "server.yaml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), drover::Errc::Invalid);
  EXPECT_NE(c.message().find("server.yaml"), std::string::npos);
  EXPECT_NE(c.message().find("port:"), std::string::npos);
  EXPECT_NE(c.message().find("leader_ttl:"), std::string::npos);
  EXPECT_NE(c.message().find("bogus: unknown key"), std::string::npos);
}
