// `drover node status`, `plugin list`, `version` and `agent` flag handling.
#include <gtest/gtest.h>

#include <sstream>

#include "cli/cli.hpp"
#include "core/agent.hpp"
#include "fake_agent.hpp"

namespace drover::cli::testing {
namespace {

const char* kNode = R"({"ID":"4f1c2d3e-aaaa-bbbb-cccc-dddddddddddd","Name":"node-1",
  "Datacenter":"dc1","Status":"ready",
  "Attributes":{"kernel.name":"linux","cpu.numcores":"2","driver.raw_exec":"true"},
  "Meta":{},
  "Drivers":{
    "raw_exec":{"Detected":true,"Healthy":true,"HealthDescription":"Healthy","Attributes":{}},
    "exec":{"Detected":true,"Healthy":false,"HealthDescription":"runc not found","Attributes":{}},
    "docker":{"Detected":false,"Healthy":false,"HealthDescription":"","Attributes":{}}}})";

TEST(NodeCommands, StatusShowsEachDriversHealth) {
  FakeAgent agent;
  agent.server().Get(
      "/v1/node", [](const httplib::Request&, httplib::Response& res) { reply_json(res, kNode); });
  agent.start();
  auto r = run_cli_against(agent.address(), {"node", "status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID      = 4f1c2d3e-aaaa-bbbb-cccc-dddddddddddd\n"
            "Name    = node-1\n"
            "DC      = dc1\n"
            "Status  = ready\n"
            "Drivers = docker (undetected), exec (unhealthy), raw_exec (healthy)\n"
            "\n"
            "Drivers\n"
            "Driver    Health      Description\n"
            "docker    undetected\n"
            "exec      unhealthy   runc not found\n"
            "raw_exec  healthy     Healthy\n");
}

TEST(NodeCommands, VerboseListsAttributesSorted) {
  FakeAgent agent;
  agent.server().Get(
      "/v1/node", [](const httplib::Request&, httplib::Response& res) { reply_json(res, kNode); });
  agent.start();
  auto r = run_cli_against(agent.address(), {"node", "status", "-verbose"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\nAttributes\n"
                       "cpu.numcores    = 2\n"
                       "driver.raw_exec = true\n"
                       "kernel.name     = linux\n"),
            std::string::npos)
      << r.out;
}

TEST(PluginCommands, ListShowsReasonColumnWhenAPluginWasRefused) {
  FakeAgent agent;
  agent.server().Get("/v1/plugins", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"([
      {"Name":"raw_exec","Type":"driver","Version":"0.1.0","ABIVersion":1,
       "Path":"/p/raw_exec.so","Status":"loaded","Reason":""},
      {"Name":"old","Type":"driver","Version":"0.0.1","ABIVersion":0,
       "Path":"/p/old.so","Status":"refused","Reason":"built for ABI 0, agent speaks 1"}])");
  });
  agent.start();
  auto r = run_cli_against(agent.address(), {"plugin", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "Name      Type    Version  ABI  Status   Path            Reason\n"
      "raw_exec  driver  0.1.0    1    loaded   /p/raw_exec.so\n"
      "old       driver  0.0.1    0    refused  /p/old.so       built for ABI 0, agent speaks 1\n");
}

TEST(VersionCommand, PrintsTheProjectVersion) {
  std::ostringstream out, err;
  EXPECT_EQ(run_cli({"version"}, out, err), 0);
  EXPECT_EQ(out.str().rfind("drover v", 0), 0u) << out.str();
  EXPECT_EQ(out.str().back(), '\n');
}

agent::AgentFlags g_seen_flags;
int fake_run_agent(const agent::AgentFlags& flags) {
  g_seen_flags = flags;
  return 7;
}

TEST(AgentCommand, NomadStyleFlagsReachTheDaemon) {
  std::ostringstream out, err;
  int code =
      run_cli({"agent", "-dev", "-config", "/etc/drover.yaml", "-data-dir=/var/lib/d",
               "-plugin-dir", "/p", "-bind", "0.0.0.0", "-port", "5656", "-log-level", "DEBUG"},
              out, err, &fake_run_agent);
  EXPECT_EQ(code, 7) << err.str();
  EXPECT_TRUE(g_seen_flags.dev);
  EXPECT_EQ(g_seen_flags.config_paths, std::vector<std::string>{"/etc/drover.yaml"});
  EXPECT_EQ(g_seen_flags.data_dir, "/var/lib/d");
  EXPECT_EQ(g_seen_flags.plugin_dir, "/p");
  EXPECT_EQ(g_seen_flags.bind, "0.0.0.0");
  EXPECT_EQ(g_seen_flags.port, 5656);
  EXPECT_EQ(g_seen_flags.log_level, "debug");
}

TEST(AgentCommand, BadFlagValuesAreUsageErrors) {
  std::ostringstream out, err;
  EXPECT_EQ(run_cli({"agent", "-port", "70000"}, out, err, &fake_run_agent), 1);
  EXPECT_EQ(run_cli({"agent", "-log-level", "loud"}, out, err, &fake_run_agent), 1);
  EXPECT_EQ(run_cli({"frobnicate"}, out, err, &fake_run_agent), 1);
}

}  // namespace
}  // namespace drover::cli::testing
