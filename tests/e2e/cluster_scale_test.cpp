// `drover server` at more than one etcd transaction's worth: etcd (run with its defaults)
// refuses a transaction of more than 128 operations, so a plan that places more allocs than
// that must still land whole. The nodes are keys written as an agent registers (no agents:
// placement alone is under test).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cluster_processes.hpp"
#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using drover::testing::EtcdProcess;
using drover::testing::eventually;
using drover::testing::ServerProcess;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

void register_node(const EtcdProcess& etcd, int i) {
  const std::string id = "00000000-0000-0000-0000-00000000000" + std::to_string(i);
  json node = {{"ID", id},
               {"Name", "sim-" + std::to_string(i)},
               {"Datacenter", "dc1"},
               {"NodePool", "default"},
               {"Status", "ready"},
               {"SchedulingEligibility", "eligible"},
               {"Attributes", {{"kernel.name", "linux"}, {"driver.raw_exec", "true"}}},
               {"Drivers", {{"raw_exec", {{"Detected", true}, {"Healthy", true}}}}},
               {"NodeResources", {{"Cpu", {{"CpuShares", 64000}}}, {"Memory", {{"MemoryMB", 65536}}}}}};
  // No lease: the node outlives the test's few seconds either way.
  etcd.ctl("put /drover/nodes/" + id + " '" + node.dump() + "'");
}

// etcd with `nodes` node keys and one server on it, once that leads (its /v1/status/leader
// is "" until it is elected).
struct OneServer {
  EtcdProcess etcd;
  std::unique_ptr<ServerProcess> server;
  bool start(int nodes) {
    if (!etcd.start()) return false;
    for (int i = 0; i < nodes; ++i) register_node(etcd, i);
    server = ServerProcess::start("s1", "leader_ttl: 3s\netcd:\n  endpoints: [\"" +
                                            etcd.endpoint() + "\"]\n  prefix: /drover\n");
    const bool leads = eventually(
        [&] {
          auto leader = server->get("/v1/status/leader").json();
          return leader.is_string() && !leader.get<std::string>().empty();
        },
        15s);
    EXPECT_TRUE(leads) << server->log();
    return leads;
  }
};

}  // namespace

TEST(ClusterScale, AJobOfCount300IsPlacedWholeThoughEtcdTakes128OperationsATransaction) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd is not installed";
  OneServer c;
  ASSERT_TRUE(c.start(3));
  auto& server = c.server;
  auto r = server->post("/v1/jobs",
                        "job:\n  id: wide\n  type: service\n  groups:\n    - name: g\n"
                        "      count: 300\n      tasks:\n        - name: t\n"
                        "          driver: raw_exec\n          config:\n"
                        "            command: /bin/true\n          resources:\n"
                        "            cpu: 10\n            memory: 10\n");
  ASSERT_EQ(r.status, 200) << r.body;
  std::size_t placed = 0;
  EXPECT_TRUE(eventually(
      [&] {
        auto allocs = server->get("/v1/job/wide/allocations").json();
        placed = allocs.is_array() ? allocs.size() : 0;
        return placed == 300;
      },
      30s))
      << placed << " of 300 placed\n" << server->log();
  // Each index once: the batches did not place anything twice.
  std::set<std::string> names;
  for (const auto& a : server->get("/v1/job/wide/allocations").json())
    EXPECT_TRUE(names.insert(a.value("Name", "")).second) << "placed twice: " << a.value("Name", "");
}

// Registrations that arrive together are written together (server/write_batcher.hpp), each
// still guarded by its own job key: 24 jobs registered by 8 clients at once are all placed,
// and 6 registrations of one job with 6 different specs, all at once, make versions 0 to 5,
// none written twice and none lost.
TEST(ClusterScale, RegistrationsAtOnceAreAllWrittenAndOneJobsVersionsNeverCollide) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd is not installed";
  OneServer c;
  ASSERT_TRUE(c.start(3));
  auto& server = c.server;
  auto spec = [](const std::string& id, int memory) {
    return "job:\n  id: " + id + "\n  type: service\n  groups:\n    - name: g\n      count: 1\n"
           "      tasks:\n        - name: t\n          driver: raw_exec\n          config:\n"
           "            command: /bin/true\n          resources:\n            cpu: 10\n"
           "            memory: " + std::to_string(memory) + "\n";
  };
  std::vector<std::thread> clients;
  std::atomic<int> refused{0};
  std::mutex mu;
  std::vector<std::string> evals;
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&, t] {
      for (int i = t; i < 30; i += 8) {
        // 0..23: a job each; 24..29: one job "same", each time with another memory.
        auto r = i < 24 ? server->post("/v1/jobs", spec("j" + std::to_string(i), 10))
                        : server->post("/v1/jobs", spec("same", 10 + i));
        if (r.status != 200) {
          refused++;
          continue;
        }
        std::lock_guard lock(mu);
        evals.push_back(r.json().value("EvalID", ""));
      }
    });
  for (auto& c : clients) c.join();
  EXPECT_EQ(refused.load(), 0) << server->log();
  ASSERT_EQ(evals.size(), 30u);
  for (const auto& e : evals)
    EXPECT_EQ(server->await_evaluation(e).value("Status", ""), "complete") << e;
  // An evaluation by a prefix of its id: found when the prefix is unique, a 400 when not.
  EXPECT_EQ(server->get("/v1/evaluation/" + evals[0].substr(0, 8)).json().value("ID", ""), evals[0]);
  const auto sharing = std::count_if(evals.begin(), evals.end(),
                                     [&](const std::string& e) { return e[0] == evals[0][0]; });
  EXPECT_EQ(server->get("/v1/evaluation/" + evals[0].substr(0, 1)).status, sharing > 1 ? 400 : 200);
  EXPECT_EQ(server->get("/v1/evaluation/ffffffff-no-such").status, 404);
  auto versions = server->get("/v1/job/same/versions").json();
  std::set<int> seen;
  for (const auto& v : versions.value("Versions", json::array()))
    EXPECT_TRUE(seen.insert(v.value("Version", -1)).second) << versions.dump(2);
  EXPECT_EQ(seen, (std::set<int>{0, 1, 2, 3, 4, 5})) << versions.dump(2);
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(server->get("/v1/job/j" + std::to_string(i) + "/allocations").json().size(), 1u)
        << "j" << i;
}
