// A server's /v1/event/stream and /v1/metrics with real processes (etcd, a server, an agent):
// a user following the stream sees the job registered and its alloc turning running, can
// resume from an index, and the metrics count the job and its alloc.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "agent_process.hpp"
#include "cluster_processes.hpp"

using drover::testing::AgentProcess;
using drover::testing::EtcdProcess;
using drover::testing::eventually;
using drover::testing::ServerProcess;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Follows a server's event stream in a thread, keeping every event it sent.
class StreamReader {
 public:
  StreamReader(const ServerProcess& s, const std::string& query)
      : client_(drover::testing::api_client(s.address(), "", 60)) {
    thread_ = std::thread([this, query] {
      std::string buf;
      client_->Get(
          ("/v1/event/stream" + query).c_str(),
          [this](const httplib::Response&) {
            open_ = true;
            return true;
          },
          [&](const char* data, size_t len) {
        buf.append(data, len);
        for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
          auto frame = json::parse(buf.substr(0, nl), nullptr, false);
          if (!frame.is_object() || !frame.contains("Events")) continue;  // a heartbeat
          std::lock_guard lock(mu_);
          for (const auto& e : frame["Events"]) events_.push_back(e);
        }
        return !stop_;
      });
    });
  }
  ~StreamReader() {
    stop_ = true;
    client_->stop();
    thread_.join();
  }
  // Once the reply's head came: the stream's start revision was read before it was sent.
  bool open() const { return open_; }
  // The first event of this type whose payload matches, or null.
  json find(const std::string& type, const std::function<bool(const json&)>& pred) const {
    std::lock_guard lock(mu_);
    for (const auto& e : events_)
      if (e.value("Type", "") == type && pred(e["Payload"])) return e;
    return nullptr;
  }
  std::string dump() const {
    std::lock_guard lock(mu_);
    return json(events_).dump(1);
  }

 private:
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, open_{false};
  mutable std::mutex mu_;
  std::vector<json> events_;
};

std::string sleeper(const std::string& id) {
  return "job:\n  id: " + id +
         "\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
         "          driver: raw_exec\n          kill_timeout: 1s\n"
         "          config:\n            command: /bin/sh\n"
         "            args: [\"-c\", \"exec sleep 300\"]\n"
         "          resources:\n            cpu: 50\n            memory: 32\n";
}

}  // namespace

TEST(ClusterEvents, TheStreamShowsAJobRegisteredAndItsAllocRunningAndMetricsCountThem) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  const std::string etcd_block =
      "etcd:\n  endpoints: [\"" + etcd.endpoint() + "\"]\n  prefix: /drover\n";
  AgentProcess::Options o;
  o.config_yaml = "upstream:\n  backend: etcd\n  " +
                  std::string("etcd:\n    endpoints: [\"") + etcd.endpoint() +
                  "\"]\n    prefix: /drover\n    heartbeat_ttl: 3s\n";
  auto agent = AgentProcess::start(o);
  auto server = ServerProcess::start("s1", "leader_ttl: 3s\n" + etcd_block);
  ASSERT_TRUE(eventually(
      [&] {
        auto nodes = server->get("/v1/nodes").json();
        return nodes.is_array() && nodes.size() == 1;
      },
      20s));

  auto is_web = [](const json& p) { return p["Job"].value("ID", "") == "web"; };
  auto web_running = [](const json& p) {
    return p["Allocation"].value("ClientStatus", "") == "running";
  };
  json registered;
  {
    StreamReader stream(*server, "?topic=Job&topic=Allocation");
    ASSERT_TRUE(eventually([&] { return stream.open(); }, 10s));
    auto r = server->post("/v1/jobs", sleeper("web"));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(eventually([&] { return !stream.find("JobRegistered", is_web).is_null(); }, 20s))
        << stream.dump();
    ASSERT_TRUE(
        eventually([&] { return !stream.find("AllocationUpdated", web_running).is_null(); }, 30s))
        << stream.dump() << agent->log();
    registered = stream.find("JobRegistered", is_web);
    EXPECT_EQ(registered.value("Topic", ""), "job");
    EXPECT_EQ(registered.value("Key", ""), "web");
    EXPECT_TRUE(stream.find("EvaluationUpdated", [](const json&) { return true; }).is_null())
        << "filtered out: not asked for";
  }
  // Resuming from the registration's index (its etcd revision) replays it and what followed.
  const auto index = registered.value("Index", 0);
  ASSERT_GT(index, 0);
  {
    StreamReader resumed(*server, "?index=" + std::to_string(index) + "&topic=job:web");
    ASSERT_TRUE(eventually([&] { return !resumed.find("JobRegistered", is_web).is_null(); }, 10s))
        << resumed.dump();
    EXPECT_EQ(resumed.find("JobRegistered", is_web).value("Index", 0), index);
  }
  auto bad = server->get("/v1/event/stream?topic=Bogus");
  EXPECT_EQ(bad.status, 400);

  auto metrics = server->get("/v1/metrics?format=prometheus");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("drover_server_leader 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("drover_server_jobs{status=\"running\"} 1"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("drover_server_allocs{client_status=\"running\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("drover_server_nodes{eligibility=\"eligible\",status=\"ready\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_EQ(metrics.body.find("drover_server_plan_commits_total 0\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("drover_server_plan_commit_last_seconds"), std::string::npos);
  EXPECT_EQ(server->get("/v1/metrics?format=json").status, 400);
  server->del("/v1/job/web");
  // A stream open on a stopping server ends with it: SIGTERM is not held up by the watch.
  StreamReader open_stream(*server, "");
  ASSERT_TRUE(eventually([&] { return open_stream.open(); }, 10s));
  const auto t0 = std::chrono::steady_clock::now();
  server->kill(SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  server.reset();
  agent.reset();
}
