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

// The agents' keyring_file and oidc_issuer: the server publishes their workload identities'
// keys (docs/variables.md, "Signing keys"); the issuer by the agent's rule.
TEST(ServerConfig, KeyringFileAndOidcIssuerAreTheAgents) {
  auto c = parse_server_config(
      "etcd:\n  endpoints: [\"http://127.0.0.1:2379\"]\nkeyring_file: /etc/drover/keyring\n"
      "oidc_issuer: https://drover.example.com\n",
      "server.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->keyring_file, "/etc/drover/keyring");
  EXPECT_EQ(c->oidc_issuer, "https://drover.example.com");
  auto bad = parse_server_config("oidc_issuer: drover.example.com\nkeyring_file: \"\"\n", "server.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("oidc_issuer: must be an http(s) URL"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("keyring_file: must be a non-empty string"), std::string::npos)
      << bad.message();
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

TEST(ServerConfig, ReadsTheAgentsTlsBlockAndTheAclBlock) {
  auto c = parse_server_config(
      "tls:\n  cert_file: /pki/s.pem\n  key_file: /pki/s.key\n  ca_file: /pki/ca.pem\n"
      "acl:\n  enabled: true\n  bootstrap_token_file: /run/drover/bootstrap\n",
      "server.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_TRUE(c->tls.enabled());
  EXPECT_EQ(c->tls.ca_file, "/pki/ca.pem");
  EXPECT_TRUE(c->acl_enabled);
  EXPECT_EQ(c->acl_bootstrap_token_file, "/run/drover/bootstrap");
}

TEST(ServerConfig, TlsAndAclMistakesAreNamedAsTheAgentNamesThem) {
  auto typo = parse_server_config("tls:\n  cert_fle: /x\nacl:\n  enable: true\n", "server.yaml");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.message().find("tls.cert_fle: unknown key"), std::string::npos) << typo.message();
  EXPECT_NE(typo.message().find("did you mean \"cert_file\""), std::string::npos) << typo.message();
  EXPECT_NE(typo.message().find("acl.enable: unknown key"), std::string::npos) << typo.message();
  auto half = parse_server_config("tls:\n  cert_file: /pki/s.pem\n", "server.yaml");
  ASSERT_FALSE(half);
  EXPECT_NE(half.message().find("cert_file and key_file go together"), std::string::npos)
      << half.message();
  auto file_without_acl =
      parse_server_config("acl:\n  bootstrap_token_file: /tmp/t\n", "server.yaml");
  ASSERT_FALSE(file_without_acl);
  EXPECT_NE(file_without_acl.message().find("needs acl.enabled"), std::string::npos);
}

TEST(ServerConfig, GarbageCollectionKeepsNomadsDefaultsAndNamesABadDuration) {
  auto d = parse_server_config("", "server.yaml");
  ASSERT_TRUE(d) << d.message();
  EXPECT_EQ(d->gc_interval, std::chrono::minutes(5));
  EXPECT_EQ(d->gc.job, std::chrono::hours(4));
  EXPECT_EQ(d->gc.eval, std::chrono::hours(1));
  EXPECT_EQ(d->gc.batch_eval, std::chrono::hours(24));
  EXPECT_EQ(d->gc.deployment, std::chrono::hours(1));
  EXPECT_EQ(d->gc.node, std::chrono::hours(24));
  auto c = parse_server_config(
      "job_gc_interval: 30s\njob_gc_threshold: 10m\neval_gc_threshold: 2h\nnode_gc_threshold: 48h\n",
      "server.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->gc_interval, std::chrono::seconds(30));
  EXPECT_EQ(c->gc.job, std::chrono::minutes(10));
  EXPECT_EQ(c->gc.eval, std::chrono::hours(2));
  EXPECT_EQ(c->gc.node, std::chrono::hours(48));
  auto bad = parse_server_config("deployment_gc_threshold: later\njob_gc_interval: 1ms\n", "server.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("deployment_gc_threshold:"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("job_gc_interval: must be at least 1s"), std::string::npos)
      << bad.message();
}

// What the package installs as /etc/drover/server.yaml (drover-server.service reads it) is a
// config the server takes: loopback, Nomad's port, etcd on this machine.
TEST(ServerConfig, TheShippedServerYamlIsReadAsItStands) {
  auto c = load_server_config(DROVER_SOURCE_DIR "/packaging/server.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->bind_addr, "127.0.0.1");
  EXPECT_EQ(c->port, 4646);
  EXPECT_EQ(c->leader_ttl.count(), 10);
  ASSERT_EQ(c->etcd.endpoints.size(), 1u);
  EXPECT_EQ(c->etcd.endpoints[0], "http://127.0.0.1:2379");
  EXPECT_EQ(c->etcd.prefix, "/drover");
}
