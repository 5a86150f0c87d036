// Job semantics of issue 17 through the real agent: constraints judged against this node (a
// failed one is a 409 naming it and the node's value), node_class, node_pool and meta from
// the agent's config, system and sysbatch jobs, a task's own restart block, shutdown_delay,
// work_dir, and the Warnings a job gets for update fields one node does not act on.
#include <gtest/gtest.h>

#include <algorithm>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using nlohmann::json;

namespace {

// An agent whose config gives the node a class, a pool and meta, as Nomad's client block does.
std::unique_ptr<AgentProcess> classed_agent() {
  AgentProcess::Options o;
  o.config_yaml = "node_class: gpu-large\nnode_pool: edge\nmeta:\n  rack: r7\n  zone: z1\n";
  return AgentProcess::start(o);
}

const json* event_of(const json& alloc, const std::string& task, const std::string& type) {
  for (const auto& e : alloc["TaskStates"][task]["Events"])
    if (e["Type"] == type) return &e;
  return nullptr;
}

}  // namespace

TEST(JobSemantics, AConstraintTheNodeFailsIsA409NamingItAndTheNodesValue) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", R"(job "win" {
  type = "batch"
  constraint {
    attribute = "${attr.kernel.name}"
    value     = "windows"
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  ASSERT_EQ(r.status, 409) << r.body;
  const json body = r.json();
  ASSERT_EQ(body["problems"].size(), 1u) << r.body;
  EXPECT_EQ(body["problems"][0]["path"], "constraints[0]");
  EXPECT_EQ(body["problems"][0]["message"],
            "constraint \"${attr.kernel.name} = windows\" is not met: this node's "
            "${attr.kernel.name} is \"linux\"");
  EXPECT_TRUE(agent->get("/v1/allocations").json().empty());
  EXPECT_EQ(agent->get("/v1/job/win").status, 404);
  // The CLI says it too, and fails.
  auto file = drover::testing::make_temp_dir("constraint") + "/win.yaml";
  drover::testing::write_file(file, R"(
job:
  id: win
  constraints: [{attribute: "${attr.kernel.name}", value: windows}]
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]}]
)");
  auto cli = agent->cli({"job", "run", file});
  EXPECT_NE(cli.exit_code, 0);
  EXPECT_NE((cli.out + cli.err).find("is not met: this node's ${attr.kernel.name} is \"linux\""),
            std::string::npos)
      << cli.out << cli.err;
}

TEST(JobSemantics, ConstraintsOnNodeClassMetaAndAttributesThatHoldRun) {
  auto agent = classed_agent();
  auto node = agent->get("/v1/node").json();
  EXPECT_EQ(node["NodeClass"], "gpu-large");
  EXPECT_EQ(node["NodePool"], "edge");
  EXPECT_EQ(node["Meta"]["rack"], "r7");
  auto ids = agent->submit(R"(
job:
  id: placed
  type: batch
  node_pool: edge
  constraints:
    - {attribute: "${node.class}", operator: regexp, value: "^gpu-"}
    - {attribute: "${meta.rack}", value: r7}
    - {attribute: "${meta.zone}", operator: set_contains_any, value: "z1,z2"}
    - {attribute: "${attr.kernel.name}", value: linux}
    - {attribute: "${meta.missing}", operator: is_not_set}
  groups:
    - name: g
      constraints: [{attribute: "${node.pool}", value: edge}]
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          constraints: [{attribute: "${attr.cpu.numcores}", operator: ">=", value: "1"}]
)");
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "complete");
}

TEST(JobSemantics, EveryFailedConstraintAndAnotherNodePoolAreNamed) {
  auto agent = classed_agent();
  auto r = agent->post("/v1/jobs", R"(
job:
  id: nope
  node_pool: gpu
  constraints:
    - {attribute: "${meta.rack}", value: r1}
  groups:
    - name: g
      count: 2
      constraints: [{operator: distinct_hosts}]
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          constraints: [{attribute: "${meta.gpu}", operator: is_set}]
)");
  ASSERT_EQ(r.status, 409) << r.body;
  std::vector<std::string> lines;
  const json body = r.json();
  for (const auto& p : body["problems"])
    lines.push_back(p["path"].get<std::string>() + ": " + p["message"].get<std::string>());
  auto has = [&](const std::string& l) {
    return std::find(lines.begin(), lines.end(), l) != lines.end();
  };
  EXPECT_TRUE(has("node_pool: the job asks for node pool \"gpu\"; this node is in pool \"edge\""))
      << r.body;
  EXPECT_TRUE(
      has("constraints[0]: constraint \"${meta.rack} = r1\" is not met: this node's "
          "${meta.rack} is \"r7\""))
      << r.body;
  EXPECT_TRUE(
      has("groups[0].constraints[0]: constraint \"distinct_hosts\" is not met: the group "
          "asks for 2 allocs on distinct hosts, and this node is one host"))
      << r.body;
  EXPECT_TRUE(
      has("groups[0].tasks[0].constraints[0]: constraint \"${meta.gpu} is_set\" is not "
          "met: this node has no ${meta.gpu}"))
      << r.body;
}

