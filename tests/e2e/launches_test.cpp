// Periodic and parameterized jobs through the real agent: a seconds-field cron launches its
// children on time across agent restarts (SIGTERM and SIGKILL) and never twice, an agent
// down over launch times launches once, `job periodic force`, prohibit_overlap, and
// `job dispatch` with a payload and meta reaching the task, and the 400s of a bad dispatch.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using drover::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The children of `parent` as launch second -> submit time (seconds, fractional).
std::map<int64_t, double> periodic_children(const AgentProcess& agent, const std::string& parent) {
  std::map<int64_t, double> out;
  auto jobs = agent.get("/v1/jobs?prefix=" + parent + "/").json();
  for (const auto& j : jobs) {
    const std::string id = j["ID"];
    const std::string prefix = parent + "/periodic-";
    EXPECT_EQ(id.rfind(prefix, 0), 0u) << id;
    EXPECT_EQ(j["ParentID"], parent);
    out[std::stoll(id.substr(prefix.size()))] = j["SubmitTime"].get<double>() / 1e9;
  }
  return out;
}

std::map<int64_t, double> wait_children(const AgentProcess& agent, const std::string& parent,
                                        std::size_t count, std::chrono::milliseconds limit = 20s) {
  std::map<int64_t, double> seen;
  eventually([&] { return (seen = periodic_children(agent, parent)).size() >= count; }, limit);
  return seen;
}

// Standard base64 with padding, as the dispatch API takes a payload.
std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* kEveryTwoSeconds = R"(job:
  id: tick
  type: batch
  periodic:
    cron: "*/2 * * * * * *"
  groups:
    - name: g
      restart: {attempts: 0, mode: fail}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          resources: {memory: 16}
)";

}  // namespace

TEST(PeriodicJobs, ASecondsCronLaunchesOnTimeAcrossRestartsAndNeverTwice) {
  const std::string dir = make_temp_dir("periodic");
  auto agent = AgentProcess::start({.data_dir = dir});
  auto ids = agent->submit(kEveryTwoSeconds);
  EXPECT_TRUE(ids.empty()) << "a periodic job runs no allocs of its own";
  auto parent = agent->get("/v1/job/tick").json();
  EXPECT_EQ(parent["Status"], "running");
  EXPECT_GT(parent["NextPeriodicLaunch"].get<int64_t>(), 0);

  std::size_t want = 2;
  double last_seen = 0;
  for (int sig : {SIGTERM, SIGKILL}) {
    auto before = wait_children(*agent, "tick", want);
    ASSERT_GE(before.size(), want) << agent->log();
    const double down = unix_now();
    agent->kill(sig);
    agent = AgentProcess::start({.data_dir = dir});
    const double up = unix_now();
    // Two more on-time launches after the restart.
    std::map<int64_t, double> after;
    eventually(
        [&] {
          after = periodic_children(*agent, "tick");
          int since = 0;
          for (const auto& [t, submitted] : after) since += submitted >= down;
          return since >= 3;
        },
        20s);
    // Nothing launched before the restart changed or came back.
    for (const auto& [t, submitted] : before) {
      ASSERT_TRUE(after.count(t)) << t;
      EXPECT_EQ(after.at(t), submitted) << "child " << t << " was launched again";
    }
    // Launched since the restart, in launch order.
    std::vector<std::pair<int64_t, double>> fresh;
    int64_t last_before = -1;  // the last launched before the stop (maybe after `before` was read)
    for (const auto& [t, submitted] : after) {
      if (submitted >= down)
        fresh.emplace_back(t, submitted);
      else
        last_before = std::max(last_before, t);
    }
    ASSERT_GE(fresh.size(), 3u) << agent->log();
    for (const auto& [t, submitted] : fresh)
      EXPECT_GT(t, last_before) << "child " << t << " is older than the last launch";
    // The first may be the one launch for the times missed while the agent was down (named by
    // the missed time, or by the start when that was long ago); every one after it is on time:
    // on the cron's seconds, launched within the second, one per slot.
    int missed = 0;
    for (const auto& [t, submitted] : fresh)
      if (static_cast<double>(t) + 1 < up) ++missed;
    EXPECT_LE(missed, 1) << "missed launch times are caught up once, not one by one";
    for (std::size_t i = 1; i < fresh.size(); ++i) {
      const auto [t, submitted] = fresh[i];
      EXPECT_EQ(t % 2, 0) << "child " << t << " is not on the cron's seconds";
      EXPECT_GE(t - fresh[i - 1].first, 1) << "two launches in one second";
      EXPECT_GE(submitted - static_cast<double>(t), 0) << "child " << t << " launched early";
      EXPECT_LT(submitted - static_cast<double>(t), 1.9) << "child " << t << " launched late";
      last_seen = std::max(last_seen, submitted);
    }
    want = after.size() + 1;
  }
  EXPECT_GT(last_seen, 0);
}

