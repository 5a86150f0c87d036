// The CLI against a server: `drover server` flags reach the daemon, `server members`, and
// `node status` listing the cluster's nodes where a server has no single node.
#include <gtest/gtest.h>

#include <sstream>

#include "cli/cli.hpp"
#include "fake_agent.hpp"
#include "server/server_flags.hpp"

namespace drover::cli::testing {
namespace {

server::ServerFlags g_seen;

int fake_run_server(const server::ServerFlags& flags) {
  g_seen = flags;
  return 5;
}

TEST(ServerCommand, NomadStyleFlagsReachTheServer) {
  std::ostringstream out, err;
  int code = run_cli(
      {"server", "-config", "/etc/drover/server.yaml", "-port", "4700", "-log-level", "WARN"}, out,
      err, nullptr, &fake_run_server);
  EXPECT_EQ(code, 5) << err.str();
  EXPECT_EQ(g_seen.config_path, "/etc/drover/server.yaml");
  EXPECT_EQ(g_seen.port, 4700);
  EXPECT_EQ(g_seen.log_level, "warn");
}

TEST(ServerCommand, MembersShowsWhichServerLeads) {
  FakeAgent agent;
  agent.server().Get("/v1/agent/members", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"Members":[
      {"Name":"s1","Addr":"10.0.0.1","Port":4646,"Status":"alive","Tags":{"leader":"true"}},
      {"Name":"s2","Addr":"10.0.0.2","Port":4646,"Status":"alive","Tags":{"leader":"false"}}]})");
  });
  agent.start();
  auto r = run_cli_against(agent.address(), {"server", "members"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Name  Address   Port  Status  Leader\n"
            "s1    10.0.0.1  4646  alive   true\n"
            "s2    10.0.0.2  4646  alive   false\n");
}

TEST(NodeCommands, StatusAgainstAServerListsItsNodes) {
  FakeAgent agent;
  agent.server().Get("/v1/node", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"error":"this is a server: GET /v1/nodes"})", 404);
  });
  agent.server().Get("/v1/nodes", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"([{"ID":"4f1c2d3e-aaaa-bbbb-cccc-dddddddddddd","Name":"node-1",
      "Datacenter":"dc1","NodePool":"default","SchedulingEligibility":"eligible",
      "Status":"ready"}])");
  });
  agent.start();
  auto r = run_cli_against(agent.address(), {"node", "status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID        Node Pool  DC   Name    Eligibility  Status\n"
            "4f1c2d3e  default    dc1  node-1  eligible     ready\n");
}

}  // namespace
}  // namespace drover::cli::testing
