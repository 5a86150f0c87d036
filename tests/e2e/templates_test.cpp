// Templates through the real agent and raw_exec (docs/templates.md): a template rendering data
// the task reads, an env template feeding the task's environment, re-renders acting on
// change_mode (signal, restart), a file passed between tasks through the shared alloc dir,
// and what is refused at submit (a bad template naming its line, a destination escaping the
// alloc dir) or at start (a destination that is a symlink).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string logs(const AgentProcess& agent, const std::string& alloc, const std::string& task) {
  return agent.cli({"alloc", "logs", alloc.substr(0, 8), task}).out;
}

bool has_event(const json& alloc, const std::string& task, const std::string& type,
               const std::string& message_part = "") {
  for (const auto& e : alloc["TaskStates"][task]["Events"])
    if (e["Type"] == type &&
        e["DisplayMessage"].get<std::string>().find(message_part) != std::string::npos)
      return true;
  return false;
}

// Whether a 400's problem list holds `path` with a message containing `part`.
bool has_problem(const drover::testing::HttpReply& r, const std::string& path,
                 const std::string& part) {
  const json body = r.json();
  for (const auto& p : body["problems"])
    if (p["path"] == path && p["message"].get<std::string>().find(part) != std::string::npos)
      return true;
  return false;
}

TEST(Templates, RenderedFileIsReadByTheTask) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(
job:
  id: tpl
  type: batch
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/cat, args: ["${NOMAD_TASK_DIR}/app.conf"]}
          env: {COLOR: blue}
          templates:
            - destination: local/app.conf
              data: |
                task={{ env "NOMAD_TASK_NAME" }}
                color={{ env "COLOR" | toUpper }}
                {{- range $i, $p := split "," "a,b" }}
                port{{ $i }}={{ $p }}
                {{- end }}
                sum={{ add 40 2 }} {{ printf "%05.1f" 3.14159 }}
)");
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "complete");
  EXPECT_EQ(logs(*agent, ids[0], "t"), "task=t\ncolor=BLUE\nport0=a\nport1=b\nsum=42 003.1\n");
  EXPECT_TRUE(has_event(a, "t", "Template Rendered")) << a.dump(2);
}

TEST(Templates, EnvTemplateFeedsTheTasksEnvironment) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(
job:
  id: tplenv
  type: batch
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/sh, args: ["-c", "echo \"$GREETING|$QUOTED\""]}
          templates:
            - destination: secrets/app.env
              env: true
              data: |
                # comments and blank lines are skipped

                GREETING=hello {{ "world" | toUpper }}
                export QUOTED="a b"
)");
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "complete");
  EXPECT_EQ(logs(*agent, ids[0], "t"), "hello WORLD|a b\n");
}

TEST(Templates, ABadTemplateIsRefusedAtSubmitNamingItsLine) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", R"(
job:
  id: bad
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          templates:
            - destination: local/x.conf
              data: |
                fine
                {{ if .x }}never closed
            - destination: local/y.conf
              data: '{{ key "service/db" }}'
)");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(has_problem(r, "groups[0].tasks[0].templates[0].data",
                          "template: local/x.conf:2:4: unexpected EOF: {{if}} has no {{end}}"))
      << r.body;
  EXPECT_TRUE(has_problem(r, "groups[0].tasks[0].templates[1].data",
                          "template: local/y.conf:1:4: function \"key\" needs Consul"))
      << r.body;
  EXPECT_EQ(agent->get("/v1/job/bad").status, 404);
}

