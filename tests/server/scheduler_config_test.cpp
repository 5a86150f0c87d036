// The cluster's scheduler configuration (server/scheduler_config.hpp): server.yaml's keys,
// Nomad's JSON for /v1/operator/scheduler/configuration, and Nomad's defaults.
#include "server/scheduler_config.hpp"

#include <gtest/gtest.h>

#include "server/cluster_state.hpp"
#include "server/server_config.hpp"

using namespace drover::server;
using drover::jobspec::JobType;
using nlohmann::json;

TEST(SchedulerConfig, NomadsDefaultsPreemptForSystemJobsOnly) {
  SchedulerConfig c;
  EXPECT_EQ(c.algorithm, "binpack");
  EXPECT_TRUE(c.preemption_enabled(JobType::System));
  EXPECT_TRUE(c.preemption_enabled(JobType::SysBatch));
  EXPECT_FALSE(c.preemption_enabled(JobType::Service));
  EXPECT_FALSE(c.preemption_enabled(JobType::Batch));
}

TEST(SchedulerConfig, ServerYamlSetsTheAlgorithmAndPreemption) {
  auto c = parse_server_config(
      "scheduler_algorithm: spread\npreemption_config:\n  service_scheduler_enabled: true\n"
      "  system_scheduler_enabled: false\n",
      "server.yaml");
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->scheduler.algorithm, "spread");
  EXPECT_TRUE(c->scheduler.preempt_service);
  EXPECT_FALSE(c->scheduler.preempt_system);
  EXPECT_TRUE(c->scheduler.preempt_sysbatch);
}

TEST(SchedulerConfig, ServerYamlProblemsNameTheKey) {
  auto c = parse_server_config(
      "scheduler_algorithm: roundrobin\npreemption_config:\n  service: yes\n", "server.yaml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("scheduler_algorithm: must be binpack or spread"), std::string::npos);
  EXPECT_NE(c.message().find("preemption_config.service: unknown key"), std::string::npos);
}

TEST(SchedulerConfig, NomadsJsonRoundTripsAndAbsentKeysKeepTheirValues) {
  SchedulerConfig base;
  base.preempt_batch = true;
  auto c = scheduler_config_from_json(
      {{"SchedulerAlgorithm", "spread"}, {"PreemptionConfig", {{"ServiceSchedulerEnabled", true}}}},
      base);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->algorithm, "spread");
  EXPECT_TRUE(c->preempt_service);
  EXPECT_TRUE(c->preempt_batch);
  auto again = scheduler_config_from_json(to_json(*c), SchedulerConfig{});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *c);
  EXPECT_EQ(to_json(*c)["PreemptionConfig"]["SysBatchSchedulerEnabled"], true);
}

TEST(SchedulerConfig, AWrongValueInNomadsJsonIsRefusedNamingTheKey) {
  auto bad = scheduler_config_from_json({{"SchedulerAlgorithm", "fifo"}}, {});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("SchedulerAlgorithm"), std::string::npos);
  auto bad2 =
      scheduler_config_from_json({{"PreemptionConfig", {{"BatchSchedulerEnabled", "yes"}}}}, {});
  ASSERT_FALSE(bad2);
  EXPECT_NE(bad2.message().find("PreemptionConfig.BatchSchedulerEnabled"), std::string::npos);
}

TEST(SchedulerConfig, AStoredConfigurationOutranksServerYamlsAndItsAbsenceDoesNot) {
  const Keys keys{"/drover"};
  SchedulerConfig yaml;
  yaml.algorithm = "spread";
  drover::upstream::EtcdRange none;
  auto st = read_cluster_state(none, keys);
  st.use_scheduler_defaults(yaml);
  EXPECT_EQ(st.scheduler.algorithm, "spread") << "server.yaml's while none is stored";

  drover::upstream::EtcdRange stored;
  stored.kvs.push_back({keys.scheduler_config(),
                        R"({"SchedulerAlgorithm": "binpack",
                            "PreemptionConfig": {"ServiceSchedulerEnabled": true}})"});
  st = read_cluster_state(stored, keys);
  st.use_scheduler_defaults(yaml);
  EXPECT_TRUE(st.scheduler_stored);
  EXPECT_EQ(st.scheduler.algorithm, "binpack");
  EXPECT_TRUE(st.scheduler.preempt_service);
  EXPECT_TRUE(st.scheduler.preempt_system) << "Nomad's default for a key left out";
}