TEST(PeriodicJobs, AnAgentDownOverSeveralLaunchTimesLaunchesOnceWhenItStarts) {
  const std::string dir = make_temp_dir("periodic-catchup");
  auto agent = AgentProcess::start({.data_dir = dir});
  agent->submit(kEveryTwoSeconds);
  ASSERT_GE(wait_children(*agent, "tick", 1).size(), 1u) << agent->log();
  agent->kill(SIGKILL);
  // Down over three launch times, and past the 5 s within which a late launch keeps its name.
  const double down = unix_now();
  while (unix_now() < down + 7) std::this_thread::sleep_for(100ms);
  agent = AgentProcess::start({.data_dir = dir});
  const double up = unix_now();
  std::map<int64_t, double> all;
  std::vector<std::pair<int64_t, double>> fresh;  // launched since the restart, in order
  int64_t last_before = -1;
  eventually(
      [&] {
        all = periodic_children(*agent, "tick");
        fresh.clear();
        for (const auto& [t, submitted] : all) {
          if (submitted >= down)
            fresh.emplace_back(t, submitted);
          else
            last_before = std::max(last_before, t);
        }
        return fresh.size() >= 3;
      },
      20s);
  ASSERT_GE(fresh.size(), 3u) << agent->log();
  // The first launch after the restart stands for all three or more missed times...
  EXPECT_GT(fresh[0].first, last_before);
  EXPECT_GE(fresh[0].second, up - 1);
  // ...and the schedule goes on from the start: none of the other missed times is launched.
  for (std::size_t i = 1; i < fresh.size(); ++i) {
    const auto [t, submitted] = fresh[i];
    EXPECT_GE(static_cast<double>(t), up - 1) << "missed time " << t << " launched too";
    EXPECT_EQ(t % 2, 0);
    EXPECT_LT(submitted - static_cast<double>(t), 1.9) << "child " << t << " launched late";
  }
}

