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

// Tasks' runtime state goes to /run/drover (tmpfs on a systemd host) unless the file says
// otherwise; a dev agent with a throwaway data dir keeps it there too, so nothing of it is left.
TEST(AgentConfig, RuntimeDirIsRunDroverOrTheDevAgentsOwnOrAsSet) {
  AgentFlags f;
  f.data_dir = "/var/lib/x";
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->runtime_dir, "/run/drover");

  f.config_paths = {write_config("runtime_dir: /dev/shm/drover\n")};
  c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->runtime_dir, "/dev/shm/drover");

  f.config_paths = {write_config("runtime_dir: run/drover\n")};
  c = load_agent_config(f);
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("runtime_dir: must be an absolute path"), std::string::npos) << c.message();

  AgentFlags dev;
  dev.dev = true;
  c = load_agent_config(dev);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->runtime_dir, c->data_dir / "run");
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

TEST(AgentConfig, CollectionIntervalIsNomadsOneSecondUnlessSet) {
  AgentFlags f;
  f.config_paths = {write_config("data_dir: /x\n")};
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->collection_interval, std::chrono::seconds(1));
  f.config_paths = {write_config("data_dir: /x\ncollection_interval: 250ms\n")};
  c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->collection_interval, std::chrono::milliseconds(250));
  for (const char* bad : {"collection_interval: 1ms\n", "collection_interval: 1\n",
                          "collection_interval: often\n"}) {
    f.config_paths = {write_config(std::string("data_dir: /x\n") + bad)};
    c = load_agent_config(f);
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.message().find("collection_interval"), std::string::npos) << c.message();
  }
}

TEST(AgentConfig, PortSettingsAreReadAsNomadWritesThem) {
  AgentFlags f;
  f.config_paths = {write_config(
      "data_dir: /x\nmin_dynamic_port: 30000\nmax_dynamic_port: 30100\nnetwork_interface: lo\n"
      "reserved: {reserved_ports: \"22,8500-8600\"}\n"
      "host_network:\n  public: {cidr: 10.0.0.0/8, reserved_ports: \"80\"}\n"
      "  local: {interface: lo}\n")};
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->min_dynamic_port, 30000);
  EXPECT_EQ(c->max_dynamic_port, 30100);
  EXPECT_EQ(c->network_interface, "lo");
  EXPECT_EQ(c->reserved_ports, "22,8500-8600");
  ASSERT_EQ(c->host_networks.size(), 2u);
  EXPECT_EQ(c->host_networks[0], (drover::runner::HostNetworkConfig{"local", "", "lo", ""}));
  EXPECT_EQ(c->host_networks[1],
            (drover::runner::HostNetworkConfig{"public", "10.0.0.0/8", "", "80"}));
}

TEST(AgentConfig, BadPortSettingsAreEachNamed) {
  AgentFlags f;
  f.config_paths = {write_config(
      "data_dir: /x\nmin_dynamic_port: 40000\nmax_dynamic_port: 30000\n"
      "reserved: {reserved_ports: \"22,x\"}\n"
      "host_network:\n  a: {cidr: 10.0.0.0/99}\n  b: {interface: lo, cidr: 10.0.0.0/8}\n"
      "  c: {interface: lo, reserved_ports: \"5-1\", mtu: 3}\n")};
  auto c = load_agent_config(f);
  ASSERT_FALSE(c);
  const auto& m = c.message();
  EXPECT_NE(m.find("min_dynamic_port: 40000 is above max_dynamic_port 30000"), std::string::npos) << m;
  EXPECT_NE(m.find("reserved.reserved_ports: \"x\" is not a port"), std::string::npos) << m;
  EXPECT_NE(m.find("host_network.a.cidr: \"10.0.0.0/99\" is not an IPv4 CIDR"), std::string::npos) << m;
  EXPECT_NE(m.find("host_network.b: needs one of cidr or interface"), std::string::npos) << m;
  EXPECT_NE(m.find("host_network.c.reserved_ports: \"5-1\": the range is reversed"), std::string::npos) << m;
  EXPECT_NE(m.find("host_network.c.mtu: unknown key"), std::string::npos) << m;
}

