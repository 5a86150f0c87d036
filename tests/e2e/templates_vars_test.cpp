// Templates reading Nomad Variables through the real agent (docs/templates.md): a template
// renders a variable the task reads, and a `drover var put` of a new value renders it again and
// restarts the task, which then reads the new value.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

TEST(TemplateVariables, AVariableUpdateRendersAgainAndRestartsTheTask) {
  auto agent = AgentProcess::start();
  auto put = agent->cli({"var", "put", "nomad/jobs/vt", "password=first", "user=ada"});
  ASSERT_EQ(put.exit_code, 0) << put.out << put.err;
  auto ids = agent->submit(R"(
job:
  id: vt
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config:
            command: /bin/sh
            args: ["-c", "cat $NOMAD_SECRETS_DIR/app.conf; exec sleep 60"]
          templates:
            - destination: secrets/app.conf
              data: |
                {{ with nomadVar "nomad/jobs/vt" }}{{ .user }}:{{ .password }}{{ end }}
              splay: 0s
)");
  ASSERT_EQ(ids.size(), 1u);
  std::string out;
  EXPECT_TRUE(eventually(
      [&] {
        return (out = agent->cli({"alloc", "logs", ids[0].substr(0, 8), "t"}).out) == "ada:first\n";
      },
      20s))
      << out;
  put = agent->cli({"var", "put", "nomad/jobs/vt", "password=second", "user=ada"});
  ASSERT_EQ(put.exit_code, 0) << put.out << put.err;
  auto a = agent->wait_alloc(ids[0], [](const json& a) {
    return a["TaskStates"]["t"]["Restarts"] == 1 && a["TaskStates"]["t"]["State"] == "running";
  });
  bool signaled = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"])
    signaled = signaled || (e["Type"] == "Restart Signaled" &&
                            e["DisplayMessage"] == "Template with change_mode restart re-rendered");
  EXPECT_TRUE(signaled) << a.dump(2);
  EXPECT_TRUE(eventually(
      [&] {
        return (out = agent->cli({"alloc", "logs", ids[0].substr(0, 8), "t"}).out) ==
               "ada:first\nada:second\n";
      },
      20s))
      << out;
  agent->cli({"job", "stop", "vt"});
}

// An agent killed and started again watches a running task's templates as before
// (docs/templates.md): a variable put after the restart renders the file again and signals
// the task, which was not restarted.
TEST(TemplateVariables, AfterAnAgentRestartAVariableUpdateStillReachesTheTask) {
  const std::string data = drover::testing::make_temp_dir("drover-tmpl-recover");
  auto agent = AgentProcess::start({.data_dir = data});
  auto put = agent->cli({"var", "put", "nomad/jobs/vr", "v=first"});
  ASSERT_EQ(put.exit_code, 0) << put.out << put.err;
  auto ids = agent->submit(R"(
job:
  id: vr
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config:
            command: /bin/sh
            args: ["-c", "trap 'cat $NOMAD_SECRETS_DIR/app.conf' HUP; cat $NOMAD_SECRETS_DIR/app.conf; while :; do sleep 0.1; done"]
          templates:
            - destination: secrets/app.conf
              data: "{{ with nomadVar \"nomad/jobs/vr\" }}{{ .v }}{{ end }}\n"
              change_mode: signal
              change_signal: SIGHUP
              splay: 0s
)");
  ASSERT_EQ(ids.size(), 1u);
  auto logs = [&] { return agent->cli({"alloc", "logs", ids[0].substr(0, 8), "t"}).out; };
  std::string out;
  ASSERT_TRUE(eventually([&] { return (out = logs()) == "first\n"; }, 20s)) << out;
  agent->kill(SIGKILL);
  agent = AgentProcess::start({.data_dir = data});
  agent->wait_client_status(ids[0], "running");
  put = agent->cli({"var", "put", "nomad/jobs/vr", "v=second"});
  ASSERT_EQ(put.exit_code, 0) << put.out << put.err;
  EXPECT_TRUE(eventually([&] { return (out = logs()) == "first\nsecond\n"; }, 20s))
      << out << agent->log();
  EXPECT_EQ(agent->alloc(ids[0])["TaskStates"]["t"]["Restarts"], 0);
  agent->cli({"job", "stop", "vr"});
}

