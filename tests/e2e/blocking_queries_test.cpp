// Nomad's blocking queries on the allocation endpoints, end to end: a read with ?index= waits
// for the next change past it and answers with it; X-Nomad-Index is the index to ask with
// next; a query that is not understood is a 400; and waiting queries never take every worker.
#include <gtest/gtest.h>
#include <httplib.h>

#include <csignal>
#include <future>
#include <thread>
#include <vector>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string job(const std::string& id) {
  return "job:\n  id: " + id +
         "\n  type: service\n  groups:\n    - name: g\n      update: {health_check: manual}\n"
         "      tasks:\n        - name: t\n          driver: raw_exec\n          kill_timeout: 1s\n"
         "          config:\n            command: /bin/sleep\n            args: [\"60\"]\n";
}

struct Reply {
  int status = 0;
  std::uint64_t index = 0;  // X-Nomad-Index
  json body;
};

// A GET on a connection of its own (a blocking query holds it); read timeout 90 s.
Reply get(const AgentProcess& agent, const std::string& path) {
  auto c = drover::testing::api_client(agent.address(), "", 90);
  auto r = c->Get(path);
  Reply out;
  if (!r) return out;
  out.status = r->status;
  if (r->has_header("X-Nomad-Index")) out.index = std::stoull(r->get_header_value("X-Nomad-Index"));
  out.body = json::parse(r->body, nullptr, false);
  return out;
}

json running(const AgentProcess& agent, const std::string& id) {
  return agent.wait_alloc(id, [](const json& a) { return a["ClientStatus"] == "running"; });
}

}  // namespace

TEST(BlockingQueries, AnAllocReadWithItsIndexAnswersWithItsNextChange) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("watched"));
  running(*agent, ids[0]);
  auto now = get(*agent, "/v1/allocation/" + ids[0]);
  ASSERT_EQ(now.status, 200);
  const auto index = now.body["ModifyIndex"].get<std::uint64_t>();
  EXPECT_EQ(now.index, index) << "X-Nomad-Index is the alloc's ModifyIndex";
  EXPECT_GE(index, now.body["CreateIndex"].get<std::uint64_t>());

  auto next = std::async(std::launch::async, [&] {
    return get(*agent, "/v1/allocation/" + ids[0] + "?index=" + std::to_string(index) + "&wait=60s");
  });
  ASSERT_EQ(agent->post("/v1/client/allocation/" + ids[0] + "/stop", "").status, 200);
  auto changed = next.get();
  ASSERT_EQ(changed.status, 200);
  EXPECT_GT(changed.body["ModifyIndex"].get<std::uint64_t>(), index) << changed.body.dump(2);
  EXPECT_EQ(changed.body["DesiredStatus"], "stop") << "the change it waited for";
  EXPECT_EQ(changed.index, changed.body["ModifyIndex"].get<std::uint64_t>());
}

TEST(BlockingQueries, AQuietAllocIsAnsweredAsItIsOnceTheWaitIsOver) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("quiet"));
  running(*agent, ids[0]);
  auto now = get(*agent, "/v1/allocation/" + ids[0]);
  const auto t0 = std::chrono::steady_clock::now();
  auto same = get(*agent, "/v1/allocation/" + ids[0] + "?index=" + std::to_string(now.index) +
                              "&wait=1s");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms) << "it waited";
  ASSERT_EQ(same.status, 200);
  EXPECT_EQ(same.index, now.index);
  EXPECT_EQ(same.body["ClientStatus"], "running");
}

// The node's index starts at the agent's start time (runner/alloc_index.hpp): an index a
// client got before the agent restarted is behind the new agent's, so its query answers at
// once with the alloc as the new agent has it, rather than hanging until its wait is over.
TEST(BlockingQueries, AnIndexFromBeforeAnAgentRestartIsBehindTheNewAgents) {
  auto dir = drover::testing::make_temp_dir("drover-index");
  std::string id;
  std::uint64_t before = 0;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    id = agent->submit(job("kept"))[0];
    running(*agent, id);
    // Many changes before the restart: the index counts them on top of its start.
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(agent->post("/v1/client/allocation/" + id + "/restart", R"({"TaskName":"t"})",
                          "application/json").status,
              200);
      agent->wait_alloc(id, [&](const json& a) {
        return a["TaskStates"]["t"]["Restarts"].get<int>() > i && a["ClientStatus"] == "running";
      });
    }
    before = get(*agent, "/v1/allocation/" + id).index;
    agent->kill(SIGKILL);
  }
  auto agent = AgentProcess::start({.data_dir = dir});
  auto after = get(*agent, "/v1/allocation/" + id + "?index=" + std::to_string(before) + "&wait=60s");
  ASSERT_EQ(after.status, 200);
  EXPECT_GT(after.index, before);
  EXPECT_GT(get(*agent, "/v1/allocations").index, before);
  EXPECT_EQ(after.body["ClientStatus"], "running") << "recovered, not restarted";
}

