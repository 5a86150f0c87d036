// `alloc exec -i -t` end to end: the real agent, its exec websocket (Nomad's path and JSON
// messages), a shell on a terminal inside a raw_exec task, and one inside an exec task when
// runc works on this host. What a user of `nomad alloc exec` or the UI's terminal would see.
// A job's named actions (`job action`, docs/jobspec.md "actions") are such sessions too.
#include <gtest/gtest.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <fstream>
#include <map>
#include <thread>

#include "agent_process.hpp"
#include "cluster_processes.hpp"
#include "drover/common/encoding.hpp"
#include "exec_session_io.hpp"
#include "ws_test_client.hpp"

using drover::testing::AgentProcess;
using drover::testing::url_encode;
using drover::testing::WsTestClient;
using nlohmann::json;
namespace ws = drover::api::ws;

namespace {

std::string service(const std::string& id, const std::string& driver = "raw_exec") {
  return "job:\n  id: " + id + "\n  type: service\n  groups:\n    - name: g\n      tasks:\n"
         "        - name: t\n          driver: " + driver + "\n          kill_timeout: 1s\n"
         "          resources: {memory: 64}\n          env: {GREETING: hello-from-env}\n"
         "          config:\n            command: /bin/sleep\n            args: [\"1000\"]\n";
}

// service() with two actions on its task, in the YAML form.
std::string with_actions(const std::string& id) {
  return service(id) +
         "          actions:\n"
         "            - name: greet\n"
         "              command: /bin/sh\n"
         "              args: [\"-c\", \"echo $GREETING from $NOMAD_TASK_NAME; cat; exit 6\"]\n"
         "            - {name: literal, command: /bin/echo, args: [\"${NOMAD_TASK_NAME}\", \"a b\"]}\n";
}

std::string action_path(const std::string& job, const std::string& alloc, const std::string& action,
                        const std::string& task = "t", const std::string& extra = "") {
  return "/v1/job/" + job + "/action?action=" + url_encode(action) + "&allocID=" + alloc +
         "&task=" + task + "&tty=false" + extra;
}

std::string exec_path(const std::string& alloc, const std::string& task, const json& command,
                      bool tty, const std::string& extra = "") {
  return "/v1/client/allocation/" + alloc + "/exec?task=" + task +
         "&command=" + url_encode(command.dump()) + "&tty=" + (tty ? "true" : "false") + extra;
}

std::string stdin_frame(const std::string& text) {
  return json{{"stdin", {{"data", drover::base64_encode(text)}}}}.dump();
}

// What a session printed and how it ended: every stdout/stderr message decoded, until the
// exited message and the close frame after it.
struct Transcript {
  std::string out, err;
  std::optional<int> exit_code;
  std::optional<uint16_t> close_code;
  std::string close_reason;
};
Transcript read_session(WsTestClient& c) {
  Transcript t;
  while (auto m = c.next()) {
    if (m->opcode == ws::Opcode::Close) {
      if (m->payload.size() >= 2)
        t.close_code = static_cast<uint16_t>((static_cast<unsigned char>(m->payload[0]) << 8) |
                                             static_cast<unsigned char>(m->payload[1]));
      t.close_reason = m->payload.size() > 2 ? m->payload.substr(2) : "";
      break;
    }
    auto j = json::parse(m->payload, nullptr, false);
    if (j.contains("stdout")) t.out += drover::base64_decode(j["stdout"]["data"].get<std::string>()).value_or("?");
    if (j.contains("stderr")) t.err += drover::base64_decode(j["stderr"]["data"].get<std::string>()).value_or("?");
    if (j.value("exited", false)) t.exit_code = j["result"]["exit_code"].get<int>();
  }
  return t;
}

// Sends `line` as stdin again and again until the output shows `want` (20 s at most); returns
// the output. For what a command sees on its own time: runc copies a terminal's size into the
// container's when it gets to it.
std::string repeat_until(WsTestClient& c, const std::string& line, const std::string& want) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string out;
  while (out.find(want) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    if (!c.send_text(stdin_frame(line))) break;
    while (out.find(want) == std::string::npos) {
      auto m = c.next(std::chrono::milliseconds(300));
      if (!m || m->opcode != ws::Opcode::Text) break;
      auto j = json::parse(m->payload, nullptr, false);
      if (j.contains("stdout")) out += drover::base64_decode(j["stdout"]["data"].get<std::string>()).value_or("");
    }
  }
  return out;
}

// The management token an agent with ACLs on prints at its first start ("" when none).
std::string bootstrap_token(const AgentProcess& agent) {
  const std::string log = agent.log();
  const auto at = log.find("Secret ID: ");
  return at == std::string::npos ? "" : log.substr(at + 11, 36);
}

