// The CLI against a server: `drover server` flags reach the daemon, `server members`, and
// `node status` listing the cluster's nodes where a server has no single node.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
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

// A server whose node n1 drains: it keeps the DrainSpec it was sent and reports the drain
// complete on the second read of the node.
struct DrainingServer {
  FakeAgent agent;
  std::mutex mu;
  nlohmann::json posted;
  std::atomic<int> reads{0};
  DrainingServer() {
    agent.server().Post("/v1/node/n1/drain", [this](const httplib::Request& req,
                                                    httplib::Response& res) {
      std::lock_guard lock(mu);
      posted = nlohmann::json::parse(req.body);
      reply_json(res, R"({"NodeID":"n1","SchedulingEligibility":"ineligible","Drain":true})");
    });
    agent.server().Get("/v1/node/n1", [this](const httplib::Request&, httplib::Response& res) {
      if (++reads < 2) return reply_json(res, R"({"ID":"n1","Drain":true})");
      reply_json(res, R"({"ID":"n1","Drain":false,"LastDrain":{"Status":"complete"}})");
    });
    agent.server().Get("/v1/node/n1/allocations",
                       [](const httplib::Request&, httplib::Response& res) {
                         reply_json(res, R"([{"DesiredStatus":"run","ClientStatus":"running"}])");
                       });
    agent.start();
  }
  nlohmann::json spec() {
    std::lock_guard lock(mu);
    return posted;
  }
};