TEST(PeriodicJobs, ForceLaunchesNowAndProhibitOverlapSkipsWhileAChildRuns) {
  auto agent = AgentProcess::start();
  // Nomad JSON, as `nomad job run -output` prints it.
  auto r = agent->post("/v1/jobs", R"({"Job": {"ID": "yearly", "Type": "batch",
      "Periodic": {"Enabled": true, "Spec": "@yearly", "SpecType": "cron", "TimeZone": "Europe/Berlin"},
      "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t", "Driver": "raw_exec",
        "Config": {"command": "/bin/sh", "args": ["-c", "echo forced $NOMAD_JOB_ID"]},
        "Resources": {"MemoryMB": 16}}]}]}})",
                       "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  auto force = agent->cli({"job", "periodic", "force", "yearly"});
  ASSERT_EQ(force.exit_code, 0) << force.out << force.err;
  auto children = agent->get("/v1/jobs?prefix=yearly/").json();
  ASSERT_EQ(children.size(), 1u);
  const std::string child = children[0]["ID"];
  EXPECT_NE(force.out.find("\"" + child + "\" launched"), std::string::npos) << force.out;
  auto allocs = agent->get("/v1/job/" + child + "/allocations").json();
  ASSERT_EQ(allocs.size(), 1u) << allocs.dump();
  std::string alloc = allocs[0]["ID"];
  agent->wait_client_status(alloc, "complete");
  auto logs = agent->cli({"alloc", "logs", alloc.substr(0, 8), "t"});
  EXPECT_EQ(logs.out, "forced " + child + "\n");
  // A child's id has a '/': the CLI finds it all the same.
  auto child_status = agent->cli({"job", "status", child});
  EXPECT_EQ(child_status.exit_code, 0) << child_status.err;
  EXPECT_NE(child_status.out.find(alloc.substr(0, 8)), std::string::npos) << child_status.out;
  // The parent lists it, as `nomad job status` does.
  auto status = agent->cli({"job", "status", "yearly"});
  EXPECT_NE(status.out.find("Previously Launched Jobs"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(child), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("Next Periodic Launch"), std::string::npos) << status.out;

  EXPECT_EQ(agent->post("/v1/job/nope/periodic/force", "{}", "application/json").status, 404);
  agent->submit(
      "job: {id: plain, type: batch, groups: [{name: g, tasks: [{name: t, driver: raw_exec, "
      "config: {command: /bin/true}}]}]}");
  auto notp = agent->post("/v1/job/plain/periodic/force", "{}", "application/json");
  EXPECT_EQ(notp.status, 400);
  EXPECT_NE(notp.body.find("is not periodic"), std::string::npos) << notp.body;

  // Every second, but each child runs 3 s: with prohibit_overlap no two children overlap.
  agent->submit(R"(job:
  id: slow
  type: batch
  periodic: {cron: "* * * * * * *", prohibit_overlap: true}
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/sleep, args: ["3"]}
          resources: {memory: 16}
)");
  auto slow = wait_children(*agent, "slow", 2, 20s);
  ASSERT_GE(slow.size(), 2u) << agent->log();
  int64_t previous = -1;
  for (const auto& [t, submitted] : slow) {
    if (previous >= 0) {
      EXPECT_GE(t - previous, 3) << "child " << t << " overlapped the one before";
    }
    previous = t;
  }
}

// Nomad allows sysbatch jobs to be periodic and parameterized: a child runs on every node,
// here this one (docs/jobspec.md, "periodic").
TEST(PeriodicJobs, ASysbatchParentLaunchesSysbatchChildren) {
  auto agent = AgentProcess::start();
  agent->submit(R"(job:
  id: sweep
  type: sysbatch
  periodic: {cron: "@yearly"}
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/sh, args: ["-c", "echo swept $NOMAD_JOB_ID"]}
          resources: {memory: 16}
)");
  auto force = agent->cli({"job", "periodic", "force", "sweep"});
  ASSERT_EQ(force.exit_code, 0) << force.out << force.err;
  auto children = agent->get("/v1/jobs?prefix=sweep/").json();
  ASSERT_EQ(children.size(), 1u) << children.dump();
  const std::string child = children[0]["ID"];
  EXPECT_EQ(agent->get("/v1/job/" + child).json()["Type"], "sysbatch");
  auto allocs = agent->get("/v1/job/" + child + "/allocations").json();
  ASSERT_EQ(allocs.size(), 1u) << allocs.dump();
  const std::string alloc = allocs[0]["ID"];
  agent->wait_client_status(alloc, "complete");
  EXPECT_EQ(agent->cli({"alloc", "logs", alloc.substr(0, 8), "t"}).out, "swept " + child + "\n");
}