TEST(JobSemantics, ASystemJobRunsOneAllocRestartedLikeAService) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(job "sys" {
  type = "system"
  group "g" {
    restart {
      attempts = 1
      delay    = "0s"
      interval = "1m"
      mode     = "fail"
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo run >> ${NOMAD_ALLOC_DIR}/runs"]
      }
    }
  }
}
)");
  ASSERT_EQ(ids.size(), 1u);
  // Exit 0 is restarted, as for a service, until the attempts are spent.
  auto a = agent->wait_alloc(ids[0], [](const json& a) {
    return a["TaskStates"]["t"]["Restarts"] == 1 && a["ClientStatus"] == "failed";
  });
  EXPECT_EQ(a["TaskStates"]["t"]["Restarts"], 1) << a.dump(2);
  EXPECT_EQ(agent->get("/v1/job/sys").json()["Type"], "system");
}

TEST(JobSemantics, ASysbatchJobRunsOneAllocToCompletion) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"({"Job": {"ID": "sb", "Type": "sysbatch", "TaskGroups": [{"Name": "g",
    "Tasks": [{"Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"}}]}]}})");
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "complete");
  EXPECT_EQ(a["TaskStates"]["t"]["Restarts"], 0) << a.dump(2);
}

TEST(JobSemantics, ATasksOwnRestartBlockOverridesItsGroups) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(
job:
  id: retry
  type: batch
  groups:
    - name: g
      restart: {attempts: 0, mode: fail}
      tasks:
        - name: retried
          driver: raw_exec
          config: {command: /bin/false}
          restart: {attempts: 2, delay: 0s}
        - name: once
          driver: raw_exec
          config: {command: /bin/sh, args: ["-c", "sleep 30"]}
)");
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_alloc(
      ids[0], [](const json& a) { return a["TaskStates"]["retried"]["State"] == "dead"; });
  EXPECT_EQ(a["TaskStates"]["retried"]["Restarts"], 2) << a.dump(2);
  EXPECT_TRUE(a["TaskStates"]["retried"]["Failed"].get<bool>());
}

TEST(JobSemantics, WorkDirIsTheRawExecTasksWorkingDirectory) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(
job:
  id: wd
  type: batch
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/pwd, work_dir: "${NOMAD_ALLOC_DIR}"}
)");
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "complete");
  auto logs = agent->cli({"alloc", "logs", ids[0].substr(0, 8), "t"});
  EXPECT_EQ(logs.out, agent->data_dir() + "/alloc/" + ids[0] + "/alloc\n") << logs.err;
  // A relative one is refused at submit, by the driver.
  auto r = agent->post("/v1/jobs", R"(
job:
  id: wd2
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/pwd, work_dir: rel}}]}]
)");
  ASSERT_EQ(r.status, 400) << r.body;
  const json problem = r.json()["problems"][0];
  EXPECT_EQ(problem["path"], "groups[0].tasks[0].config.work_dir") << r.body;
  EXPECT_EQ(problem["message"], "must be an absolute path (got \"rel\")") << r.body;
}