TEST(NodeCommands, DrainSendsNomadsDeadlineAndWatchesUntilTheDrainIsComplete) {
  DrainingServer s;
  auto r = run_cli_against(s.agent.address(), {"node", "drain", "-enable", "-deadline", "10m", "n1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(s.spec()["DrainSpec"]["Deadline"], int64_t{600} * 1'000'000'000);
  EXPECT_EQ(s.spec()["DrainSpec"]["IgnoreSystemJobs"], false);
  EXPECT_NE(r.out.find("1 allocation left on the node"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("drain complete"), std::string::npos) << r.out;
}

TEST(NodeCommands, DrainForceNoDeadlineDetachAndTheDefaultHour) {
  struct Case {
    std::vector<std::string> flags;
    int64_t deadline;
  };
  for (const auto& c : std::vector<Case>{{{"-force"}, -1},
                                         {{"-no-deadline"}, 0},
                                         {{"-ignore-system"}, int64_t{3600} * 1'000'000'000}}) {
    DrainingServer s;
    std::vector<std::string> args = {"node", "drain", "-enable", "-detach"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    args.push_back("n1");
    auto r = run_cli_against(s.agent.address(), args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(s.spec()["DrainSpec"]["Deadline"], c.deadline) << c.flags[0];
    EXPECT_EQ(s.spec()["DrainSpec"]["IgnoreSystemJobs"], c.flags[0] == "-ignore-system");
    EXPECT_EQ(s.reads, 0) << "-detach does not watch";
  }
  DrainingServer s;
  auto r = run_cli_against(s.agent.address(), {"node", "drain", "-enable", "-deadline", "soon", "n1"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("-deadline"), std::string::npos) << r.err;
  EXPECT_TRUE(s.spec().is_null()) << "nothing was sent";
}

TEST(OperatorScheduler, GetConfigShowsTheAlgorithmAndPreemptionAsNomad) {
  FakeAgent agent;
  agent.server().Get("/v1/operator/scheduler/configuration",
                     [](const httplib::Request&, httplib::Response& res) {
                       reply_json(res, R"({"SchedulerConfig": {"SchedulerAlgorithm": "spread",
                         "PreemptionConfig": {"SystemSchedulerEnabled": true,
                           "SysBatchSchedulerEnabled": true, "BatchSchedulerEnabled": false,
                           "ServiceSchedulerEnabled": true}, "ModifyIndex": 42}, "Index": 42})");
                     });
  agent.start();
  auto r = run_cli_against(agent.address(), {"operator", "scheduler", "get-config"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Scheduler Algorithm           = spread\n"
            "Preemption System Scheduler   = true\n"
            "Preemption Service Scheduler  = true\n"
            "Preemption Batch Scheduler    = false\n"
            "Preemption SysBatch Scheduler = true\n"
            "Modify Index                  = 42\n");
}

TEST(OperatorScheduler, SetConfigSendsOnlyWhatTheFlagsSay) {
  FakeAgent agent;
  agent.server().Put("/v1/operator/scheduler/configuration",
                     [](const httplib::Request&, httplib::Response& res) {
                       reply_json(res, R"({"Updated": true, "Index": 43})");
                     });
  agent.server().Post("/v1/operator/scheduler/configuration",
                      [](const httplib::Request&, httplib::Response& res) {
                        reply_json(res, R"({"Updated": true, "Index": 43})");
                      });
  agent.start();
  auto r = run_cli_against(agent.address(), {"operator", "scheduler", "set-config",
                                             "-scheduler-algorithm=spread",
                                             "-preempt-service-scheduler=true"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Scheduler configuration updated!\n");
  auto sent = nlohmann::json::parse(agent.requests().at(0).body);
  EXPECT_EQ(sent, (nlohmann::json{{"SchedulerAlgorithm", "spread"},
                                  {"PreemptionConfig", {{"ServiceSchedulerEnabled", true}}}}));
  auto bad = run_cli_against(agent.address(),
                             {"operator", "scheduler", "set-config", "-preempt-batch-scheduler=yes"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("true or false"), std::string::npos) << bad.err;
  auto algo = run_cli_against(agent.address(),
                              {"operator", "scheduler", "set-config", "-scheduler-algorithm=fifo"});
  EXPECT_EQ(algo.code, 1);
  EXPECT_EQ(agent.requests().size(), 1u) << "nothing sent for a bad flag";
}

// `job deployments [-latest] JOB`: the job's deployments as `deployment list` shows them, the
// newest as `deployment status` shows it.
TEST(JobDeployments, ListsTheJobsDeploymentsAndTheLatestAsDeploymentStatus) {
  FakeAgent agent;
  agent.server().Get("/v1/job/web/deployments", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"([
      {"ID":"d2000000-0000-4000-8000-000000000002","JobID":"web","JobVersion":1,"Status":"running","StatusDescription":"Deployment is running"},
      {"ID":"d1000000-0000-4000-8000-000000000001","JobID":"web","JobVersion":0,"Status":"successful","StatusDescription":"Deployment completed successfully"}])");
  });
  agent.server().Get("/v1/job/web/deployment", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"ID":"d2000000-0000-4000-8000-000000000002","JobID":"web","JobVersion":1,"Status":"running","StatusDescription":"Deployment is running","TaskGroups":{}})");
  });
  agent.server().Get("/v1/job/none/deployment", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, "null");
  });
  agent.start();
  auto r = run_cli_against(agent.address(), {"job", "deployments", "web"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID        Job ID  Job Version  Status      Description\n"
            "d2000000  web     1            running     Deployment is running\n"
            "d1000000  web     0            successful  Deployment completed successfully\n");
  auto latest = run_cli_against(agent.address(), {"job", "deployments", "-latest", "web"});
  EXPECT_EQ(latest.code, 0) << latest.err;
  EXPECT_NE(latest.out.find("ID          = d2000000-0000-4000-8000-000000000002"), std::string::npos) << latest.out;
  EXPECT_NE(latest.out.find("Deployed"), std::string::npos) << latest.out;
  auto none = run_cli_against(agent.address(), {"job", "deployments", "-latest", "none"});
  EXPECT_EQ(none.code, 0);
  EXPECT_EQ(none.out, "No deployments found for job \"none\"\n");
}

}  // namespace
}  // namespace drover::cli::testing
