// A group's scaling bounds through the real agent (docs/jobspec.md, "scaling"): `job scale`
// within them changes what runs, outside them is refused with Nomad's words by the API and
// the CLI, and the policy is listed where an autoscaler looks for it.
#include <gtest/gtest.h>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kScaledJob = R"(job "web" {
  group "api" {
    scaling {
      min = 1
      max = 3
      policy {
        cooldown = "1m"
      }
    }
    task "t" {
      driver       = "raw_exec"
      kill_timeout = "1s"
      config {
        command = "/bin/sh"
        args    = ["-c", "exec sleep 300"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
)";

int running(const AgentProcess& a) {
  int n = 0;
  for (const auto& x : a.get("/v1/job/web/allocations").json())
    n += x.value("ClientStatus", "") == "running" && x.value("DesiredStatus", "") == "run";
  return n;
}

}  // namespace

TEST(Scaling, AgentScalesWithinTheGroupsBoundsAndRefusesBeyondThemWithNomadsWords) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(kScaledJob);
  ASSERT_EQ(ids.size(), 1u) << "no count: the scaling min";
  agent->wait_client_status(ids[0], "running");

  auto over = agent->post("/v1/job/web/scale", R"({"Count": 4, "Target": {"Group": "api"}})",
                          "application/json");
  EXPECT_EQ(over.status, 400) << over.body;
  EXPECT_EQ(over.json().value("error", ""),
            "group count was greater than scaling policy maximum: 4 > 3")
      << over.body;
  auto under = agent->cli({"job", "scale", "web", "api", "0"});
  EXPECT_NE(under.exit_code, 0) << under.out;
  EXPECT_NE(under.err.find("group count was less than scaling policy minimum: 0 < 1"),
            std::string::npos)
      << under.out << under.err;
  EXPECT_EQ(running(*agent), 1) << "a refused scale changes nothing";

  auto up = agent->cli({"job", "scale", "-detach", "web", "3"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err << agent->log();
  ASSERT_TRUE(eventually([&] { return running(*agent) == 3; }, 30s))
      << agent->get("/v1/job/web/allocations").body;
  auto status = agent->get("/v1/job/web/scale").json();
  EXPECT_EQ(status["TaskGroups"]["api"].value("Desired", 0), 3) << status.dump();
  EXPECT_EQ(status["TaskGroups"]["api"].value("Running", 0), 3) << status.dump();
  EXPECT_EQ(agent->get("/v1/job/web").json()["TaskGroups"][0]["Scaling"]["Max"], 3);

  auto policies = agent->get("/v1/scaling/policies").json();
  ASSERT_EQ(policies.size(), 1u) << policies.dump();
  EXPECT_EQ(policies[0]["Target"], json({{"Namespace", "default"}, {"Job", "web"}, {"Group", "api"}}));
  EXPECT_EQ(policies[0]["Type"], "horizontal");
  auto policy = agent->get("/v1/scaling/policy/" + policies[0].value("ID", "")).json();
  EXPECT_EQ(policy.value("Max", 0), 3) << policy.dump();
  EXPECT_EQ(policy["Policy"], json({{"cooldown", "1m"}})) << "handed over as written";
  EXPECT_EQ(agent->get("/v1/scaling/policy/nope").status, 404);
}

TEST(Scaling, AJobWhoseCountIsOutsideItsBoundsIsRefusedBeforeAnythingRuns) {
  auto agent = AgentProcess::start();
  std::string job = kScaledJob;
  job.replace(job.find("    scaling {"), 0, "    count = 5\n");
  auto r = agent->post("/v1/jobs", job, "text/plain");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("must not be greater than scaling.max (3), got 5"), std::string::npos)
      << r.body;
  EXPECT_TRUE(agent->get("/v1/allocations").json().empty());
}

// Each scale request is a scaling event, as Nomad records it: a count change with its message
// and evaluation, and an event alone (no Count: the Nomad Autoscaler's failure report), listed
// newest first by `job scaling-events`.
TEST(Scaling, ScaleRequestsAreRecordedAsScalingEventsAndListed) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(kScaledJob);
  ASSERT_EQ(ids.size(), 1u);
  auto up = agent->post("/v1/job/web/scale",
                        R"({"Count": 2, "Target": {"Group": "api"}, "Message": "load is up"})",
                        "application/json");
  ASSERT_EQ(up.status, 200) << up.body;
  auto report = agent->post(
      "/v1/job/web/scale",
      R"({"Target": {"Group": "api"}, "Error": true, "Message": "no capacity left"})",
      "application/json");
  ASSERT_EQ(report.status, 200) << report.body;
  auto events = agent->get("/v1/job/web/scale").json()["TaskGroups"]["api"]["Events"];
  ASSERT_EQ(events.size(), 2u) << events.dump();
  EXPECT_EQ(events[0]["Count"], nullptr) << "an event alone changes no count";
  EXPECT_EQ(events[0]["Error"], true);
  EXPECT_EQ(events[0]["PreviousCount"], 2);
  EXPECT_EQ(events[1]["Count"], 2);
  EXPECT_EQ(events[1]["PreviousCount"], 1);
  EXPECT_EQ(events[1]["Message"], "load is up");
  EXPECT_EQ(events[1]["EvalID"], up.json()["EvalID"]);
  EXPECT_EQ(agent->get("/v1/job/web").json()["TaskGroups"][0]["Count"], 2);
  auto cli = agent->cli({"job", "scaling-events", "-verbose", "web"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const auto first = cli.out.find("no capacity left"), second = cli.out.find("load is up");
  ASSERT_NE(first, std::string::npos) << cli.out;
  ASSERT_NE(second, std::string::npos) << cli.out;
  EXPECT_LT(first, second) << "newest first: " << cli.out;
  // A purged job's events go with it: the same id registered again starts with none.
  ASSERT_EQ(agent->del("/v1/job/web?purge=true").status, 200);
  agent->submit(kScaledJob);
  EXPECT_TRUE(agent->get("/v1/job/web/scale").json()["TaskGroups"]["api"]["Events"].empty());
}