TEST(JobSemantics, UpdateFieldsAreKeptAndAnsweredWithWarnings) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", R"(job "up" {
  update {
    max_parallel = 2
    canary       = 1
    auto_revert  = true
  }
  affinity {
    attribute = "${node.datacenter}"
    value     = "dc1"
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
      resources {
        disk = 64
      }
      config {
        command = "/bin/sleep"
        args    = ["30"]
      }
    }
  }
}
)");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string warnings = r.json()["Warnings"];
  EXPECT_NE(warnings.find("update.max_parallel: kept, but not acted on"), std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("update.canary: kept, but not acted on: one node runs no canaries"),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("update.auto_revert: kept"), std::string::npos) << warnings;
  // Nomad ignores a task's disk; older job files still carry it.
  EXPECT_NE(warnings.find("groups[0].tasks[0].resources.disk: ignored, as Nomad ignores it"),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("affinities: kept, but they change nothing on one node"),
            std::string::npos)
      << warnings;
  // Kept, as inspect shows.
  auto job = agent->get("/v1/job/up").json();
  EXPECT_EQ(job["Update"]["Canary"], 1);
  EXPECT_EQ(job["Update"]["MaxParallel"], 2);
  EXPECT_EQ(job["Affinities"][0]["RTarget"], "dc1");
  auto inspect = agent->cli({"job", "inspect", "up"});
  EXPECT_NE(inspect.out.find("\"AutoRevert\": true"), std::string::npos) << inspect.out;
}

TEST(JobSemantics, ShutdownDelayWaitsBeforeTheKillSignal) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(
job:
  id: slow
  groups:
    - name: g
      shutdown_delay: 1s
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/sleep, args: ["60"]}
)");
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_alloc(ids[0],
                    [](const json& a) { return a["TaskStates"]["t"]["State"] == "running"; });
  ASSERT_EQ(agent->del("/v1/job/slow").status, 200);
  auto a = agent->wait_alloc(ids[0],
                             [](const json& a) { return a["TaskStates"]["t"]["State"] == "dead"; });
  const json* waiting = event_of(a, "t", "Waiting for shutdown delay");
  const json* killing = event_of(a, "t", "Killing");
  ASSERT_TRUE(waiting && killing) << a.dump(2);
  EXPECT_EQ((*waiting)["Message"], "Waiting for shutdown_delay of 1s before killing the task.");
  EXPECT_GE((*killing)["Time"].get<int64_t>() - (*waiting)["Time"].get<int64_t>(), 1000000000LL)
      << a.dump(2);
}

// Nomad's dynamic node metadata (`node meta apply`): a constraint the config's meta fails
// holds once the key is applied, a task reads the new value through `${meta.*}`, an unset
// removes a config key, and the change outlives an agent restart.
TEST(JobSemantics, AppliedNodeMetadataPlacesAConstrainedJobAndOutlivesARestart) {
  const std::string dir = drover::testing::make_temp_dir("drover-node-meta");
  AgentProcess::Options o;
  o.data_dir = dir;
  o.config_yaml = "meta:\n  rack: r0\n  zone: z1\n";
  auto agent = AgentProcess::start(o);
  const std::string job = R"(
job:
  id: racked
  type: batch
  constraints: [{attribute: "${meta.rack}", value: r1}]
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/sh, args: ["-c", "echo rack=${meta.rack}"]}
)";
  auto refused = agent->post("/v1/jobs", job);
  ASSERT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("this node's ${meta.rack} is \\\"r0\\\""), std::string::npos)
      << refused.body;

  auto applied = agent->cli({"node", "meta", "apply", "rack=r1", "-unset", "zone"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  auto bad = agent->cli({"node", "meta", "apply", "bad key=x"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("Meta: key \"bad key\""), std::string::npos) << bad.err;
  auto read = agent->cli({"node", "meta", "read"});
  EXPECT_NE(read.out.find("Dynamic Meta\nrack = r1\nzone = <unset>"), std::string::npos)
      << read.out;
  EXPECT_NE(read.out.find("Static Meta\nrack = r0\nzone = z1"), std::string::npos) << read.out;
  const json node = agent->get("/v1/node").json();
  EXPECT_EQ(node["Meta"], json({{"rack", "r1"}})) << node["Meta"].dump();

  auto ids = agent->submit(job);
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "complete");
  auto logs = agent->cli({"alloc", "logs", ids[0], "t"});
  EXPECT_EQ(logs.out, "rack=r1\n") << logs.out;

  // A restart keeps the applied keys over the config's.
  agent->kill(SIGTERM);
  agent.reset();
  auto again = AgentProcess::start(o);
  const json meta = again->get("/v1/client/metadata").json();
  EXPECT_EQ(meta["Meta"], json({{"rack", "r1"}})) << meta.dump();
  EXPECT_EQ(meta["Dynamic"], json({{"rack", "r1"}, {"zone", nullptr}})) << meta.dump();
}
