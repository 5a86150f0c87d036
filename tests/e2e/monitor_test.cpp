// `drover monitor` and GET /v1/agent/monitor through the real agent: an operator follows the
// agent's own log at a lower level than it logs at (trace while it logs info) without
// restarting it, in Nomad's framing, as text or as hclog's JSON lines; a mistake in the
// options is a 400 naming it; the readers are capped, and one that goes away frees its place.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "agent_process.hpp"
#include "cluster_processes.hpp"
#include "drover/common/encoding.hpp"
#include "stream_reader.hpp"

using drover::testing::AgentProcess;
using drover::testing::StreamReader;
using nlohmann::json;
using namespace std::chrono_literals;

extern char** environ;

namespace {

std::string sleeper(const std::string& id) {
  return "job:\n  id: " + id +
         "\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
         "          driver: raw_exec\n          kill_timeout: 1s\n"
         "          config:\n            command: /bin/sh\n"
         "            args: [\"-c\", \"exec sleep 300\"]\n";
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// Nomad's frames ({"Data": base64} a line, {} a heartbeat) decoded back to the log's text.
std::string unframe(const std::string& stream) {
  std::string text;
  std::size_t start = 0;
  for (std::size_t nl; (nl = stream.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto frame = json::parse(stream.substr(start, nl - start), nullptr, false);
    if (frame.is_object() && frame.contains("Data"))
      text += drover::base64_decode(frame["Data"].get<std::string>()).value_or("<not base64>");
  }
  return text;
}

// Runs job `id` and purges it: the agent logs "purged job ..." at info.
void run_and_purge(const AgentProcess& agent, const std::string& id) {
  auto ids = agent.submit(sleeper(id));
  ASSERT_EQ(ids.size(), 1u);
  agent.wait_client_status(ids[0], "running");
  auto r = agent.del("/v1/job/" + id + "?purge=true");
  ASSERT_EQ(r.status, 200) << r.body;
}

}  // namespace

TEST(Monitor, ATraceReaderSeesWhatTheAgentDoesNotLogAndTheLevelComesBackAfter) {
  auto agent = AgentProcess::start();  // logs at info
  {
    StreamReader trace(agent->address(), "/v1/agent/monitor?log_level=TRACE&plain=true");
    ASSERT_EQ(trace.wait_status(), 200);
    auto ids = agent->submit(sleeper("traced"));
    ASSERT_EQ(ids.size(), 1u);
    // Each step of a task's start is timed at trace (runner/step_timings.cpp).
    auto text = trace.wait_for([](const std::string& t) { return contains(t, " took "); });
    EXPECT_TRUE(contains(text, "[trace]")) << text;
    EXPECT_TRUE(contains(text, " took ")) << text;
    EXPECT_FALSE(contains(agent->log(), " took ")) << "the agent's own log stays at info";
  }
  // Once the trace reader is gone, an info reader sees info lines and no trace ones: the
  // agent's level went back up. Framed as Nomad's, by default.
  StreamReader info(agent->address(), "/v1/agent/monitor");
  ASSERT_EQ(info.wait_status(), 200);
  run_and_purge(*agent, "quiet");
  auto framed = info.wait_for([](const std::string& t) { return contains(unframe(t), "purged"); });
  const auto text = unframe(framed);
  EXPECT_TRUE(contains(text, "[info] purged")) << framed;
  EXPECT_FALSE(contains(text, "[trace]")) << text;
  EXPECT_FALSE(contains(agent->log(), " took "));
}

TEST(Monitor, JsonLinesCarryHclogsKeys) {
  auto agent = AgentProcess::start();
  StreamReader reader(agent->address(), "/v1/agent/monitor?log_json=true&plain=true");
  ASSERT_EQ(reader.wait_status(), 200);
  run_and_purge(*agent, "j");
  auto text = reader.wait_for([](const std::string& t) { return contains(t, "purged"); });
  json line;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto j = json::parse(text.substr(start, nl - start), nullptr, false);
    ASSERT_TRUE(j.is_object()) << "each line is a JSON object: " << text;
    if (contains(j.value("@message", ""), "purged")) line = j;
  }
  ASSERT_TRUE(line.is_object()) << text;
  EXPECT_EQ(line["@level"], "info");
  EXPECT_EQ(line["@module"], "agent");
  const std::string ts = line.value("@timestamp", "");
  ASSERT_EQ(ts.size(), 27u) << ts;  // 2026-12-07T17:01:02.123456Z
  EXPECT_EQ(ts.back(), 'Z');
}

TEST(Monitor, BadOptionsAre400sNamingThemAndReadersAreCapped) {
  auto agent = AgentProcess::start();
  auto bad_level = agent->get("/v1/agent/monitor?log_level=verbose");
  EXPECT_EQ(bad_level.status, 400);
  EXPECT_TRUE(contains(bad_level.json().value("error", ""), "log_level")) << bad_level.body;
  auto bad_json = agent->get("/v1/agent/monitor?log_json=maybe");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_TRUE(contains(bad_json.json().value("error", ""), "log_json")) << bad_json.body;
  auto other_node = agent->get("/v1/agent/monitor?node_id=ffffffff-0000");
  EXPECT_EQ(other_node.status, 404) << other_node.body;

  // Four readers at once; a fifth is refused while they read.
  std::vector<std::unique_ptr<StreamReader>> readers;
  for (int i = 0; i < 4; ++i) {
    readers.push_back(
        std::make_unique<StreamReader>(agent->address(), "/v1/agent/monitor?plain=true"));
    ASSERT_EQ(readers.back()->wait_status(), 200) << i;
  }
  auto fifth = agent->get("/v1/agent/monitor?plain=true");
  EXPECT_EQ(fifth.status, 429) << fifth.body;
  EXPECT_TRUE(contains(fifth.json().value("error", ""), "monitors")) << fifth.body;

  // A reader that goes away (its client closes the connection, the agent quiet) frees its
  // place: a new reader is taken.
  readers.pop_back();
  int status = 0;
  std::unique_ptr<StreamReader> again;
  EXPECT_TRUE(drover::testing::eventually(
      [&] {
        again = std::make_unique<StreamReader>(agent->address(), "/v1/agent/monitor?plain=true");
        status = again->wait_status();
        return status == 200;
      },
      20s))
      << status;
  // The task keeps running, the agent answers: nothing above harmed it.
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

TEST(Monitor, TheCliFollowsTheLogAtTheLevelAsked) {
  auto agent = AgentProcess::start();
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  const std::string addr = agent->address();
  std::vector<std::string> args = {DROVER_BIN, "monitor", "-address", addr, "-log-level", "debug"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, DROVER_BIN, &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);

  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  bool seen = false;
  int purges = 0;
  while (!seen && std::chrono::steady_clock::now() < deadline) {
    // Submitted and purged again until the CLI shows it: it may connect after the first.
    if (purges < 20) {
      run_and_purge(*agent, "cli");
      ++purges;
    }
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 500) > 0) {
      char buf[4096];
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    seen = contains(text, "[info] purged");
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out[0]);
  EXPECT_TRUE(seen) << text << agent->log();
}

// Against a server: its own log (-server-id leader names the one that leads, here itself),
// and with -node-id a node's agent's, relayed as it comes; a mistake in either is the
// server's 4xx.
TEST(Monitor, AServerFollowsItsOwnLogAndRelaysANodes) {
  using drover::testing::EtcdProcess;
  using drover::testing::ServerProcess;
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  auto agent = AgentProcess::start({.config_yaml = drover::testing::etcd_agent_yaml(etcd)});
  auto server = ServerProcess::start("s1", drover::testing::etcd_server_yaml(etcd));
  std::string node_id;
  ASSERT_TRUE(drover::testing::eventually(
      [&] {
        auto nodes = server->get("/v1/nodes").json();
        if (!nodes.is_array() || nodes.size() != 1) return false;
        node_id = nodes[0].value("ID", "");
        return true;
      },
      20s));
  ASSERT_TRUE(drover::testing::eventually(
      [&] { return server->get("/v1/status/leader").json() != ""; }, 20s));

  // The server's own log at debug: a job written.
  StreamReader own(server->address(), "/v1/agent/monitor?plain=true&log_level=debug&server_id=leader");
  ASSERT_EQ(own.wait_status(), 200);
  auto r = server->post("/v1/jobs", sleeper("relayed"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto text = own.wait_for([](const std::string& t) { return contains(t, "relayed version 0"); });
  EXPECT_TRUE(contains(text, "[debug] server: job default/relayed version 0 written")) << text;

  // The node's log at trace through the server (an id prefix works): its task's start steps.
  // The relay connects to the node after answering, so jobs are placed until one shows.
  StreamReader node(server->address(),
                    "/v1/agent/monitor?plain=true&log_level=trace&node_id=" + node_id.substr(0, 8));
  ASSERT_EQ(node.wait_status(), 200);
  bool seen = false;
  for (int i = 0; i < 15 && !seen; ++i) {
    auto placed = server->post("/v1/jobs", sleeper("relay-" + std::to_string(i)));
    ASSERT_EQ(placed.status, 200) << placed.body;
    seen = contains(node.wait_for([](const std::string& t) { return contains(t, " took "); }, 2s),
                    " took ");
  }
  EXPECT_TRUE(seen) << agent->log();

  auto both = server->get("/v1/agent/monitor?node_id=" + node_id + "&server_id=s1");
  EXPECT_EQ(both.status, 400) << both.body;
  auto no_node = server->get("/v1/agent/monitor?node_id=ffffffff");
  EXPECT_EQ(no_node.status, 404) << no_node.body;
  auto no_server = server->get("/v1/agent/monitor?server_id=s9");
  EXPECT_EQ(no_server.status, 404) << no_server.body;
  auto bad = server->get("/v1/agent/monitor?node_id=" + node_id + "&log_level=loud");
  EXPECT_EQ(bad.status, 400) << bad.body;
}

// `operator debug` (Nomad's support bundle): the agent's state once, its metrics every interval
// and its log for the duration, in one tar.gz; a server's paths an agent lacks are listed as
// missing, not fatal.
TEST(OperatorDebug, ABundleHoldsTheAgentsStateItsMetricsAndTheLogOfTheCapture) {
  auto agent = AgentProcess::start();
  const std::string out = drover::testing::make_temp_dir("drover-debug-out");
  drover::testing::CmdResult debug;
  std::thread capture([&] {
    debug = drover::testing::run_drover(
        {"operator", "debug", "-duration", "3s", "-interval", "1s", "-output", out}, agent->address());
  });
  // A start during the capture: its steps are logged at trace, the bundle's default level.
  std::this_thread::sleep_for(1s);
  auto ids = agent->submit(
      "job:\n  id: traced\n  type: batch\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
      "          driver: raw_exec\n          config: {command: /bin/true}\n");
  ASSERT_EQ(ids.size(), 1u);
  capture.join();
  ASSERT_EQ(debug.exit_code, 0) << debug.out << debug.err;
  const auto at = debug.out.find("Created debug archive: ");
  ASSERT_NE(at, std::string::npos) << debug.out;
  std::string archive = debug.out.substr(at + 23);
  archive.erase(archive.find('\n'));
  auto listing = drover::testing::run_shell("tar tzf '" + archive + "'");
  ASSERT_EQ(listing.exit_code, 0) << listing.out;
  for (const char* f : {"/agent-self.json", "/node.json", "/jobs.json", "/allocations.json",
                        "/metrics/0000.prom", "/metrics/0002.prom", "/monitor.log", "/index.json"})
    EXPECT_NE(listing.out.find(f), std::string::npos) << f << " not in\n" << listing.out;
  auto file = [&](const std::string& name) {
    return drover::testing::run_shell("tar xzf '" + archive + "' -O --wildcards '*/" + name + "'").out;
  };
  EXPECT_NE(file("monitor.log").find(ids[0]), std::string::npos) << file("monitor.log");
  EXPECT_NE(file("metrics/0000.prom").find("drover_"), std::string::npos);
  auto index = json::parse(file("index.json"));
  EXPECT_TRUE(index["Missing"].contains("/v1/nodes")) << index.dump(2);
  EXPECT_FALSE(index["Missing"].contains("/v1/agent/monitor")) << index.dump(2);
  // A bad interval is refused before anything is captured.
  auto bad = drover::testing::run_drover({"operator", "debug", "-duration", "1s", "-interval", "5s"},
                                         agent->address());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("interval: must not be longer than -duration"), std::string::npos) << bad.err;
}
