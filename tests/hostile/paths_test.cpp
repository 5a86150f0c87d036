// Hostile paths and names (docs/threat-model.md, "Paths and links"): links planted by a task,
// names built to climb out of a dir, encoding tricks. Each is refused or contained, nothing
// outside the alloc dir is read or written, and the agent keeps answering.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "agent_process.hpp"
#include "hostile_support.hpp"

using drover::hostile::sh_job;
using drover::testing::AgentProcess;
using drover::testing::make_temp_dir;
using drover::testing::write_file;

namespace {

// A file only the test knows: it stands for /etc/shadow, with content we can look for.
std::string planted_secret(std::string* content) {
  auto dir = make_temp_dir("drover-hostile-secret");
  *content = "TOP-SECRET-" + std::filesystem::path(dir).filename().string();
  write_file(dir + "/secret", *content + "\n");
  return dir + "/secret";
}

httplib::Result raw_get(const AgentProcess& a, const std::string& path) {
  httplib::Client c("127.0.0.1", a.port());
  c.set_read_timeout(10);
  return c.Get(path.c_str());
}

void expect_refused_naming(const AgentProcess& a, const std::string& job, const std::string& what) {
  auto r = a.post("/v1/jobs", job);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find(what), std::string::npos) << "reply does not name " << what << ": " << r.body;
}

}  // namespace

TEST(LogsApi, RefusesSymlinkOutOfAllocDir) {
  std::string secret;
  auto secret_path = planted_secret(&secret);
  auto agent = AgentProcess::start();
  // The task swaps its own log files for links to a host file, then waits to be read.
  auto ids = agent->submit(sh_job(
      "linker", "service",
      "echo hello; sleep 0.3; cd \"$NOMAD_ALLOC_DIR/logs\" && for f in t.stdout.* t.stderr.*; do "
      "rm -f \"$f\"; ln -s " + secret_path + " \"$f\"; done; ln -s " + secret_path +
      " t.stdout.1; ln -s / t.stdout.2; touch done; exec sleep 60"));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running");
  ASSERT_TRUE(drover::hostile::wait_for(
      [&] { return !drover::hostile::find_file(agent->data_dir() + "/alloc/" + ids[0], "done").empty(); },
      std::chrono::seconds(5)));
  for (std::string type : {"stdout", "stderr"}) {
    for (std::string q : {"", "&origin=end&offset=100", "&follow=false"}) {
      auto r = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t&type=" + type + q);
      EXPECT_EQ(r.body.find(secret), std::string::npos) << "served the secret through " << type << q;
    }
  }
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
  EXPECT_EQ(drover::testing::read_file(secret_path), secret + "\n");  // host file untouched
}

TEST(LogsApi, RefusesTaskNamesThatClimbOutOfTheAllocDir) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(sh_job("climb", "batch", "echo hi"));
  agent->wait_client_status(ids[0], "complete");
  for (std::string task : {"../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e",
                           "t%00x", "SECRETS", "t/../../x"}) {
    auto r = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=" + task);
    EXPECT_GE(r.status, 400) << task << ": " << r.body;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << task;
    EXPECT_NE(r.json().value("error", ""), "") << task << ": " << r.body;
  }
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

// The alloc id is a path segment: encoded dots, slashes and NULs there name no alloc, on
// every endpoint that takes one, and nothing of the host is served.
TEST(LogsApi, EncodedAllocIdsClimbNowhere) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(sh_job("climbid", "batch", "echo hi"));
  agent->wait_client_status(ids[0], "complete");
  const std::vector<std::string> allocs = {"..%2f..%2f..%2fetc%2fpasswd", "%2e%2e", "%2e%2e%2f%2e%2e", "..",
                                           ids[0] + "%2f..%2f..", ids[0] + "%00", "%252e%252e"};
  for (const auto& alloc : allocs) {
    for (const std::string& path : std::vector<std::string>{"/v1/client/fs/logs/" + alloc + "?task=t", "/v1/allocation/" + alloc,
                             "/v1/client/allocation/" + alloc + "/stats",
                             "/v1/client/fs/ls/" + alloc + "?path=/", "/v1/client/fs/cat/" + alloc + "?path=t/local/x"}) {
      auto r = raw_get(*agent, path);
      ASSERT_TRUE(r) << path;
      EXPECT_GE(r->status, 400) << path << ": " << r->body;
      EXPECT_LT(r->status, 500) << path << ": " << r->body;
      EXPECT_EQ(r->body.find("root:"), std::string::npos) << path;
    }
  }
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

TEST(LogsApi, TaskOutputIsServedAsPlainTextWithNosniff) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(sh_job("html", "batch", "echo '<html><script>alert(1)</script></html>'"));
  agent->wait_client_status(ids[0], "complete");
  auto r = raw_get(*agent, "/v1/client/fs/logs/" + ids[0] + "?task=t");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("<script>"), std::string::npos);
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/plain", 0), 0u) << r->get_header_value("Content-Type");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
}