// Nomad's pattern for handing a file from one task to another: a prestart task renders into
// ${NOMAD_ALLOC_DIR}, the main task's template reads it there as its source. For raw_exec the
// variable is a host path; the file must land in the shared dir all the same
// (docs/templates.md, "Paths").
TEST(Templates, TheSharedAllocDirPassesAFileBetweenTasks) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(
job:
  id: shared
  type: batch
  groups:
    - name: g
      tasks:
        - name: writer
          driver: raw_exec
          lifecycle: {hook: prestart}
          config: {command: /bin/true}
          templates:
            - destination: "${NOMAD_ALLOC_DIR}/from-writer.env"
              data: "HELLO_FROM={{ env \"NOMAD_TASK_NAME\" }}\n"
        - name: reader
          driver: raw_exec
          config:
            command: /bin/sh
            args: ["-c", "cat \"$NOMAD_ALLOC_DIR/from-writer.env\"; echo \"env=$HELLO_FROM\"; ls ../alloc/data"]
          templates:
            - source: "${NOMAD_ALLOC_DIR}/from-writer.env"
              destination: "${NOMAD_SECRETS_DIR}/copy.env"
              env: true
            - destination: ../alloc/data/note
              data: "from the reader\n"
)");
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "complete");
  ASSERT_EQ(a["ClientStatus"], "complete") << a.dump(2);
  EXPECT_EQ(logs(*agent, ids[0], "reader"), "HELLO_FROM=writer\nenv=writer\nnote\n");
  // Nothing was written under the tasks' own dirs by the shared-dir templates.
  const std::filesystem::path root = std::filesystem::path(agent->data_dir()) / "alloc" / ids[0];
  EXPECT_TRUE(std::filesystem::exists(root / "alloc" / "from-writer.env"));
  EXPECT_TRUE(std::filesystem::exists(root / "reader" / "secrets" / "copy.env"));
  for (const char* task : {"writer", "reader"})
    for (auto it = std::filesystem::recursive_directory_iterator(root / task);
         it != std::filesystem::recursive_directory_iterator(); ++it)
      EXPECT_NE(it->path().filename(), "from-writer.env") << it->path();
}

TEST(Templates, ADestinationEscapingTheAllocDirIsRefusedAtSubmit) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", R"(
job:
  id: escape
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/true},
    templates: [{data: "x", destination: "local/../../../../etc/drover-escape"}]}]}]
)");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(has_problem(r, "groups[0].tasks[0].templates[0].destination",
                          "\"local/../../../../etc/drover-escape\" escapes the alloc dir"))
      << r.body;
}

TEST(Templates, ADestinationThatIsASymlinkIsRefusedAtStart) {
  auto agent = AgentProcess::start();
  // The task plants a link where its template renders (as a task could, between runs): the
  // render before its second run refuses to write through it, and the task fails with why.
  auto ids2 = agent->submit(R"(
job:
  id: link2
  groups:
    - name: g
      restart: {attempts: 1, delay: 1s, mode: fail}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/sh, args: ["-c", "rm -f ${NOMAD_TASK_DIR}/out.conf; ln -s /etc/hostname ${NOMAD_TASK_DIR}/out.conf; exit 1"]}
          templates:
            - destination: local/out.conf
              data: "x"
)");
  ASSERT_EQ(ids2.size(), 1u);
  auto b = agent->wait_alloc(
      ids2[0], [](const json& a) { return a["ClientStatus"] == "failed"; }, 30s);
  EXPECT_TRUE(has_event(b, "t", "Setup Failure", "destination local/out.conf is a symlink"))
      << b.dump(2);
  EXPECT_NE(drover::testing::read_file("/etc/hostname"), "x");
}

TEST(Templates, AChangedFileIsRenderedAgainAndSignalsTheTask) {
  auto agent = AgentProcess::start();
  // Template "out" reads the file template "in" wrote; the task changes that file and waits
  // for its SIGHUP, then prints what "out" says now.
  auto ids = agent->submit(R"(
job:
  id: sig
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config:
            command: /bin/sh
            args: ["-c", "trap 'cat $NOMAD_TASK_DIR/out.txt' HUP; cat $NOMAD_TASK_DIR/out.txt; echo v2 > $NOMAD_TASK_DIR/in.txt; while true; do sleep 0.1; done"]
          templates:
            - destination: local/in.txt
              data: "v1"
              change_mode: noop
            - destination: local/out.txt
              data: "got {{ file \"local/in.txt\" | trimSpace }}\n"
              change_mode: signal
              change_signal: SIGHUP
              splay: 0s
)");
  ASSERT_EQ(ids.size(), 1u);
  std::string out;
  EXPECT_TRUE(
      eventually([&] { return (out = logs(*agent, ids[0], "t")) == "got v1\ngot v2\n"; }, 20s))
      << out;
  auto a = agent->alloc(ids[0]);
  EXPECT_TRUE(has_event(a, "t", "Signaling", "SIGHUP")) << a.dump(2);
  agent->cli({"job", "stop", "sig"});
}