// Nomad's cni_path and cni_config_dir (docs/networking.md, "CNI networks"): Debian's plugin
// dir and Nomad's by default, each as written when set; a relative dir is named.
TEST(AgentConfig, CniPathAndConfigDirAreNomadsSettings) {
  AgentFlags f;
  f.config_paths = {write_config("data_dir: /x\n")};
  auto d = load_agent_config(f);
  ASSERT_TRUE(d) << d.message();
  EXPECT_EQ(d->cni.plugin_dirs, (std::vector<std::string>{"/usr/lib/cni", "/opt/cni/bin"}));
  EXPECT_EQ(d->cni.config_dir, "/opt/cni/config");
  f.config_paths = {write_config("data_dir: /x\ncni_path: /opt/cni/bin:/srv/cni\ncni_config_dir: /etc/cni/net.d\n")};
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->cni.plugin_dirs, (std::vector<std::string>{"/opt/cni/bin", "/srv/cni"}));
  EXPECT_EQ(c->cni.config_dir, "/etc/cni/net.d");
  f.config_paths = {write_config("data_dir: /x\ncni_path: /opt/cni/bin:cni\ncni_config_dir: net.d\n")};
  auto bad = load_agent_config(f);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("cni_path: \"cni\" is not an absolute path (absolute dirs, separated by ':')"),
            std::string::npos)
      << bad.message();
  EXPECT_NE(bad.message().find("cni_config_dir: must be an absolute path"), std::string::npos)
      << bad.message();
}

// Nomad's oidc_issuer (docs/variables.md, "Signing keys"): the tokens' iss, an http(s) URL.
TEST(AgentConfig, OidcIssuerIsAnHttpUrl) {
  AgentFlags f;
  f.config_paths = {write_config("data_dir: /x\noidc_issuer: https://drover.example.com\n")};
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->oidc_issuer, "https://drover.example.com");
  for (const char* bad : {"drover.example.com", "https://x/?a=b", "ftp://x"}) {
    f.config_paths = {write_config(std::string("data_dir: /x\noidc_issuer: \"") + bad + "\"\n")};
    auto r = load_agent_config(f);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.message().find("oidc_issuer: must be an http(s) URL"), std::string::npos) << r.message();
  }
}

TEST(AgentConfig, DevModeHandsOutPortsOnLoopback) {
  AgentFlags f;
  f.dev = true;
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->network_interface, "lo");
  std::filesystem::remove_all(c->data_dir);
}

TEST(AgentConfig, ArtifactBlockSetsLimitsAndAllowedDirs) {
  AgentFlags f;
  f.config_paths = {
      write_config("data_dir: /x\nartifact:\n  http_read_timeout: 5m\n  http_max_size: 500MB\n"
                   "  decompression_size_limit: 1GiB\n  decompression_file_count_limit: 100\n"
                   "  http_retries: 0\n  git_timeout: 1m\n  file_allowed_dirs: [/srv/artifacts]\n"
                   "  git_allow_sshkey: true\n")};
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  const auto& a = c->artifact;
  EXPECT_EQ(a.http_read_timeout, std::chrono::minutes(5));
  EXPECT_EQ(a.http_max_size, 500'000'000u);
  EXPECT_EQ(a.decompression_size_limit, std::uint64_t{1} << 30);
  EXPECT_EQ(a.decompression_file_count_limit, 100u);
  EXPECT_EQ(a.http_retries, 0);
  EXPECT_EQ(a.git_timeout, std::chrono::minutes(1));
  ASSERT_EQ(a.file_allowed_dirs.size(), 1u);
  EXPECT_EQ(a.file_allowed_dirs[0], "/srv/artifacts");
  EXPECT_TRUE(a.git_allow_sshkey);
  // Without the block: no file source is allowed, and the caps have their defaults.
  AgentFlags plain;
  plain.config_paths = {write_config("data_dir: /x\n")};
  auto d = load_agent_config(plain);
  ASSERT_TRUE(d) << d.message();
  EXPECT_TRUE(d->artifact.file_allowed_dirs.empty());
  EXPECT_EQ(d->artifact.decompression_file_count_limit, 4096u);
}

TEST(AgentConfig, BadArtifactSettingsAreEachNamed) {
  AgentFlags f;
  f.config_paths = {
      write_config("data_dir: /x\nartifact:\n  http_max_size: lots\n  http_read_timeout: 5\n"
                   "  file_allowed_dirs: [relative/dir]\n  decompression_file_count_limit: 0\n"
                   "  http_retry: 2\n")};
  auto c = load_agent_config(f);
  ASSERT_FALSE(c);
  const std::string m = c.message();
  for (const char* key :
       {"artifact.http_max_size: must be a size",
        "artifact.http_read_timeout:", "artifact.file_allowed_dirs: must be a list of absolute",
        "artifact.decompression_file_count_limit:", "artifact.http_retry: unknown key"})
    EXPECT_NE(m.find(key), std::string::npos) << key << " in " << m;
}

TEST(AgentConfig, HttpAllowedHostsAreHostNamesOnly) {
  AgentFlags f;
  f.config_paths = {write_config("data_dir: /x\nhttp_allowed_hosts: [drover.example.com, ui.lan]\n")};
  auto c = load_agent_config(f);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->http_allowed_hosts, (std::vector<std::string>{"drover.example.com", "ui.lan"}));
  f.config_paths = {write_config("data_dir: /x\nhttp_allowed_hosts: [\"http://drover.example.com:4646\"]\n")};
  auto bad = load_agent_config(f);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("http_allowed_hosts"), std::string::npos) << bad.message();
}