std::string running_alloc(const AgentProcess& agent, const std::string& job_text) {
  auto ids = agent.submit(job_text);
  if (ids.size() != 1) return "";
  agent.wait_client_status(ids[0], "running");
  return ids[0];
}

}  // namespace

TEST(ExecWebsocket, ShellOnATerminalRunsACommandAndReportsItsExitCode) {
  auto agent = AgentProcess::start();
  auto id = running_alloc(*agent, service("wsexec"));
  ASSERT_FALSE(id.empty());
  auto c = WsTestClient::open(agent->port(), exec_path(id, "t", {"/bin/sh"}, true));
  ASSERT_EQ(c->status(), 101) << c->head() << c->body();
  ASSERT_TRUE(c->send_text(R"({"tty_size":{"height":33,"width":101}})"));
  ASSERT_TRUE(c->send_text(stdin_frame("test -t 0 && echo on-a-tty; stty size; echo $GREETING; echo hi; exit 3\n")));
  auto t = read_session(*c);
  EXPECT_NE(t.out.find("on-a-tty\r\n"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("33 101\r\n"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("hello-from-env\r\n"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("hi\r\n"), std::string::npos) << t.out;
  ASSERT_TRUE(t.exit_code.has_value()) << t.out;
  EXPECT_EQ(*t.exit_code, 3);
  EXPECT_EQ(t.close_code, ws::kNormalClose);
  // The task itself never noticed.
  EXPECT_EQ(agent->alloc(id)["ClientStatus"], "running");
}

TEST(ExecWebsocket, WithoutTerminalStdinEndsAndStderrIsItsOwnStream) {
  auto agent = AgentProcess::start();
  auto id = running_alloc(*agent, service("wspipe"));
  ASSERT_FALSE(id.empty());
  auto c = WsTestClient::open(agent->port(),
                              exec_path(id, "t", {"/bin/sh", "-c", "cat; echo oops >&2; exit 5"}, false));
  ASSERT_EQ(c->status(), 101) << c->head() << c->body();
  ASSERT_TRUE(c->send_text(stdin_frame("line one\n")));
  ASSERT_TRUE(c->send_text(R"({"stdin":{"close":true}})"));
  auto t = read_session(*c);
  EXPECT_EQ(t.out, "line one\n");
  EXPECT_EQ(t.err, "oops\n");
  EXPECT_EQ(t.exit_code, 5);
}

TEST(ExecWebsocket, ClientGoingAwayKillsTheCommandNotTheTask) {
  auto agent = AgentProcess::start();
  auto id = running_alloc(*agent, service("wsgone"));
  ASSERT_FALSE(id.empty());
  auto mark = "/tmp/drover-wsexec-" + std::to_string(getpid());
  {
    auto c = WsTestClient::open(agent->port(), exec_path(id, "t", {"/bin/sh"}, true));
    ASSERT_EQ(c->status(), 101);
    ASSERT_TRUE(c->send_text(stdin_frame("echo $$ > " + mark + ".tmp; mv " + mark + ".tmp " + mark + "; sleep 1000\n")));
    ASSERT_TRUE(drover::testing::eventually([&] { return access(mark.c_str(), F_OK) == 0; }, std::chrono::seconds(20)));
  }  // the socket closes without a close frame
  std::string pid;
  {
    std::ifstream in(mark);
    in >> pid;
  }
  ASSERT_FALSE(pid.empty());
  EXPECT_TRUE(drover::testing::eventually([&] { return access(("/proc/" + pid).c_str(), F_OK) != 0; },
                                          std::chrono::seconds(20)))
      << "the shell " << pid << " outlived its session";
  unlink(mark.c_str());
  EXPECT_EQ(agent->alloc(id)["ClientStatus"], "running");
}

// The shell ran in the task's cgroup: stopping the task kills it too, and its session ends.
TEST(ExecWebsocket, StoppingTheTaskEndsItsExecSessions) {
  auto agent = AgentProcess::start();
  auto id = running_alloc(*agent, service("wsstop"));
  ASSERT_FALSE(id.empty());
  auto c = WsTestClient::open(agent->port(), exec_path(id, "t", {"/bin/sh"}, true));
  ASSERT_EQ(c->status(), 101);
  EXPECT_NE(repeat_until(*c, "echo ready-$((1+1))\n", "ready-2").find("ready-2"), std::string::npos);
  ASSERT_TRUE(c->send_text(stdin_frame("sleep 1000\n")));
  ASSERT_EQ(agent->post("/v1/client/allocation/" + id + "/stop", "", "application/json").status, 200);
  auto t = read_session(*c);
  ASSERT_TRUE(t.exit_code.has_value()) << t.out;
  EXPECT_EQ(*t.exit_code, 128 + SIGKILL);
  agent->wait_alloc(id, [](const json& a) { return a.value("ClientStatus", "") == "complete"; });
}

TEST(ExecWebsocket, BadRequestsAreRefusedBeforeAnyUpgrade) {
  auto agent = AgentProcess::start();
  auto id = running_alloc(*agent, service("wsbad"));
  ASSERT_FALSE(id.empty());
  struct Case {
    std::string target;
    std::map<std::string, std::string> headers;
    int status;
    std::string says;
  };
  const Case cases[] = {
      {"/v1/client/allocation/" + id + "/exec?task=t&tty=true", {}, 400, "command"},
      {"/v1/client/allocation/" + id + "/exec?task=t&command=%5B%5D", {}, 400, "command"},
      {"/v1/client/allocation/" + id + "/exec?command=%5B%22sh%22%5D", {}, 400, "task: required"},
      {exec_path(id, "t", {"/bin/sh"}, true, "&ws_handshake=yes"), {}, 400, "ws_handshake"},
      {exec_path(id, "nope", {"/bin/sh"}, true), {}, 404, "nope"},
      {exec_path("no-such-alloc", "t", {"/bin/sh"}, true), {}, 404, "no-such-alloc"},
      {exec_path(id, "t", {"no-such-command"}, true), {}, 400, "not found in the task's PATH"},
      {exec_path(id, "t", {"/bin/sh"}, true), {{"Upgrade", ""}, {"Connection", ""}}, 400, "websocket"},
      {exec_path(id, "t", {"/bin/sh"}, true), {{"Sec-WebSocket-Version", "8"}}, 426, "13"},
      {exec_path(id, "t", {"/bin/sh"}, true), {{"Sec-WebSocket-Key", "short"}}, 400, "Sec-WebSocket-Key"},
      // A page on another origin must not open a shell in the user's name.
      {exec_path(id, "t", {"/bin/sh"}, true), {{"Origin", "http://evil.example"}}, 403, "origin"},
  };
  for (const auto& k : cases) {
    auto c = WsTestClient::open(agent->port(), k.target, k.headers);
    EXPECT_EQ(c->status(), k.status) << k.target << "\n" << c->head() << c->body();
    EXPECT_NE(c->body().find(k.says), std::string::npos) << k.target << ": " << c->body();
  }
  EXPECT_EQ(agent->alloc(id)["ClientStatus"], "running");
}

TEST(ExecWebsocket, TokenInTheFirstMessageIsCheckedBeforeAnythingStarts) {
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  const std::string mgmt = bootstrap_token(*agent);
  ASSERT_FALSE(mgmt.empty()) << agent->log();
  httplib::Client http("127.0.0.1", agent->port());
  auto submitted = http.Post("/v1/jobs", {{"X-Nomad-Token", mgmt}}, service("wsacl"), "application/yaml");
  ASSERT_TRUE(submitted && submitted->status == 200);
  const std::string id = json::parse(submitted->body)["AllocIDs"][0];
  ASSERT_TRUE(drover::testing::eventually([&] {
    auto r = http.Get("/v1/allocation/" + id, {{"X-Nomad-Token", mgmt}});
    return r && json::parse(r->body, nullptr, false).value("ClientStatus", "") == "running";
  }, std::chrono::seconds(20)));
  const std::string target = exec_path(id, "t", {"/bin/sh"}, true, "&ws_handshake=true");

  // No token anywhere: the handshake's empty token is refused with a policy close.
  auto anon = WsTestClient::open(agent->port(), target);
  ASSERT_EQ(anon->status(), 101);
  ASSERT_TRUE(anon->send_text(R"({"version":1,"auth_token":""})"));
  auto refused = read_session(*anon);
  EXPECT_EQ(refused.close_code, ws::kPolicyViolation);
  EXPECT_EQ(refused.close_reason.rfind("Permission denied", 0), 0u) << refused.close_reason;
  EXPECT_FALSE(refused.exit_code.has_value());
  // Without ws_handshake, no token is a plain 403.
  auto plain = WsTestClient::open(agent->port(), exec_path(id, "t", {"/bin/sh"}, true));
  EXPECT_EQ(plain->status(), 403);
  // A read token may watch the alloc but not run commands in it, either way.
  auto made = http.Post("/v1/acl/token", {{"X-Nomad-Token", mgmt}}, R"({"Name": "r", "Policy": "read"})",
                        "application/json");
  ASSERT_TRUE(made && made->status == 200);
  const std::string reader = json::parse(made->body)["SecretID"];
  auto read_ws = WsTestClient::open(agent->port(), target);
  ASSERT_EQ(read_ws->status(), 101);
  ASSERT_TRUE(read_ws->send_text(json{{"version", 1}, {"auth_token", reader}}.dump()));
  auto read_refused = read_session(*read_ws);
  EXPECT_EQ(read_refused.close_code, ws::kPolicyViolation);
  EXPECT_NE(read_refused.close_reason.find("this one has read"), std::string::npos) << read_refused.close_reason;
  auto read_header = WsTestClient::open(agent->port(), exec_path(id, "t", {"/bin/sh"}, true),
                                        {{"X-Nomad-Token", reader}});
  EXPECT_EQ(read_header->status(), 403);

  // Whether an alloc exists is not said before the token is checked; after, it is a 4404.
  const std::string ghost_target = exec_path("no-such-alloc", "t", {"/bin/sh"}, true, "&ws_handshake=true");
  auto ghost_anon = WsTestClient::open(agent->port(), ghost_target);
  ASSERT_EQ(ghost_anon->status(), 101);
  ASSERT_TRUE(ghost_anon->send_text(R"({"version":1})"));
  EXPECT_EQ(read_session(*ghost_anon).close_code, ws::kPolicyViolation);
  auto ghost = WsTestClient::open(agent->port(), ghost_target);
  ASSERT_EQ(ghost->status(), 101);
  ASSERT_TRUE(ghost->send_text(json{{"version", 1}, {"auth_token", mgmt}}.dump()));
  auto missing = read_session(*ghost);
  EXPECT_EQ(missing.close_code, 4404);
  EXPECT_NE(missing.close_reason.find("no-such-alloc"), std::string::npos) << missing.close_reason;

  auto ok = WsTestClient::open(agent->port(), target);
  ASSERT_EQ(ok->status(), 101);
  ASSERT_TRUE(ok->send_text(json{{"version", 1}, {"auth_token", mgmt}}.dump()));
  ASSERT_TRUE(ok->send_text(stdin_frame("echo token-ok; exit 0\n")));
  auto t = read_session(*ok);
  EXPECT_NE(t.out.find("token-ok"), std::string::npos) << t.out << " " << t.close_reason;
  EXPECT_EQ(t.exit_code, 0);
}

// A job's actions: listed with their task and group as Nomad lists them, and run by name in
// the alloc's task, its env there, our stdin in, its output and exit code out; the args go as
// written (no ${} interpolation, as in Nomad: a shell reads the env). The task never notices.
TEST(JobActions, ListedWithTheirTaskAndGroupAndRunByNameInTheTask) {
  auto agent = AgentProcess::start();
  auto id = running_alloc(*agent, with_actions("acts"));
  ASSERT_FALSE(id.empty());
  httplib::Client http("127.0.0.1", agent->port());
  auto listed = http.Get("/v1/job/acts/actions");
  ASSERT_TRUE(listed && listed->status == 200);
  auto list = json::parse(listed->body);
  ASSERT_EQ(list.size(), 2u) << list;
  EXPECT_EQ(list[0]["Name"], "greet");
  EXPECT_EQ(list[0]["Command"], "/bin/sh");
  EXPECT_EQ(list[0]["TaskName"], "t");
  EXPECT_EQ(list[0]["TaskGroupName"], "g");
  EXPECT_EQ(list[1]["Args"], json({"${NOMAD_TASK_NAME}", "a b"}));
  auto none = http.Get("/v1/job/no-such-job/actions");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);

  auto c = WsTestClient::open(agent->port(), action_path("acts", id.substr(0, 8), "greet"));
  ASSERT_EQ(c->status(), 101) << c->head() << c->body();
  ASSERT_TRUE(c->send_text(stdin_frame("piped in\n")));
  ASSERT_TRUE(c->send_text(R"({"stdin":{"close":true}})"));
  auto t = read_session(*c);
  EXPECT_EQ(t.out, "hello-from-env from t\npiped in\n");
  EXPECT_EQ(t.exit_code, 6);
  auto lit = WsTestClient::open(agent->port(), action_path("acts", id, "literal"));
  ASSERT_EQ(lit->status(), 101) << lit->head() << lit->body();
  auto l = read_session(*lit);
  EXPECT_EQ(l.out, "${NOMAD_TASK_NAME} a b\n");
  EXPECT_EQ(l.exit_code, 0);
  EXPECT_EQ(agent->alloc(id)["ClientStatus"], "running");
}

// What cannot run is refused as HTTP, before any upgrade, in Nomad's words, naming what is
// wrong; a read token may list a job's actions but not run one.
TEST(JobActions, RefusalsNameWhatIsWrongAndARunTakesTheExecPolicy) {
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  const std::string mgmt = bootstrap_token(*agent);
  ASSERT_FALSE(mgmt.empty()) << agent->log();
  httplib::Client http("127.0.0.1", agent->port());
  for (const auto& job : {with_actions("acted"), service("plain")}) {
    auto submitted = http.Post("/v1/jobs", {{"X-Nomad-Token", mgmt}}, job, "application/yaml");
    ASSERT_TRUE(submitted && submitted->status == 200) << (submitted ? submitted->body : "");
  }
  std::string id, other;
  ASSERT_TRUE(drover::testing::eventually([&] {
    auto r = http.Get("/v1/allocations", {{"X-Nomad-Token", mgmt}});
    auto all = json::parse(r ? r->body : "[]", nullptr, false);
    int running = 0;
    for (const auto& a : all.is_array() ? all : json::array()) {
      if (a.value("ClientStatus", "") != "running") continue;
      ++running;
      (a.value("JobID", "") == "acted" ? id : other) = a.value("ID", "");
    }
    return running == 2;
  }, std::chrono::seconds(20)));
  const std::map<std::string, std::string> as_mgmt = {{"X-Nomad-Token", mgmt}};
  struct Case {
    std::string target;
    int status;
    std::string says;
  };
  const Case cases[] = {
      {"/v1/job/acted/action?allocID=" + id + "&task=t", 400, "action: required"},
      {"/v1/job/acted/action?action=greet&task=t", 400, "allocID: required"},
      {"/v1/job/acted/action?action=greet&allocID=" + id, 400, "task: required"},
      {action_path("acted", id, "nope"), 400, "action nope not found in task t"},
      {action_path("acted", id, "greet", "nope"), 400, "task nope not found in allocation " + id},
      {action_path("acted", other, "greet"), 400, "job acted does not have allocation " + other},
      {action_path("acted", "ffffffff", "greet"), 404, "ffffffff"},
  };
  for (const auto& k : cases) {
    auto c = WsTestClient::open(agent->port(), k.target, as_mgmt);
    EXPECT_EQ(c->status(), k.status) << k.target << "\n" << c->head() << c->body();
    EXPECT_NE(c->body().find(k.says), std::string::npos) << k.target << ": " << c->body();
  }
  auto made = http.Post("/v1/acl/token", {{"X-Nomad-Token", mgmt}}, R"({"Name": "r", "Policy": "read"})",
                        "application/json");
  ASSERT_TRUE(made && made->status == 200);
  const std::string reader = json::parse(made->body)["SecretID"];
  auto listed = http.Get("/v1/job/acted/actions", {{"X-Nomad-Token", reader}});
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 200) << listed->body;
  auto denied = WsTestClient::open(agent->port(), action_path("acted", id, "greet"), {{"X-Nomad-Token", reader}});
  EXPECT_EQ(denied->status(), 403) << denied->body();
  // The UI's way: the token in the first message, checked before the action is looked up.
  auto in_message = WsTestClient::open(agent->port(), action_path("acted", id, "greet", "t", "&ws_handshake=true"));
  ASSERT_EQ(in_message->status(), 101);
  ASSERT_TRUE(in_message->send_text(json{{"version", 1}, {"auth_token", reader}}.dump()));
  auto refused = read_session(*in_message);
  EXPECT_EQ(refused.close_code, ws::kPolicyViolation);
  EXPECT_FALSE(refused.exit_code.has_value());
  auto ok = WsTestClient::open(agent->port(), action_path("acted", id, "greet", "t", "&ws_handshake=true"));
  ASSERT_EQ(ok->status(), 101);
  ASSERT_TRUE(ok->send_text(json{{"version", 1}, {"auth_token", mgmt}}.dump()));
  ASSERT_TRUE(ok->send_text(R"({"stdin":{"close":true}})"));
  auto ran = read_session(*ok);
  EXPECT_EQ(ran.out, "hello-from-env from t\n");
  EXPECT_EQ(ran.exit_code, 6);
  auto still = http.Get("/v1/allocation/" + id, {{"X-Nomad-Token", mgmt}});
  ASSERT_TRUE(still);
  EXPECT_EQ(json::parse(still->body).value("ClientStatus", ""), "running");
}

// `drover alloc exec -i`/`-t` over the websocket: our stdin in, the command's output and exit
// code out. stdin is a pipe here, so the CLI leaves the (absent) terminal alone.
std::pair<int, std::string> run_cli(const AgentProcess& agent, const std::string& input,
                                    const std::string& args, const std::string& command = "alloc exec") {
  std::string cmd = "printf '" + input + "' | DROVER_ADDR=" + agent.address() + " " DROVER_BIN
                    " " + command + " " + args + " 2>&1";
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return {-1, ""};
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  int status = pclose(f);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(ExecWebsocket, CliInteractiveExecPassesStdinOutputAndExitCode) {
  auto agent = AgentProcess::start();
  auto id = running_alloc(*agent, service("wscli"));
  ASSERT_FALSE(id.empty());
  auto [code, out] = run_cli(*agent, "line from the cli\\n", "-i " + id.substr(0, 8) + " t -- /bin/sh -c 'cat; exit 4'");
  EXPECT_EQ(code, 4) << out;
  EXPECT_EQ(out, "line from the cli\n");
  auto [tty_code, tty_out] = run_cli(*agent, "test -t 0 && echo tty-inside; exit 3\\n", "-i -t " + id + " t -- /bin/sh");
  EXPECT_EQ(tty_code, 3) << tty_out;
  EXPECT_NE(tty_out.find("tty-inside\r\n"), std::string::npos) << tty_out;
  // Today's form, without -i or -t, still runs the command to its end in one request.
  auto [plain_code, plain_out] = run_cli(*agent, "", id + " t -- /bin/sh -c 'echo plain; exit 2'");
  EXPECT_EQ(plain_code, 2) << plain_out;
  EXPECT_EQ(plain_out, "plain\n");
  // A refusal is the agent's message.
  auto [bad_code, bad_out] = run_cli(*agent, "", "-i -t " + id + " nope -- /bin/sh");
  EXPECT_EQ(bad_code, 1);
  EXPECT_NE(bad_out.find("nope"), std::string::npos) << bad_out;
}

// `drover job action` and its alias `drover action`, Nomad's flags: a running alloc of -group
// picked for -task, or the -alloc named (its one task needs no -task); stdin passed unless
// -i=false; the action's exit code is ours; a refusal is the agent's message.
TEST(JobActions, CliRunsAnActionInAGroupsAllocOrANamedOne) {
  auto agent = AgentProcess::start();
  auto id = running_alloc(*agent, with_actions("actcli"));
  ASSERT_FALSE(id.empty());
  auto [code, out] = run_cli(*agent, "typed\\n", "-job actcli -group g -task t greet", "job action");
  EXPECT_EQ(code, 6) << out;
  EXPECT_EQ(out, "hello-from-env from t\ntyped\n");
  auto [alias_code, alias_out] = run_cli(*agent, "not read\\n", "-job actcli -alloc " + id.substr(0, 8) + " -i=false greet", "action");
  EXPECT_EQ(alias_code, 6) << alias_out;
  EXPECT_EQ(alias_out, "hello-from-env from t\n");
  auto [bad_code, bad_out] = run_cli(*agent, "", "-job actcli -group g -task t nope", "action");
  EXPECT_EQ(bad_code, 1);
  EXPECT_NE(bad_out.find("action nope not found in task t"), std::string::npos) << bad_out;
  auto [no_group_code, no_group_out] = run_cli(*agent, "", "-job actcli -group web -task t greet", "action");
  EXPECT_EQ(no_group_code, 1);
  EXPECT_NE(no_group_out.find("no running allocation in group \"web\""), std::string::npos) << no_group_out;
  EXPECT_EQ(agent->alloc(id)["ClientStatus"], "running");
}

// The CLI on a terminal, as a user runs it: ours goes raw (keys pass through as typed), the
// window size reaches the command, a resize of ours (SIGWINCH) reaches it too.
TEST(ExecWebsocket, CliOnATerminalFollowsItsWindowSize) {
  auto agent = AgentProcess::start();
  auto id = running_alloc(*agent, service("wscliterm"));
  ASSERT_FALSE(id.empty());
  int master = -1;
  winsize ws{};
  ws.ws_row = 20;
  ws.ws_col = 70;
  pid_t pid = forkpty(&master, nullptr, nullptr, &ws);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("DROVER_ADDR", agent->address().c_str(), 1);
    execl(DROVER_BIN, DROVER_BIN, "alloc", "exec", "-i", "-t", id.c_str(), "t", "--", "/bin/sh", nullptr);
    _exit(127);
  }
  // Typed with Enter as a terminal sends it: "\r", which the task's terminal turns into "\n".
  auto type_until = [&](const std::string& line, const std::string& want) {
    return drover::test_support::repeat_until(master, master, line + "\r", want);
  };
  EXPECT_NE(type_until("stty size", "20 70\r\n").find("20 70\r\n"), std::string::npos);
  termios during{};
  ASSERT_EQ(tcgetattr(master, &during), 0);
  EXPECT_FALSE(during.c_lflag & (ECHO | ICANON)) << "our terminal is not raw during the session";
  ws.ws_row = 30;
  ws.ws_col = 90;
  ASSERT_EQ(ioctl(master, TIOCSWINSZ, &ws), 0);
  EXPECT_NE(type_until("stty size", "30 90\r\n").find("30 90\r\n"), std::string::npos);
  ASSERT_TRUE(drover::test_support::write_text(master, "exit 7\r"));
  drover::test_support::read_until(master, "");
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  termios after{};
  ASSERT_EQ(tcgetattr(master, &after), 0);
  EXPECT_TRUE((after.c_lflag & ECHO) && (after.c_lflag & ICANON)) << "our terminal was not restored";
  close(master);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

// The same through the exec driver (runc), when its runtime works on this host.
TEST(ExecWebsocket, ShellInsideAnExecTaskContainer) {
  if (geteuid() != 0) GTEST_SKIP() << "exec needs root";
  auto agent = AgentProcess::start();
  auto node = agent->get("/v1/node").json();
  if (!node["Drivers"].contains("exec") || !node["Drivers"]["exec"].value("Healthy", false))
    GTEST_SKIP() << "exec driver not healthy here: "
                 << node["Drivers"].value("exec", json::object()).value("HealthDescription", "absent");
  auto id = running_alloc(*agent, service("wsrunc", "exec"));
  ASSERT_FALSE(id.empty());
  auto c = WsTestClient::open(agent->port(), exec_path(id, "t", {"/bin/sh"}, true));
  ASSERT_EQ(c->status(), 101) << c->head() << c->body();
  ASSERT_TRUE(c->send_text(R"({"tty_size":{"height":33,"width":101}})"));
  EXPECT_NE(repeat_until(*c, "stty size\n", "33 101\r\n").find("33 101\r\n"), std::string::npos);
  ASSERT_TRUE(c->send_text(stdin_frame("test -t 0 && echo on-a-tty; echo in-$(hostname) as $(id -u); exit 3\n")));
  auto t = read_session(*c);
  EXPECT_NE(t.out.find("on-a-tty\r\n"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("in-t as 65534"), std::string::npos) << t.out;
  EXPECT_EQ(t.exit_code, 3);
  EXPECT_EQ(agent->alloc(id)["ClientStatus"], "running");
}

// The job's running alloc through the server ("" when none runs within 30 s).
std::string running_alloc(const drover::testing::ServerProcess& server, const std::string& job) {
  std::string id;
  drover::testing::eventually(
      [&] {
        auto list = server.get("/v1/job/" + job + "/allocations").json();
        for (const auto& a : list.is_array() ? list : json::array())
          if (a.value("ClientStatus", "") == "running") id = a.value("ID", "");
        return !id.empty();
      },
      std::chrono::seconds(30));
  return id;
}

// The same session asked of `drover server`: it answers the upgrade and passes the session on
// to the node that runs the alloc (server/exec_forward.hpp), so a shell reaches the task there
// and its exit code comes back; an alloc the cluster does not have is refused as HTTP, before
// any upgrade. A job's actions are listed by the server and run there the same way.
TEST(ExecWebsocket, AServerPassesTheSessionOnToTheAllocsNode) {
  using drover::testing::EtcdProcess;
  using drover::testing::ServerProcess;
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  auto agent = AgentProcess::start({.config_yaml = drover::testing::etcd_agent_yaml(etcd)});
  auto server = ServerProcess::start("s1", drover::testing::etcd_server_yaml(etcd));
  // The node registered and a leader elected (a write before that is a 503).
  ASSERT_TRUE(drover::testing::eventually(
      [&] {
        auto leader = server->get("/v1/status/leader").json();
        return server->get("/v1/nodes").json().size() == 1 && leader.is_string() &&
               !leader.get<std::string>().empty();
      },
      std::chrono::seconds(20)))
      << server->log();
  auto r = server->post("/v1/jobs", with_actions("wsfwd"));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = running_alloc(*server, "wsfwd");
  ASSERT_FALSE(id.empty()) << server->log();
  const int port = std::stoi(server->address().substr(server->address().rfind(':') + 1));
  auto c = WsTestClient::open(port, exec_path(id.substr(0, 8), "t", {"/bin/sh"}, true));
  ASSERT_EQ(c->status(), 101) << c->head() << c->body() << server->log();
  ASSERT_TRUE(c->send_text(stdin_frame("echo $GREETING; echo via-server; exit 3\n")));
  auto t = read_session(*c);
  EXPECT_NE(t.out.find("hello-from-env\r\n"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("via-server\r\n"), std::string::npos) << t.out;
  ASSERT_TRUE(t.exit_code.has_value()) << t.out << server->log();
  EXPECT_EQ(*t.exit_code, 3);
  auto missing = WsTestClient::open(port, exec_path("ffffffff", "t", {"/bin/true"}, false));
  EXPECT_EQ(missing->status(), 404) << missing->head() << missing->body();
  EXPECT_NE(missing->body().find("not found"), std::string::npos) << missing->body();
  // A page of another origin opens no session through the server either.
  auto foreign = WsTestClient::open(port, exec_path(id, "t", {"/bin/sh"}, true),
                                    {{"Origin", "http://evil.example"}});
  EXPECT_EQ(foreign->status(), 403) << foreign->head() << foreign->body();

  auto actions = server->get("/v1/job/wsfwd/actions").json();
  ASSERT_EQ(actions.size(), 2u) << actions;
  EXPECT_EQ(actions[0]["TaskGroupName"], "g");
  auto a = WsTestClient::open(port, action_path("wsfwd", id.substr(0, 8), "greet"));
  ASSERT_EQ(a->status(), 101) << a->head() << a->body() << server->log();
  ASSERT_TRUE(a->send_text(R"({"stdin":{"close":true}})"));
  auto ran = read_session(*a);
  EXPECT_EQ(ran.out, "hello-from-env from t\n");
  EXPECT_EQ(ran.exit_code, 6);
  auto unknown = WsTestClient::open(port, action_path("wsfwd", id, "nope"));
  EXPECT_EQ(unknown->status(), 400) << unknown->head() << unknown->body();
  EXPECT_NE(unknown->body().find("action nope not found"), std::string::npos) << unknown->body();
  server->del("/v1/job/wsfwd");
}

// With ACLs on the server, a token in the first message (the UI's way) is checked by the
// server against `operate` before the session goes on: a read token's session is closed with
// the reason, the management token's reaches the task.
TEST(ExecWebsocket, AServerChecksTheFirstMessagesTokenBeforePassingTheSessionOn) {
  using drover::testing::EtcdProcess;
  using drover::testing::ServerProcess;
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  auto agent = AgentProcess::start({.config_yaml = drover::testing::etcd_agent_yaml(etcd)});
  auto dir = drover::testing::make_temp_dir("drover-wsfwd-acl");
  auto server = ServerProcess::start("s1", drover::testing::etcd_server_yaml(etcd) +
                                               "acl:\n  enabled: true\n  bootstrap_token_file: " +
                                               dir + "/token\n");
  std::string management;
  ASSERT_TRUE(drover::testing::eventually(
      [&] { return !(management = drover::testing::read_file(dir + "/token")).empty(); },
      std::chrono::seconds(20)))
      << server->log();
  management.erase(management.find_last_not_of("\n") + 1);
  server->use_token(management);
  auto made = server->post("/v1/acl/token", R"({"Name":"viewer","Policy":"read"})", "application/json");
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string reader = made.json().value("SecretID", "");
  ASSERT_EQ(server->post("/v1/jobs", service("wsacl")).status, 200);
  const std::string id = running_alloc(*server, "wsacl");
  ASSERT_FALSE(id.empty()) << server->log();
  const int port = std::stoi(server->address().substr(server->address().rfind(':') + 1));
  const auto path = exec_path(id, "t", {"/bin/sh"}, true, "&ws_handshake=true");
  auto hello = [](const std::string& token) {
    return json{{"version", 1}, {"auth_token", token}}.dump();
  };
  auto refused = WsTestClient::open(port, path);
  ASSERT_EQ(refused->status(), 101) << refused->head() << refused->body();
  ASSERT_TRUE(refused->send_text(hello(reader)));
  auto r = read_session(*refused);
  EXPECT_EQ(r.close_code, ws::kPolicyViolation);
  EXPECT_NE(r.close_reason.find("operate"), std::string::npos) << r.close_reason;
  EXPECT_EQ(r.out, "");
  auto allowed = WsTestClient::open(port, path);
  ASSERT_EQ(allowed->status(), 101) << allowed->head() << allowed->body();
  ASSERT_TRUE(allowed->send_text(hello(management)));
  ASSERT_TRUE(allowed->send_text(stdin_frame("echo via-server; exit 4\n")));
  auto t = read_session(*allowed);
  EXPECT_NE(t.out.find("via-server\r\n"), std::string::npos) << t.out << server->log();
  EXPECT_EQ(t.exit_code, 4);
  server->del("/v1/job/wsacl");
}
