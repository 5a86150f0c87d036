// Templates reading Nomad Variables through the real agent (docs/templates.md): a template
// renders a variable the task reads, and a `drover var put` of a new value renders it again and
// restarts the task, which then reads the new value.
#include <gtest/gtest.h>

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

TEST(TemplateVariables, ATaskCannotReadAnotherJobsVariable) {
  auto agent = AgentProcess::start();
  ASSERT_EQ(agent->cli({"var", "put", "nomad/jobs/other", "k=v"}).exit_code, 0);
  auto ids = agent->submit(R"(
job:
  id: nosy
  type: batch
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/cat, args: ["${NOMAD_TASK_DIR}/x"]}
          templates:
            - destination: local/x
              data: '{{ with nomadVar "nomad/jobs/other" }}{{ .k }}{{ end }}'
)");
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
