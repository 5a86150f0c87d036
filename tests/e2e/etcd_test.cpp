// Cluster mode against a real etcd (Debian's etcd-server on loopback ports, a temp data dir):
// a desired alloc written with etcdctl runs and its status and health appear under the status
// key; deleting the key stops it; an etcd outage loses nothing; the node key goes with its
// lease when the agent is SIGKILLed.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <iterator>
#include <thread>
#include <vector>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// One etcd member on loopback; stop() and start() again keep its data.
class Etcd {
 public:
  Etcd()
      : dir_(drover::testing::make_temp_dir("drover-etcd")),
        client_(drover::testing::free_loopback_port()),
        peer_(drover::testing::free_loopback_port()) {}
  ~Etcd() {
    stop();
    std::error_code ec;  // its data dir holds a 64 MB WAL and more: never leave it behind
    std::filesystem::remove_all(dir_, ec);
  }
  bool start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string c = "http://127.0.0.1:" + std::to_string(client_);
      std::string p = "http://127.0.0.1:" + std::to_string(peer_);
      std::string log = dir_ + "/etcd.log";
      FILE* f = ::freopen(log.c_str(), "a", stderr);
      (void)f;
      std::vector<std::string> args = {"etcd", "--name", "t", "--data-dir", dir_ + "/data",
                                       "--listen-client-urls", c, "--advertise-client-urls", c,
                                       "--listen-peer-urls", p, "--initial-advertise-peer-urls", p,
                                       "--initial-cluster", "t=" + p};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("etcd", argv.data());
      _exit(127);
    }
    for (int i = 0; i < 100; ++i) {
      if (ctl("endpoint health 2>&1").find("is healthy") != std::string::npos) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(client_); }
  std::string ctl(const std::string& args) const {
    return sh("ETCDCTL_API=3 etcdctl --endpoints=" + endpoint() +
              (user_.empty() ? "" : " --user=" + user_) + " " + args);
  }
  // etcdctl's later calls as "<name>:<password>" (once auth is enabled).
  void login(const std::string& user) { user_ = user; }
  std::string get(const std::string& key) const {
    return ctl("get --print-value-only '" + key + "'");
  }
  void put(const std::string& key, const std::string& value) const {
    std::string f = dir_ + "/value.json";
    drover::testing::write_file(f, value);
    ctl("put '" + key + "' < " + f);
  }

 private:
  std::string dir_;
  int client_, peer_;
  pid_t pid_ = -1;
  std::string user_;
};

bool have_etcd() {
  return ::system("command -v etcd >/dev/null && command -v etcdctl >/dev/null") == 0;
}

std::string config(const Etcd& e, int ttl_s = 3) {
  return "upstream:\n  backend: etcd\n  etcd:\n    endpoints: [\"" + e.endpoint() +
         "\"]\n    prefix: /drover\n    heartbeat_ttl: " + std::to_string(ttl_s) + "s\n";
}

std::string node_id(const AgentProcess& a) { return a.get("/v1/node").json()["ID"]; }

// An agent in cluster mode on `etcd` (a 3 s heartbeat TTL).
std::unique_ptr<AgentProcess> start_agent(const Etcd& etcd) {
  AgentProcess::Options o;
  o.config_yaml = config(etcd);
  return AgentProcess::start(o);
}

// A Nomad Allocation with its Job, as a scheduler writes it.
std::string alloc_value(const std::string& id, const std::string& script) {
  json task = {{"Name", "t"},
               {"Driver", "raw_exec"},
               {"KillTimeout", 1000000000},
               {"Config", {{"command", "/bin/sh"}, {"args", {"-c", script}}}}};
  json group = {{"Name", "g"},
                {"RestartPolicy", {{"Attempts", 0}, {"Mode", "fail"}, {"Interval", 60000000000LL}}},
                {"Update",
                 {{"HealthCheck", "task_states"},
                  {"MinHealthyTime", 500000000},
                  {"HealthyDeadline", 30000000000LL}}},
                {"Tasks", {task}}};
  json job = {{"ID", "web"}, {"Type", "service"}, {"TaskGroups", {group}}};
  return json{{"ID", id}, {"Name", "web.g[0]"}, {"TaskGroup", "g"}, {"Job", job}}.dump();
}

