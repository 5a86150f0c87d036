// `drover agent-info`: /v1/agent/self's stats printed as Nomad's agent-info prints them.
#include <gtest/gtest.h>

#include "fake_agent.hpp"

namespace drover::cli::testing {
namespace {

TEST(AgentInfo, EachStatsSectionWithItsKeysSortedAsNomadPrintsThem) {
  FakeAgent agent;
  agent.server().Get("/v1/agent/self", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"config": {"Version": "0.1.0"}, "member": {"Name": "n1"},
      "stats": {"runtime": {"threads": "12", "arch": "amd64"},
                "client": {"num_allocations": "2", "node_id": "abc"},
                "nomad": {"server": "false"}}})");
  });
  agent.start();
  auto r = run_cli_against(agent.address(), {"agent-info"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "client\n  node_id = abc\n  num_allocations = 2\n"
            "nomad\n  server = false\n"
            "runtime\n  arch = amd64\n  threads = 12\n");
  auto j = run_cli_against(agent.address(), {"-json", "agent-info"});
  EXPECT_EQ(j.code, 0);
  EXPECT_NE(j.out.find("\"Version\": \"0.1.0\""), std::string::npos) << j.out;
}

TEST(AgentInfo, AnAnswerWithoutStatsIsAnError) {
  FakeAgent agent;
  agent.server().Get("/v1/agent/self", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"config": {}})");
  });
  agent.start();
  auto r = run_cli_against(agent.address(), {"agent-info"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no stats"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace drover::cli::testing
