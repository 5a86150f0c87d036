#include <gtest/gtest.h>

#include <fstream>

#include "core/agent_config.hpp"

using namespace drover::agent;

namespace {
std::string write_config(const std::string& text) {
  char tmpl[] = "/tmp/drover-config-XXXXXX";
  int fd = mkstemp(tmpl);
  close(fd);
  std::ofstream(tmpl) << text;
  return tmpl;
}
}  // namespace

TEST(AgentConfig, FileValuesAndFlagsOverride) {
  AgentFlags f;
  f.config_paths = {write_config(
      "data_dir: /var/lib/x\nport: 5000\ndatacenter: east\nmeta: {rack: r1}\n"
      "plugin:\n  raw_exec:\n    config: {enabled: true}\n")};
  f.port = 6000;
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->data_dir, "/var/lib/x");
  EXPECT_EQ(c->port, 6000);
  EXPECT_EQ(c->datacenter, "east");
  EXPECT_EQ(c->meta["rack"], "r1");
  EXPECT_EQ(c->plugins["raw_exec"]["enabled"], true);
  EXPECT_EQ(c->bind_addr, "127.0.0.1");
}

TEST(AgentConfig, NodeClassPoolAndMetaAsNomadsClientHasThem) {
  AgentFlags f;
  f.config_paths = {write_config(
      "data_dir: /x\nnode_class: gpu-large\nnode_pool: edge\nmeta: {rack: r1, slots: 4}\n")};
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->node_class, "gpu-large");
  EXPECT_EQ(c->node_pool, "edge");
  EXPECT_EQ(c->meta["slots"], "4");
  AgentFlags d;
  d.config_paths = {write_config("data_dir: /x\n")};
  EXPECT_EQ(load_agent_config(d)->node_pool, "default");
  AgentFlags bad;
  bad.config_paths = {write_config("data_dir: /x\nnode_pool: all\n")};
  auto b = load_agent_config(bad);
  ASSERT_FALSE(b);
  EXPECT_NE(b.message().find("node_pool: must be a pool name"), std::string::npos) << b.message();
}

TEST(AgentConfig, EveryBadKeyIsNamed) {
  AgentFlags f;
  f.config_paths = {write_config("data_dir: /x\nport: 99999\nbogus: 1\nplugin: {raw_exec: {enabld: true}}\n")};
  auto c = load_agent_config(f);
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("port"), std::string::npos);
  EXPECT_NE(c.message().find("bogus: unknown key"), std::string::npos);
  EXPECT_NE(c.message().find("plugin.raw_exec.enabld"), std::string::npos) << c.message();
}

TEST(AgentConfig, DataDirRequiredOutsideDevMode) {
  AgentFlags f;
  auto c = load_agent_config(f);
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("data_dir"), std::string::npos);
}

TEST(AgentConfig, DevModeEnablesRawExecAndMakesATempDataDir) {
  AgentFlags f;
  f.dev = true;
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_TRUE(c->data_dir_is_temp);
  EXPECT_EQ(c->plugins["raw_exec"]["enabled"], true);
  std::filesystem::remove_all(c->data_dir);
}

// Found by fuzz/fuzz_agent_config: a map key that is not a plain string threw out of the
// parser and would have ended the agent.
TEST(AgentConfig, ComplexMapKeyIsAnErrorNotACrash) {
  AgentFlags f;
  f.config_paths = {write_config("data_dir: /x\nmeta:\n  ? [a, b]\n  : c\n")};
  auto c = load_agent_config(f);
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("map keys must be plain strings"), std::string::npos) << c.message();
  f.config_paths = {std::string(DROVER_SOURCE_DIR) + "/tests/agent/fuzz-crash-agent-config.yaml"};
  EXPECT_FALSE(load_agent_config(f));
}

TEST(AgentConfig, CgroupBackendIsPlainByDefaultAndLibcgroupOnRequest) {
  AgentFlags f;
  f.config_paths = {write_config("data_dir: /x\n")};
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->cgroup_backend, drover::cgroups::Backend::PlainFiles);
  EXPECT_FALSE(c->cgroup_favor_dynmods) << "the host's cgroup2 mount is left alone by default";
  f.config_paths = {write_config("data_dir: /x\ncgroup_backend: libcgroup\ncgroup_favor_dynmods: true\n")};
  c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->cgroup_backend, drover::cgroups::Backend::Libcgroup);
  EXPECT_TRUE(c->cgroup_favor_dynmods);
}

TEST(AgentConfig, BadCgroupOptionsAreErrorsNamingTheKey) {
  AgentFlags f;
  f.config_paths = {write_config("data_dir: /x\ncgroup_backend: systemd\ncgroup_favor_dynmods: yes\n")};
  auto c = load_agent_config(f);
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("cgroup_backend: \"systemd\" is not one of plain, libcgroup"),
            std::string::npos)
      << c.message();
  EXPECT_NE(c.message().find("cgroup_favor_dynmods: must be true or false"), std::string::npos)
      << c.message();
}

TEST(AgentConfig, JobGcThresholdIsNomadsFourHoursUnlessSet) {
  AgentFlags f;
  f.config_paths = {write_config("data_dir: /x\n")};
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->job_gc_threshold, std::chrono::hours(4));
  f.config_paths = {write_config("data_dir: /x\njob_gc_threshold: 90m\n")};
  c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->job_gc_threshold, std::chrono::minutes(90));
  for (const char* bad :
       {"job_gc_threshold: 0s\n", "job_gc_threshold: 5\n", "job_gc_threshold: later\n"}) {
    f.config_paths = {write_config(std::string("data_dir: /x\n") + bad)};
    c = load_agent_config(f);
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.message().find("job_gc_threshold"), std::string::npos) << c.message();
  }
}