json wait_status(const Etcd& e, const std::string& key,
                 const std::function<bool(const json&)>& pred,
                 std::chrono::milliseconds timeout = 20s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  json last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto v = e.get(key);
    last = json::parse(v, nullptr, false);
    if (!last.is_discarded() && last.is_object() && pred(last)) return last;
    std::this_thread::sleep_for(200ms);
  }
  return last;
}

// The agent's node id, once its node key is in etcd.
std::string registered_node(const Etcd& etcd, const AgentProcess& agent) {
  const std::string node = node_id(agent);
  wait_status(etcd, "/drover/nodes/" + node, [](const json& j) { return j.contains("ID"); });
  return node;
}

// Gives the agent on `node` a `sleep 60` alloc `id` and says whether its status key reads
// running within `timeout`.
bool runs_an_alloc(const Etcd& etcd, const std::string& node, const std::string& id,
                   std::chrono::milliseconds timeout = 20s) {
  etcd.put("/drover/allocs/" + node + "/" + id, alloc_value(id, "sleep 60"));
  auto st = wait_status(etcd, "/drover/status/" + node + "/" + id, [](const json& j) {
    return j.value("ClientStatus", "") == "running";
  }, timeout);
  return st.value("ClientStatus", "") == "running";
}

}  // namespace

