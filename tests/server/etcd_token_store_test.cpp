// The cluster's token store against a real etcd: checks are answered from each process's
// copy, kept by a watch, and a token made or revoked on one server counts on the others.
#include "api/etcd_token_store.hpp"

#include <gtest/gtest.h>

#include "agent_process.hpp"
#include "cluster_processes.hpp"

namespace {

using namespace std::chrono_literals;
using drover::api::EtcdTokenStore;
using drover::testing::EtcdProcess;
using drover::testing::eventually;

drover::upstream::EtcdConfig config_of(const EtcdProcess& etcd) {
  drover::upstream::EtcdConfig cfg;
  cfg.endpoints = {etcd.endpoint()};
  cfg.request_timeout = 2000ms;
  return cfg;
}

class EtcdTokens : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
    ASSERT_TRUE(etcd_.start());
  }
  EtcdProcess etcd_;
};

TEST_F(EtcdTokens, AKnownTokenIsCheckedWithoutAskingEtcd) {
  EtcdTokenStore one(config_of(etcd_));
  auto made = one.bootstrap();
  ASSERT_TRUE(made && made.value()) << made.message();
  const std::string secret = *made.value();
  // Once the copy holds it (read whole or delivered by the watch), checks cost no etcd call.
  ASSERT_TRUE(eventually(
      [&] {
        const auto before = one.etcd_lookups();
        return one.authenticate(secret) && one.etcd_lookups() == before;
      },
      10s));
  const auto before = one.etcd_lookups();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(one.authenticate(secret));
  EXPECT_EQ(one.etcd_lookups(), before);
  // A secret nobody made is looked up in etcd and allowed nothing.
  EXPECT_FALSE(one.authenticate("not-a-secret"));
  EXPECT_EQ(one.etcd_lookups(), before + 1);
}

TEST_F(EtcdTokens, ATokenMadeOnOneServerCountsOnTheOtherAtOnceAndARevocationSoonAfter) {
  EtcdTokenStore a(config_of(etcd_));
  EtcdTokenStore b(config_of(etcd_));
  auto boot = a.bootstrap();
  ASSERT_TRUE(boot && boot.value());
  auto made = a.create("viewer", drover::api::Policy::read);
  ASSERT_TRUE(made) << made.message();
  const auto& [info, secret] = made.value();
  // At once: b's copy may not hold it yet, etcd does.
  auto seen = b.authenticate(secret);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->accessor_id, info.accessor_id);
  EXPECT_EQ(seen->policy, drover::api::Policy::read);

  std::string why;
  ASSERT_EQ(a.revoke(info.accessor_id, &why), drover::api::TokenStore::RevokeError::none) << why;
  EXPECT_FALSE(a.authenticate(secret)) << "refused at once where it was revoked";
  EXPECT_TRUE(eventually([&] { return !b.authenticate(secret); }, 10s))
      << "the other server's copy never dropped the revoked token";
}

TEST_F(EtcdTokens, WithEtcdGoneNothingIsAllowedAndBackItIsAgain) {
  EtcdTokenStore store(config_of(etcd_));
  auto made = store.bootstrap();
  ASSERT_TRUE(made && made.value());
  const std::string secret = *made.value();
  ASSERT_TRUE(store.authenticate(secret));
  etcd_.stop();
  // The copy is trusted only while its watch runs: without etcd, no revocation could reach it.
  EXPECT_TRUE(eventually([&] { return !store.authenticate(secret); }, 20s));
  ASSERT_TRUE(etcd_.start());
  EXPECT_TRUE(eventually([&] { return store.authenticate(secret).has_value(); }, 20s));
}

TEST_F(EtcdTokens, ARecordThatIsNoTokenGrantsNothingAndSpoilsNothing) {
  EtcdTokenStore store(config_of(etcd_));
  auto made = store.bootstrap();
  ASSERT_TRUE(made && made.value());
  etcd_.ctl("put /drover/acl/tokens/hand-written '{\"SecretHash\": 42}'");
  EXPECT_FALSE(store.authenticate("42"));
  EXPECT_TRUE(store.authenticate(*made.value()));
  auto list = store.list();
  ASSERT_TRUE(list) << list.message();
  EXPECT_EQ(list->size(), 1u);
}

}  // namespace