// A batch job `id` (in namespace `ns`, "" for none) whose task prints the item `k` of the
// variable at `path`, as its template read it.
std::string var_reader(const std::string& id, const std::string& ns, const std::string& path) {
  return "job:\n  id: " + id + "\n" + (ns.empty() ? "" : "  namespace: " + ns + "\n") +
         "  type: batch\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
         "          driver: raw_exec\n"
         "          config: {command: /bin/cat, args: [\"${NOMAD_TASK_DIR}/x\"]}\n"
         "          templates:\n            - destination: local/x\n"
         "              data: '{{ with nomadVar \"" + path + "\" }}{{ .k }}{{ end }}'\n";
}

// A template reads the variables of its job's namespace, as Nomad's do: the same path in
// `default` is another variable.
TEST(TemplateVariables, ATemplateReadsItsJobsNamespace) {
  auto agent = AgentProcess::start();
  ASSERT_EQ(agent->cli({"var", "put", "nomad/jobs/nsv", "k=from-default"}).exit_code, 0);
  auto put = agent->cli({"-namespace", "prod", "var", "put", "nomad/jobs/nsv", "k=from-prod"});
  ASSERT_EQ(put.exit_code, 0) << put.out << put.err;
  auto ids = agent->submit(var_reader("nsv", "prod", "nomad/jobs/nsv"));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "complete");
  EXPECT_EQ(agent->cli({"alloc", "logs", ids[0].substr(0, 8), "t"}).out, "from-prod");
}

TEST(TemplateVariables, ATaskCannotReadAnotherJobsVariable) {
  auto agent = AgentProcess::start();
  ASSERT_EQ(agent->cli({"var", "put", "nomad/jobs/other", "k=v"}).exit_code, 0);
  auto ids = agent->submit(var_reader("nosy", "", "nomad/jobs/other"));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "failed");
  bool refused = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"])
    refused = refused || (e["Type"] == "Setup Failure" &&
                          e["DisplayMessage"].get<std::string>().find(
                              "may not read variable \"nomad/jobs/other\"") != std::string::npos);
  EXPECT_TRUE(refused) << a.dump(2);
}

}  // namespace

// nomadService reads the service catalog: a template of one job renders the address of another
// job's service, and renders again (restarting its task) when that service goes away.
TEST(TemplateServices, ATemplateRendersAnotherJobsServiceAndFollowsItsChanges) {
  auto agent = AgentProcess::start();
  auto web = agent->submit(R"(
job:
  id: web
  groups:
    - name: g
      network: {ports: {http: {}}}
      services:
        - {name: web, port: http, tags: [v1]}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/sleep, args: ["600"]}
)");
  ASSERT_EQ(web.size(), 1u);
  auto wa = agent->wait_client_status(web[0], "running");
  const int port = wa["AllocatedResources"]["Shared"]["Ports"][0]["Value"];
  auto ids = agent->submit(R"(
job:
  id: client
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config:
            command: /bin/sh
            args: ["-c", "cat $NOMAD_TASK_DIR/upstreams; exec sleep 60"]
          templates:
            - destination: local/upstreams
              data: |
                {{ range nomadService "web" }}{{ .Port }} {{ join "," .Tags }}{{ else }}none{{ end }}
              splay: 0s
)");
  ASSERT_EQ(ids.size(), 1u);
  std::string out;
  const std::string first = std::to_string(port) + " v1\n";
  EXPECT_TRUE(eventually(
      [&] { return (out = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body) == first; },
      20s))
      << out;
  ASSERT_EQ(agent->del("/v1/job/web").status, 200);
  EXPECT_TRUE(eventually(
      [&] {
        return (out = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body) ==
               first + "none\n";
      },
      30s))
      << out;
  agent->del("/v1/job/client");
}