TEST(Etcd, ADesiredAllocRunsReportsHealthAndStopsWhenItsKeyGoes) {
  if (!have_etcd()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Etcd etcd;
  ASSERT_TRUE(etcd.start());
  auto agent = start_agent(etcd);
  auto node = node_id(*agent);
  auto reg =
      wait_status(etcd, "/drover/nodes/" + node, [](const json& j) { return j.contains("ID"); });
  EXPECT_EQ(reg["ID"], node) << agent->log();
  EXPECT_TRUE(reg["Drivers"].contains("raw_exec"));

  const std::string id = "11111111-2222-3333-4444-555555555555";
  etcd.put("/drover/allocs/" + node + "/" + id, alloc_value(id, "sleep 60"));
  auto st = wait_status(etcd, "/drover/status/" + node + "/" + id, [](const json& j) {
    return j["ClientStatus"] == "running" && j["DeploymentStatus"].is_object();
  });
  EXPECT_EQ(st["ClientStatus"], "running") << st.dump(2) << agent->log();
  EXPECT_TRUE(st["DeploymentStatus"]["Healthy"].get<bool>()) << st.dump(2);
  EXPECT_EQ(st["TaskStates"]["t"]["State"], "running");
  EXPECT_EQ(agent->alloc(id)["JobID"], "web");

  etcd.ctl("del /drover/allocs/" + node + "/" + id);
  st = wait_status(etcd, "/drover/status/" + node + "/" + id,
                   [](const json& j) { return j["ClientStatus"] == "complete"; });
  EXPECT_EQ(st["ClientStatus"], "complete") << st.dump(2);
  EXPECT_EQ(st["DesiredStatus"], "stop");
}

// The agent keeps its etcd connections open (its watch, and requests' kept connections): a
// task it starts inherits none of them (the monitor closes what it inherits; the client marks
// its sockets close-on-exec for every other child, such as a script check).
TEST(Etcd, ATaskInheritsNoneOfTheAgentsEtcdConnections) {
  if (!have_etcd()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Etcd etcd;
  ASSERT_TRUE(etcd.start());
  auto agent = start_agent(etcd);
  const std::string node = registered_node(etcd, *agent);
  const std::string out = drover::testing::make_temp_dir("drover-etcd-fds") + "/fds";
  const std::string id = "33333333-2222-3333-4444-555555555555";
  // What each of the shell's descriptors is, then the file is complete.
  etcd.put("/drover/allocs/" + node + "/" + id,
           alloc_value(id, "for f in /proc/$$/fd/*; do readlink $f; done > " + out +
                               ".tmp; mv " + out + ".tmp " + out + "; sleep 60"));
  std::string fds;
  ASSERT_TRUE(drover::testing::eventually(
      [&] {
        std::ifstream f(out);
        if (!f) return false;
        fds.assign(std::istreambuf_iterator<char>(f), {});
        return true;
      },
      20s))
      << agent->log();
  EXPECT_EQ(fds.find("socket:"), std::string::npos) << fds;
  etcd.ctl("del /drover/allocs/" + node + "/" + id);
}

TEST(Etcd, AnOutageLosesNoUpdateAndTheNodeRegistersAgain) {
  if (!have_etcd()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Etcd etcd;
  ASSERT_TRUE(etcd.start());
  auto agent = start_agent(etcd);
  auto node = node_id(*agent);
  const std::string id = "aaaaaaaa-2222-3333-4444-555555555555";
  // The task runs for a while, then fails: the change happens while etcd is down.
  etcd.put("/drover/allocs/" + node + "/" + id, alloc_value(id, "sleep 6; exit 4"));
  auto st = wait_status(etcd, "/drover/status/" + node + "/" + id,
                        [](const json& j) { return j["ClientStatus"] == "running"; });
  ASSERT_EQ(st["ClientStatus"], "running") << agent->log();
  etcd.stop();
  std::this_thread::sleep_for(12s);
  // Tasks went on without etcd and the agent knows the latest state.
  EXPECT_EQ(agent->alloc(id)["ClientStatus"], "failed");
  auto metrics = agent->get("/v1/metrics").body;
  EXPECT_NE(metrics.find("drover_upstream_connected 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("drover_upstream_updates_pending 1"), std::string::npos) << metrics;
  ASSERT_TRUE(etcd.start());
  st = wait_status(etcd, "/drover/status/" + node + "/" + id,
                   [](const json& j) { return j["ClientStatus"] == "failed"; });
  EXPECT_EQ(st["ClientStatus"], "failed") << st.dump(2) << agent->log();
  EXPECT_EQ(st["TaskStates"]["t"]["Events"].back()["Type"], "Not Restarting");
  // Healthy was decided (500 ms in) before the task failed, and health is final.
  EXPECT_TRUE(st["DeploymentStatus"]["Healthy"].get<bool>()) << st.dump(2);
  // The lease lapsed during the outage (TTL 3s): the node registered again.
  auto reg =
      wait_status(etcd, "/drover/nodes/" + node, [](const json& j) { return j.contains("ID"); });
  EXPECT_EQ(reg["ID"], node);
}

TEST(Etcd, TheNodeKeyGoesWithItsLeaseWhenTheAgentIsKilled) {
  if (!have_etcd()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Etcd etcd;
  ASSERT_TRUE(etcd.start());
  AgentProcess::Options o;
  o.config_yaml = config(etcd, 3);
  auto agent = AgentProcess::start(o);
  auto node = node_id(*agent);
  auto key = "/drover/nodes/" + node;
  wait_status(etcd, key, [](const json& j) { return j.contains("ID"); });
  // Still there after several TTLs: the heartbeat keeps it.
  std::this_thread::sleep_for(5s);
  EXPECT_NE(etcd.get(key), "");
  agent->kill(SIGKILL);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (etcd.get(key) != "" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(200ms);
  EXPECT_EQ(etcd.get(key), "") << "the node key outlived its lease";
}

// A placed alloc passes the same admission as a submitted job: a driver config the driver
// refuses fails the alloc before anything runs (it used to reach the driver's start).
TEST(Etcd, APlacedAllocWithABadDriverConfigIsRefusedBeforeAnythingRuns) {
  if (!have_etcd()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Etcd etcd;
  ASSERT_TRUE(etcd.start());
  auto agent = start_agent(etcd);
  const std::string node = registered_node(etcd, *agent);

  const std::string id = "22222222-2222-3333-4444-555555555555";
  auto value = json::parse(alloc_value(id, "sleep 60"));
  value["Job"]["TaskGroups"][0]["Tasks"][0]["Config"]["no_such_option"] = true;
  etcd.put("/drover/allocs/" + node + "/" + id, value.dump());
  auto st = wait_status(etcd, "/drover/status/" + node + "/" + id,
                        [](const json& j) { return j["ClientStatus"] == "failed"; });
  EXPECT_EQ(st["ClientStatus"], "failed") << st.dump(2) << agent->log();
  auto why = st.value("ClientDescription", "");
  EXPECT_NE(why.find("no_such_option"), std::string::npos) << why;
  EXPECT_TRUE(st["TaskStates"].empty()) << "nothing should have run: " << st.dump(2);
}

// An agent that was down while etcd compacted away the revision it watched from reads every
// desired alloc again (the watch fails with Errc::Gone): an alloc deleted meanwhile stops, one
// written meanwhile runs, and nothing is missed for lack of the events in between.
TEST(Etcd, AWatchFromACompactedRevisionReadsEveryDesiredAllocAgain) {
  if (!have_etcd()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Etcd etcd;
  ASSERT_TRUE(etcd.start());
  AgentProcess::Options o;
  o.config_yaml = config(etcd);
  o.data_dir = drover::testing::make_temp_dir("drover-compact");
  auto agent = AgentProcess::start(o);
  auto node = node_id(*agent);
  const std::string old_id = "33333333-2222-3333-4444-555555555555";
  const std::string new_id = "44444444-2222-3333-4444-555555555555";
  etcd.put("/drover/allocs/" + node + "/" + old_id, alloc_value(old_id, "sleep 300"));
  auto st = wait_status(etcd, "/drover/status/" + node + "/" + old_id,
                        [](const json& j) { return j["ClientStatus"] == "running"; });
  ASSERT_EQ(st["ClientStatus"], "running") << agent->log();
  agent->kill(SIGKILL);
  agent.reset();

  etcd.ctl("del /drover/allocs/" + node + "/" + old_id);
  etcd.put("/drover/allocs/" + node + "/" + new_id, alloc_value(new_id, "sleep 300"));
  // Compact up to the newest revision: the events the agent missed are gone from etcd.
  auto header = json::parse(etcd.ctl("get / --prefix --keys-only -w json"), nullptr, false);
  ASSERT_TRUE(header.is_object()) << "etcdctl get -w json";
  const auto rev = header["header"]["revision"].get<int64_t>();
  EXPECT_NE(etcd.ctl("compact " + std::to_string(rev) + " 2>&1").find("compacted revision"),
            std::string::npos);

  agent = AgentProcess::start(o);
  st = wait_status(etcd, "/drover/status/" + node + "/" + new_id,
                   [](const json& j) { return j["ClientStatus"] == "running"; });
  EXPECT_EQ(st["ClientStatus"], "running") << st.dump(2) << agent->log();
  st = wait_status(etcd, "/drover/status/" + node + "/" + old_id,
                   [](const json& j) { return j["ClientStatus"] == "complete"; });
  EXPECT_EQ(st["ClientStatus"], "complete") << st.dump(2) << agent->log();
  EXPECT_NE(agent->log().find("reading every desired alloc again"), std::string::npos)
      << "the restarted agent should have found its revision compacted:\n"
      << agent->log();
}

// The catalog in cluster mode (docs/networking.md, "Services and the catalog"): a service
// registered by one agent is seen through another on the same etcd, under
// <prefix>/services/<name>/<id>, and it goes with the first node's lease when that agent dies.
TEST(Etcd, AServiceOfOneAgentIsSeenThroughAnotherAndGoesWithItsNode) {
  if (!have_etcd()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Etcd etcd;
  ASSERT_TRUE(etcd.start());
  AgentProcess::Options o;
  o.config_yaml = config(etcd);
  auto a = AgentProcess::start(o);
  auto b = AgentProcess::start(o);
  auto ids = a->submit(
      "job:\n  id: db\n  groups:\n    - name: g\n      network:\n        ports:\n"
      "          pg: {}\n      services:\n        - name: pg\n          port: pg\n"
      "          tags: [primary]\n      tasks:\n        - name: t\n          driver: raw_exec\n"
      "          kill_timeout: 1s\n          config: {command: /bin/sleep, args: [\"600\"]}\n");
  a->wait_client_status(ids[0], "running");
  auto seen = [&](const AgentProcess& through) {
    auto list = through.get("/v1/service/pg").json();
    return list.is_array() && list.size() == 1 ? list[0] : json();
  };
  ASSERT_TRUE(drover::testing::eventually([&] { return seen(*b).is_object(); }, 10s))
      << a->log() << b->log();
  auto r = seen(*b);
  EXPECT_EQ(r["NodeID"], node_id(*a));
  EXPECT_EQ(r["AllocID"], ids[0]);
  EXPECT_EQ(r["Tags"], json({"primary"}));
  // A group service is registered with the group's main task.
  EXPECT_EQ(r["ID"], "_nomad-task-" + ids[0] + "-group-g-pg-pg");
  auto info = b->cli({"service", "info", "pg"});
  EXPECT_NE(info.out.find(node_id(*a).substr(0, 8)), std::string::npos) << info.out;
  auto key = "/drover/services/pg/" + r["ID"].get<std::string>();
  EXPECT_NE(etcd.get(key).find(ids[0]), std::string::npos);
  // A's lease revoked (as if it lapsed): the services go with it, and come back under A's new
  // lease once A registers again. A may have done so before the next look (its keepalive
  // learns of the revoke within a second), so the look asks only that the key is not under
  // the revoked lease any more.
  auto lease = json::parse(etcd.ctl("get /drover/nodes/" + node_id(*a) + " -w json"), nullptr,
                           false)["kvs"][0]["lease"];
  ASSERT_TRUE(lease.is_number()) << lease.dump();
  auto lease_of_key = [&] {  // 0: no key
    auto kvs = json::parse(etcd.ctl("get " + key + " -w json"), nullptr, false)["kvs"];
    return kvs.is_array() && !kvs.empty() ? kvs[0].value("lease", int64_t{0}) : int64_t{0};
  };
  EXPECT_EQ(lease_of_key(), lease.get<int64_t>()) << "the service is under A's node lease";
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(lease.get<int64_t>()));
  etcd.ctl(std::string("lease revoke ") + hex);
  EXPECT_NE(lease_of_key(), lease.get<int64_t>()) << "the service went with the revoked lease";
  EXPECT_TRUE(drover::testing::eventually(
      [&] {
        auto l = lease_of_key();
        return l != 0 && l != lease.get<int64_t>() && etcd.get(key).find(ids[0]) != std::string::npos;
      },
      15s))
      << a->log();
  EXPECT_TRUE(seen(*b).is_object());
  // A dies without a word: its lease (TTL 3s) takes its services with it.
  a->kill(SIGKILL);
  EXPECT_TRUE(drover::testing::eventually([&] { return seen(*b).is_null(); }, 20s))
      << seen(*b).dump();
  EXPECT_EQ(etcd.get(key), "");
  a->kill_tasks_left_behind();  // A is not started again: its sleep 600 goes
}

// etcd with authentication (docs/cluster.md, "Config": username and password): the agent logs
// in, and its token goes with every call, the watch that brings it allocs included.
TEST(Etcd, WithAuthEnabledTheAgentLogsInAndRunsWhatItIsGiven) {
  if (!have_etcd()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Etcd etcd;
  ASSERT_TRUE(etcd.start());
  for (const char* step :
       {"user add root:rootpw", "user grant-role root root", "user add agent:agentpw",
        "role add nodes", "role grant-permission nodes --prefix=true readwrite /drover/",
        "user grant-role agent nodes", "auth enable"})
    ASSERT_EQ(etcd.ctl(std::string(step) + " 2>&1").find("Error"), std::string::npos) << step;
  etcd.login("root:rootpw");
  AgentProcess::Options o;
  o.config_yaml = config(etcd) + "    username: agent\n    password: agentpw\n";
  auto agent = AgentProcess::start(o);
  const std::string node = registered_node(etcd, *agent);
  ASSERT_NE(etcd.get("/drover/nodes/" + node).find(node), std::string::npos) << agent->log();
  EXPECT_TRUE(runs_an_alloc(etcd, node, "44444444-2222-3333-4444-555555555555")) << agent->log();
  // A restarted etcd knows none of the tokens it gave: the agent logs in again, watches again
  // and runs the next alloc.
  etcd.stop();
  ASSERT_TRUE(etcd.start());
  EXPECT_TRUE(runs_an_alloc(etcd, node, "55555555-2222-3333-4444-555555555555", 40s))
      << agent->log();
  etcd.ctl("del --prefix /drover/allocs/");
}

// Endpoints are tried in turn (docs/cluster.md, "Config"): with the first one refusing
// connections, the agent registers through the second and runs what it is given there.
TEST(Etcd, AnEndpointThatRefusesIsPassedOverForTheNext) {
  if (!have_etcd()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Etcd etcd;
  ASSERT_TRUE(etcd.start());
  const std::string dead = "http://127.0.0.1:" + std::to_string(drover::testing::free_loopback_port());
  AgentProcess::Options o;
  o.config_yaml = "upstream:\n  backend: etcd\n  etcd:\n    endpoints: [\"" + dead + "\", \"" +
                  etcd.endpoint() + "\"]\n    prefix: /drover\n    heartbeat_ttl: 3s\n";
  auto agent = AgentProcess::start(o);
  const std::string node = registered_node(etcd, *agent);
  ASSERT_NE(etcd.get("/drover/nodes/" + node).find(node), std::string::npos) << agent->log();
  EXPECT_TRUE(runs_an_alloc(etcd, node, "66666666-2222-3333-4444-555555555555")) << agent->log();
  etcd.ctl("del --prefix /drover/allocs/");
}