TEST(Templates, AChangedFileIsRenderedAgainAndRestartsTheTask) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(
job:
  id: rs
  groups:
    - name: g
      restart: {attempts: 0, mode: fail}
      tasks:
        - name: t
          driver: raw_exec
          config:
            command: /bin/sh
            args: ["-c", "cat $NOMAD_TASK_DIR/out.txt; [ -e $NOMAD_ALLOC_DIR/changed ] || { touch $NOMAD_ALLOC_DIR/changed; echo v2 > $NOMAD_TASK_DIR/in.txt; }; exec sleep 60"]
          templates:
            - destination: local/in.txt
              data: "v1"
              change_mode: noop
            - destination: local/out.txt
              data: "got {{ file \"local/in.txt\" | trimSpace }}\n"
              splay: 0s
)");
  ASSERT_EQ(ids.size(), 1u);
  // restart attempts 0: only a restart that does not count against the policy runs it again.
  auto a = agent->wait_alloc(ids[0], [](const json& a) {
    return a["TaskStates"]["t"]["Restarts"] == 1 && a["TaskStates"]["t"]["State"] == "running";
  });
  EXPECT_TRUE(
      has_event(a, "t", "Restart Signaled", "Template with change_mode restart re-rendered"))
      << a.dump(2);
  EXPECT_FALSE(a["TaskStates"]["t"]["Failed"].get<bool>());
  std::string out;
  EXPECT_TRUE(
      eventually([&] { return (out = logs(*agent, ids[0], "t")) == "got v1\ngot v1\n"; }, 10s))
      << out;
  agent->cli({"job", "stop", "rs"});
}

// change_mode script: raw_exec runs it through its exec (the task's own dir, env and user):
// in the task dir, with the task's env, and with a signal mask of its own (the agent keeps
// its stop signals blocked for sigwait; a script that inherited that could not be stopped with
// SIGTERM). A script that cannot run is a Template Failed event naming it and why.
TEST(Templates, AChangeScriptRunsInTheTaskDirWithTheTasksEnvAndNoBlockedSignals) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(
job:
  id: scr
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config:
            command: /bin/sh
            args: ["-c", "echo v2 > $NOMAD_TASK_DIR/in.txt; exec sleep 60"]
          env: {GREETING: hello}
          templates:
            - destination: local/in.txt
              data: "v1"
              change_mode: noop
            - destination: local/out.txt
              data: "got {{ file \"local/in.txt\" | trimSpace }}\n"
              change_mode: script
              change_script:
                command: /bin/sh
                args: ["-c", "{ pwd; echo $GREETING; } > ran.txt"]
              splay: 0s
            - destination: local/out3.txt
              data: "and {{ file \"local/in.txt\" | trimSpace }}\n"
              change_mode: script
              # Not a shell: dash clears its signal mask when it starts, cp does not.
              change_script: {command: /bin/cp, args: [/proc/self/status, status.txt]}
              splay: 0s
            - destination: local/out2.txt
              data: "also {{ file \"local/in.txt\" | trimSpace }}\n"
              change_mode: script
              change_script: {command: /no/such/reload}
              splay: 0s
)");
  ASSERT_EQ(ids.size(), 1u);
  const std::string task_dir = agent->data_dir() + "/alloc/" + ids[0] + "/t";
  std::string ran, status;
  EXPECT_TRUE(eventually(
      [&] {
        ran = drover::testing::read_file(task_dir + "/ran.txt");
        status = drover::testing::read_file(task_dir + "/status.txt");
        return !ran.empty() && status.find("SigBlk") != std::string::npos;
      },
      20s))
      << ran << status;
  EXPECT_EQ(ran, task_dir + "\nhello\n");
  EXPECT_NE(status.find("SigBlk:\t0000000000000000\n"), std::string::npos) << status;
  json a;
  EXPECT_TRUE(eventually(
      [&] {
        a = agent->alloc(ids[0]);
        return has_event(a, "t", "Template Failed", "/no/such/reload");
      },
      20s))
      << a.dump(2);
  EXPECT_TRUE(has_event(a, "t", "Template Failed", "No such file or directory")) << a.dump(2);
  agent->cli({"job", "stop", "scr"});
}

}  // namespace