TEST(DispatchJobs, PayloadAndMetaReachTheTaskFromAnHclJob) {
  auto agent = AgentProcess::start();
  const std::string dir = make_temp_dir("dispatch");
  write_file(dir + "/report.nomad.hcl", R"(job "report" {
  type = "batch"
  meta {
    format = "text"
  }
  parameterized {
    payload       = "required"
    meta_required = ["customer"]
    meta_optional = ["format"]
  }
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "cat ${NOMAD_TASK_DIR}/in/payload.txt; echo; echo customer=$NOMAD_META_customer format=$NOMAD_META_format"]
      }
      dispatch_payload {
        file = "in/payload.txt"
      }
      resources {
        memory = 16
      }
    }
  }
}
)");
  auto run = agent->cli({"job", "run", dir + "/report.nomad.hcl"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(agent->get("/v1/job/report/allocations").json().empty())
      << "a parameterized job runs nothing until dispatched";
  EXPECT_EQ(agent->get("/v1/job/report").json()["Status"], "running");

  write_file(dir + "/payload.txt", "hello payload");
  auto d = agent->cli(
      {"job", "dispatch", "-detach", "-meta", "customer=acme", "report", dir + "/payload.txt"});
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  auto at = d.out.find("report/dispatch-");
  ASSERT_NE(at, std::string::npos) << d.out;
  const std::string child = d.out.substr(at, d.out.find('\n', at) - at);
  // <job>/dispatch-<unix>-<8 hex>
  ASSERT_EQ(child.size(), std::string("report/dispatch-").size() + 10 + 1 + 8) << child;
  auto job = agent->get("/v1/job/" + child).json();
  EXPECT_EQ(job["ParentID"], "report");
  EXPECT_EQ(job["Dispatched"], true);
  auto allocs = agent->get("/v1/job/" + child + "/allocations").json();
  ASSERT_EQ(allocs.size(), 1u);
  std::string alloc = allocs[0]["ID"];
  auto a = agent->wait_client_status(alloc, "complete");
  auto logs = agent->cli({"alloc", "logs", alloc.substr(0, 8), "t"});
  EXPECT_EQ(logs.out, "hello payload\ncustomer=acme format=text\n") << a.dump(2);
  auto status = agent->cli({"job", "status", "report"});
  EXPECT_NE(status.out.find("Dispatched Jobs"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(child), std::string::npos) << status.out;

  // The API, with meta overriding the job's and a payload from stdin-less JSON.
  auto api = agent->post(
      "/v1/job/report/dispatch",
      json{{"Payload", base64("via api")}, {"Meta", {{"customer", "globex"}, {"format", "csv"}}}}
          .dump(),
      "application/json");
  ASSERT_EQ(api.status, 200) << api.body;
  auto second = api.json();
  ASSERT_EQ(second["AllocIDs"].size(), 1u);
  agent->wait_client_status(second["AllocIDs"][0], "complete");
  auto logs2 =
      agent->cli({"alloc", "logs", second["AllocIDs"][0].get<std::string>().substr(0, 8), "t"});
  EXPECT_EQ(logs2.out, "via api\ncustomer=globex format=csv\n");
}

TEST(DispatchJobs, ABadDispatchIsA400NamingWhatIsWrong) {
  auto agent = AgentProcess::start();
  agent->submit(R"(job:
  id: strict
  type: batch
  parameterized: {payload: required, meta_required: [customer]}
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]}]
)");
  agent->submit(R"(job:
  id: nopayload
  type: batch
  parameterized: {payload: forbidden}
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]}]
)");
  auto dispatch = [&](const std::string& job, const json& body) {
    return agent->post("/v1/job/" + job + "/dispatch", body.dump(), "application/json");
  };
  auto error_of = [](const drover::testing::HttpReply& r) {
    return r.json().value("error", std::string());
  };
  auto missing = dispatch("strict", {{"Meta", {{"region", "eu"}}}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(error_of(missing).find("Payload: is required"), std::string::npos) << missing.body;
  EXPECT_NE(error_of(missing).find("Meta.customer: is required"), std::string::npos)
      << missing.body;
  EXPECT_NE(error_of(missing).find("Meta.region: this job does not take it"), std::string::npos)
      << missing.body;
  auto forbidden = dispatch("nopayload", {{"Payload", base64("x")}});
  EXPECT_EQ(forbidden.status, 400);
  EXPECT_NE(error_of(forbidden).find("Payload: this job takes no payload"), std::string::npos)
      << forbidden.body;
  auto big = dispatch("strict", {{"Payload", base64(std::string(16 * 1024 + 1, 'x'))},
                                 {"Meta", {{"customer", "a"}}}});
  EXPECT_EQ(big.status, 400);
  EXPECT_NE(error_of(big).find("Payload: is 16385 bytes; the limit is 16384"), std::string::npos)
      << big.body;
  auto not_b64 = dispatch("strict", {{"Payload", "***"}});
  EXPECT_EQ(not_b64.status, 400);
  EXPECT_NE(error_of(not_b64).find("Payload: is not base64"), std::string::npos);
  EXPECT_EQ(dispatch("nope", json::object()).status, 404);
  auto periodic = agent->submit(kEveryTwoSeconds);
  auto notp = dispatch("tick", json::object());
  EXPECT_EQ(notp.status, 400);
  EXPECT_NE(error_of(notp).find("is not a parameterized job"), std::string::npos);
  // Nothing was dispatched by any of them.
  EXPECT_TRUE(agent->get("/v1/jobs?prefix=strict/").json().empty());
  EXPECT_TRUE(agent->get("/v1/jobs?prefix=nopayload/").json().empty());
  // The CLI says the same and exits 1.
  auto cli = agent->cli({"job", "dispatch", "strict"});
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_NE(cli.err.find("Meta.customer: is required"), std::string::npos) << cli.out << cli.err;
}

TEST(DispatchJobs, ARetryWithItsIdempotencyTokenDispatchesNothingNewAndAPrefixNamesTheChild) {
  auto agent = AgentProcess::start();
  agent->submit(R"(job:
  id: nightly
  type: batch
  parameterized: {payload: forbidden}
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]}]
)");
  // -id-prefix-template goes into the child's ID, as Nomad's does.
  auto first = agent->cli({"job", "dispatch", "-detach", "-idempotency-token", "run-2026-12-08",
                           "-id-prefix-template", "manual", "nightly"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  auto children = agent->get("/v1/jobs?prefix=nightly/").json();
  ASSERT_EQ(children.size(), 1u) << children.dump();
  const std::string child = children[0].value("ID", "");
  EXPECT_EQ(child.rfind("nightly/dispatch-manual-", 0), 0u) << child;
  EXPECT_NE(first.out.find(child), std::string::npos) << first.out;
  // The same token again (a retried request): the same child answers, no second one runs.
  auto again = agent->post("/v1/job/nightly/dispatch",
                           json{{"IdempotencyToken", "run-2026-12-08"}}.dump(), "application/json");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json().value("DispatchedJobID", ""), child);
  EXPECT_EQ(agent->get("/v1/jobs?prefix=nightly/").json().size(), 1u);
  // Another token is another dispatch.
  ASSERT_EQ(agent->post("/v1/job/nightly/dispatch", json{{"IdempotencyToken", "other"}}.dump(),
                        "application/json")
                .status,
            200);
  EXPECT_EQ(agent->get("/v1/jobs?prefix=nightly/").json().size(), 2u);
  // A prefix that is no plain name would climb out of the child's folder: refused.
  auto bad = agent->post("/v1/job/nightly/dispatch",
                         json{{"IdPrefixTemplate", "../x"}}.dump(), "application/json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.json().value("error", "").find("IdPrefixTemplate: "), std::string::npos) << bad.body;
  EXPECT_EQ(agent->get("/v1/jobs?prefix=nightly/").json().size(), 2u);
}

TEST(DispatchJobs, APayloadIsNeverWrittenThroughALinkTheTaskPlanted) {
  auto agent = AgentProcess::start();
  const std::string outside = make_temp_dir("outside");
  // The first run swaps local/in for a link to a dir outside the alloc dir and fails; the
  // restart must not write the payload through it.
  agent->submit(R"(job:
  id: planter
  type: batch
  parameterized: {payload: required}
  groups:
    - name: g
      restart: {attempts: 1, delay: 0s, interval: 10s, mode: fail}
      tasks:
        - name: t
          driver: raw_exec
          dispatch_payload: {file: in/payload.txt}
          config:
            command: /bin/sh
            args: ["-c", "if [ -L \"$NOMAD_TASK_DIR/in\" ]; then exit 0; fi; rm -rf \"$NOMAD_TASK_DIR/in\"; ln -s )" +
                outside + R"( \"$NOMAD_TASK_DIR/in\"; exit 1"]
          resources: {memory: 16}
)");
  auto r = agent->post("/v1/job/planter/dispatch", json{{"Payload", base64("secret")}}.dump(),
                       "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string alloc = r.json()["AllocIDs"][0];
  auto a = agent->wait_client_status(alloc, "failed");
  EXPECT_FALSE(std::filesystem::exists(outside + "/payload.txt"))
      << "the payload was written outside the alloc dir";
  EXPECT_NE(a.dump().find("dispatch_payload"), std::string::npos) << a.dump(2);
}