TEST(BlockingQueries, TheAllocListsAnswerOnceANewAllocIsPlaced) {
  auto agent = AgentProcess::start();
  auto first = agent->submit(job("one"));
  running(*agent, first[0]);
  auto list = get(*agent, "/v1/allocations");
  ASSERT_EQ(list.status, 200);
  ASSERT_GT(list.index, 0u);
  auto of_job = get(*agent, "/v1/job/one/allocations");
  ASSERT_EQ(of_job.status, 200);

  auto next = std::async(std::launch::async, [&] {
    return get(*agent, "/v1/allocations?index=" + std::to_string(list.index) + "&wait=60s");
  });
  auto job_next = std::async(std::launch::async, [&] {
    return get(*agent, "/v1/job/one/allocations?index=" + std::to_string(of_job.index) + "&wait=60s");
  });
  auto second = agent->submit(job("two"));
  auto changed = next.get();
  ASSERT_EQ(changed.status, 200);
  EXPECT_GT(changed.index, list.index);
  bool has_second = false;
  for (const auto& a : changed.body) has_second = has_second || a["ID"] == second[0];
  EXPECT_TRUE(has_second) << changed.body.dump(2);
  // The node's index moves for any alloc, as Nomad's allocs table index does.
  EXPECT_GT(job_next.get().index, of_job.index);
}

TEST(BlockingQueries, TheJobReadsAnswerOnceAJobIsSubmittedOrStopped) {
  auto agent = AgentProcess::start();
  // Running first, so that its own start moves no index while the queries below wait.
  running(*agent, agent->submit(job("first"))[0]);
  auto jobs = get(*agent, "/v1/jobs");
  ASSERT_EQ(jobs.status, 200);
  ASSERT_GT(jobs.index, 0u);
  // A parameterized job places no alloc: the job's record alone moves the index.
  auto next = std::async(std::launch::async, [&] {
    return get(*agent, "/v1/jobs?index=" + std::to_string(jobs.index) + "&wait=60s");
  });
  agent->submit("job:\n  id: template\n  type: batch\n  parameterized: {}\n  groups: [{name: g, "
                "tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]}]\n");
  auto listed = next.get();
  ASSERT_EQ(listed.status, 200);
  EXPECT_GT(listed.index, jobs.index);
  bool has_template = false;
  for (const auto& j : listed.body) has_template = has_template || j["ID"] == "template";
  EXPECT_TRUE(has_template) << listed.body.dump(2);

  auto one = get(*agent, "/v1/job/first");
  ASSERT_EQ(one.status, 200);
  auto stopped = std::async(std::launch::async, [&] {
    return get(*agent, "/v1/job/first?index=" + std::to_string(one.index) + "&wait=60s");
  });
  ASSERT_EQ(agent->del("/v1/job/first").status, 200);
  auto after = stopped.get();
  ASSERT_EQ(after.status, 200);
  EXPECT_GT(after.index, one.index);
  EXPECT_EQ(after.body["Stop"], true) << after.body.dump(2);
}

TEST(BlockingQueries, AnIndexOrWaitThatIsNotUnderstoodIsA400NamingIt) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("bad"));
  for (const std::string& path :
       {std::string("/v1/allocations?index=soon"), "/v1/allocation/" + ids[0] + "?index=-1",
        std::string("/v1/job/bad/allocations?index=1x"), std::string("/v1/services?index=abc"),
        std::string("/v1/jobs?index=1.5"), std::string("/v1/job/bad?index=")}) {
    auto r = agent->get(path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_NE(r.body.find("index"), std::string::npos) << path << ": " << r.body;
  }
  auto r = agent->get("/v1/allocations?index=1&wait=forever");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("wait: \\\"forever\\\" is not a duration"), std::string::npos) << r.body;
  // A zero with an unknown unit is refused too, not taken as a zero wait.
  r = agent->get("/v1/allocations?index=1&wait=0x");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("wait: \\\"0x\\\" is not a duration"), std::string::npos) << r.body;
}

TEST(BlockingQueries, AtMostEightWaitAtOnceAndTheAgentKeepsAnswering) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("busy"));
  running(*agent, ids[0]);
  auto now = get(*agent, "/v1/allocation/" + ids[0]);
  const std::string path =
      "/v1/allocation/" + ids[0] + "?index=" + std::to_string(now.index) + "&wait=60s";
  // Ten at once (a client may hold 12 connections): two more than may wait.
  std::vector<std::future<Reply>> queries;
  for (int i = 0; i < 10; ++i)
    queries.push_back(std::async(std::launch::async, [&] { return get(*agent, path); }));
  auto answered = [&] {
    int n = 0;
    for (auto& q : queries) n += q.wait_for(0s) == std::future_status::ready;
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (answered() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(answered(), 2) << "the two beyond the eight answer at once";
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200) << "while eight wait";

  // The change answers the eight that wait.
  ASSERT_EQ(agent->post("/v1/client/allocation/" + ids[0] + "/stop", "").status, 200);
  int unchanged = 0, changed = 0;
  for (auto& q : queries) {
    auto r = q.get();
    EXPECT_EQ(r.status, 200);
    (r.index == now.index ? unchanged : changed)++;
  }
  EXPECT_EQ(unchanged, 2);
  EXPECT_EQ(changed, 8);
}