TEST(JobNames, NamesWithSlashDotDotNulOrTooLongAreRefusedNamingTheField) {
  auto agent = AgentProcess::start();
  const std::string long_name(129, 'a');
  for (const std::string& bad : std::vector<std::string>{"../../etc", "a/b", "..", long_name}) {
    expect_refused_naming(*agent, sh_job("\"" + bad + "\"", "batch", "true"), "id");
    expect_refused_naming(*agent, sh_job("j", "batch", "true", "t", "\"" + bad + "\""), "groups[0].name");
    expect_refused_naming(*agent, sh_job("j", "batch", "true", "\"" + bad + "\""), "groups[0].tasks[0].name");
  }
  // NUL can only travel in JSON: Nomad's JSON job format.
  std::string nul_job =
      R"({"Job": {"ID": "a\u0000b", "Type": "batch", "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t\u0000x",)"
      R"( "Driver": "raw_exec", "Config": {"command": "/bin/true"}}]}]}})";
  auto r = agent->post("/v1/jobs", nul_job, "application/json");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(agent->get("/v1/allocations").json().empty());
  EXPECT_FALSE(std::filesystem::exists(agent->data_dir() + "/etc"));
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

TEST(JobNames, ReservedTaskNamesAreRefused) {
  auto agent = AgentProcess::start();
  for (std::string name : {"alloc", "local", "secrets", "tmp"})
    expect_refused_naming(*agent, sh_job("j", "batch", "true", name), "groups[0].tasks[0].name");
  EXPECT_TRUE(agent->get("/v1/allocations").json().empty());
}

TEST(JobApi, OversizedBodyGets413AndTheAgentKeepsAnswering) {
  auto agent = AgentProcess::start({.config_yaml = "max_request_bytes: 4096\n"});
  auto r = agent->post("/v1/jobs", std::string(64 * 1024, 'x'));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.json().value("error", ""), "");
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

TEST(JobApi, DeeplyNestedJsonAndYamlAreRefusedQuickly) {
  auto agent = AgentProcess::start();
  const int depth = 100000;
  std::vector<std::pair<std::string, std::string>> bodies = {
      {std::string(depth, '[') + std::string(depth, ']'), "application/json"},
      {"{\"Job\": " + std::string(depth, '[') + std::string(depth, ']') + "}", "application/json"},
      {"job: " + std::string(depth, '[') + std::string(depth, ']'), "application/yaml"},
      {"job:\n" + [] {
         std::string s;
         for (int i = 0; i < 2000; ++i) s += std::string(i + 1, ' ') + "- \n";
         return s;
       }(), "application/yaml"},
      {"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
       "job: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n", "application/yaml"}};
  for (const auto& [body, type] : bodies) {
    auto start = std::chrono::steady_clock::now();
    auto r = agent->post("/v1/jobs", body, type);
    auto took = std::chrono::steady_clock::now() - start;
    // Refused either way: 400 for what was parsed, 413 for a body over the size cap.
    EXPECT_TRUE(r.status == 400 || r.status == 413) << r.status << " " << body.substr(0, 40) << ": " << r.body.substr(0, 300);
    EXPECT_NE(r.json().value("error", ""), "") << r.body.substr(0, 300);
    EXPECT_LT(took, std::chrono::seconds(3)) << body.substr(0, 40);
    ASSERT_EQ(agent->get("/v1/agent/health").status, 200) << "agent down after " << body.substr(0, 40);
  }
}

TEST(RawExec, DisabledDriverRefusesEveryStart) {
  auto agent = AgentProcess::start({.dev = false, .config_yaml = "plugin:\n  raw_exec:\n    enabled: false\n"});
  auto r = agent->post("/v1/jobs", sh_job("j", "batch", "touch /tmp/drover-hostile-should-not-exist"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("raw_exec"), std::string::npos) << r.body;
  EXPECT_TRUE(agent->get("/v1/allocations").json().empty());
  EXPECT_FALSE(std::filesystem::exists("/tmp/drover-hostile-should-not-exist"));
}

TEST(TaskEnv, AgentTokensAndCloudCredentialsDoNotReachTasks) {
  const std::vector<std::pair<const char*, const char*>> secrets = {
      {"DROVER_TOKEN", "drover-token-sentinel"}, {"NOMAD_TOKEN", "nomad-token-sentinel"},
      {"AWS_SECRET_ACCESS_KEY", "aws-sentinel"}, {"VAULT_TOKEN", "vault-sentinel"},
      {"GOOGLE_APPLICATION_CREDENTIALS", "/gcp-sentinel.json"}};
  for (const auto& [k, v] : secrets) setenv(k, v, 1);
  auto agent = AgentProcess::start();
  for (const auto& [k, v] : secrets) unsetenv(k);
  auto ids = agent->submit(sh_job("env", "batch", "env; echo END"));
  agent->wait_client_status(ids[0], "complete");
  auto out = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body;
  ASSERT_NE(out.find("END"), std::string::npos) << out;
  ASSERT_NE(out.find("NOMAD_ALLOC_DIR"), std::string::npos) << out;
  for (const auto& [k, v] : secrets) EXPECT_EQ(out.find(v), std::string::npos) << k << " reached the task";
}

TEST(Cgroups, ForkBombIsContainedByTheDefaultPidsLimit) {
  auto agent = AgentProcess::start({.config_yaml = "default_pids_max: 40\n"});
  auto ids = agent->submit(sh_job(
      "bomb", "service",
      "exec perl -e 'while (1) { my $p = fork(); if (defined $p && $p == 0) { sleep 30; exit 0 } "
      "select(undef, undef, undef, 0.005) }'"));
  agent->wait_client_status(ids[0], "running");
  auto cg = drover::testing::task_cgroup_dir(agent->cgroup_parent(), "pids", ids[0] + ".t");
  // It forks until the limit holds it (however long perl takes to start): never past it,
  // counted as the processes in the cgroup (processes_in_cgroup says why not pids.current).
  int current = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int after = 0; after < 20 && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
    current = std::max(current, drover::testing::processes_in_cgroup(cg));
    if (current >= 30) ++after;  // a few more looks once it is there
  }
  EXPECT_LE(current, 40);
  EXPECT_GE(current, 30) << "the bomb never reached the limit";
  EXPECT_EQ(drover::testing::read_file(cg + "/pids.max"), "40\n");
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
  ASSERT_EQ(agent->del("/v1/job/bomb").status, 200);
  agent->wait_client_status(ids[0], "complete");
  EXPECT_FALSE(std::filesystem::exists(cg));
}

// A job's meta is anyone's text, and interpolation happens at run time, after the submit's
// checks: `${NOMAD_META_x}` climbing out of the task dir in a template's destination or
// source, or an artifact's destination, fails the task naming the field, and nothing is
// written or read outside its alloc dir, even where the target dir exists.
TEST(Interpolation, MetaClimbingOutOfTheTaskDirIsRefusedAtRunTime) {
  auto outside = make_temp_dir("drover-hostile-meta");
  std::string secret;
  const std::string secret_file = planted_secret(&secret);
  write_file(outside + "/allowed.conf", "from-allowed\n");
  AgentProcess::Options opts;
  opts.config_yaml = "artifact:\n  file_allowed_dirs: [" + outside + "]\n";
  auto agent = AgentProcess::start(opts);
  std::string climb;
  for (int i = 0; i < 24; ++i) climb += "../";
  auto job = [&](const std::string& id, const std::string& meta, const std::string& task_extra) {
    return "job:\n  id: " + id + "\n  type: batch\n  meta: {dir: \"" + meta +
           "\"}\n  groups:\n    - name: g\n      restart: {attempts: 0, mode: fail}\n"
           "      tasks:\n        - name: t\n          driver: raw_exec\n"
           "          config: {command: /bin/sh, args: [\"-c\", \"cat local/* 2>/dev/null; true\"]}\n" +
           task_extra;
  };
  struct Case {
    std::string id, meta, extra, field;
  };
  const std::vector<Case> cases = {
      {"tdest", climb + outside.substr(1),
       "          templates: [{data: \"written\", destination: \"${NOMAD_META_dir}/escaped\"}]\n",
       "destination"},
      {"tsrc", climb + secret_file.substr(1),
       "          templates: [{source: \"${NOMAD_META_dir}\", destination: local/out}]\n", "source"},
      {"adest", climb + outside.substr(1),
       "          artifacts: [{source: \"file://" + outside + "/allowed.conf\", destination: "
       "\"${NOMAD_META_dir}/art\", mode: file}]\n",
       "destination"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    auto r = agent->post("/v1/jobs", job(c.id, c.meta, c.extra));
    ASSERT_EQ(r.status, 200) << r.body;  // meta is only text at submit
    const std::string id = r.json()["AllocIDs"][0];
    auto a = agent->wait_client_status(id, "failed", std::chrono::seconds(30));
    std::string messages;
    for (const auto& e : a["TaskStates"]["t"]["Events"]) messages += e.value("DisplayMessage", "") + "\n";
    EXPECT_NE(messages.find(c.field), std::string::npos) << messages;
    EXPECT_NE(messages.find("escapes the alloc dir"), std::string::npos) << messages;
    EXPECT_EQ(agent->get("/v1/client/fs/logs/" + id + "?task=t").body.find(secret), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(outside + "/escaped"));
  EXPECT_FALSE(std::filesystem::exists(outside + "/art"));
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}
