// The cluster end to end with real processes on loopback: etcd, two `drover server`s, and
// agents in cluster mode, each with its own data dir, port and cgroup parent. Jobs go in
// through a server's API and CLI (the follower's, which forwards to the leader); what runs is
// read back from the servers as a user would.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
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

constexpr int kTtl = 3;  // seconds: the agents' heartbeat and the servers' leader lease

std::string server_config(const EtcdProcess& e) {
  return "leader_ttl: " + std::to_string(kTtl) + "s\netcd:\n  endpoints: [\"" + e.endpoint() +
         "\"]\n  prefix: /drover\n";
}

std::unique_ptr<AgentProcess> start_agent(const EtcdProcess& e) {
  AgentProcess::Options o;
  o.config_yaml = "upstream:\n  backend: etcd\n  etcd:\n    endpoints: [\"" + e.endpoint() +
                  "\"]\n    prefix: /drover\n    heartbeat_ttl: " + std::to_string(kTtl) + "s\n";
  return AgentProcess::start(o);
}

std::string node_id(const AgentProcess& a) { return a.get("/v1/node").json().value("ID", ""); }

std::string sleeper(const std::string& id, int count, const std::string& type = "service") {
  return "job:\n  id: " + id + "\n  type: " + type + "\n  groups:\n    - name: g\n" +
         (type == "system" ? "" : "      count: " + std::to_string(count) + "\n") +
         "      tasks:\n        - name: t\n          driver: raw_exec\n          kill_timeout: 1s\n"
         "          config:\n            command: /bin/sh\n"
         "            args: [\"-c\", \"echo started; exec sleep 300\"]\n"
         "          resources:\n            cpu: 50\n            memory: 32\n";
}

// The job's allocs as a server shows them.
json allocs(const ServerProcess& s, const std::string& job) {
  auto j = s.get("/v1/job/" + job + "/allocations").json();
  return j.is_array() ? j : json::array();
}

// Running allocs of the job, per node id.
std::map<std::string, int> running_per_node(const ServerProcess& s, const std::string& job) {
  std::map<std::string, int> out;
  for (const auto& a : allocs(s, job))
    if (a.value("ClientStatus", "") == "running" && a.value("DesiredStatus", "") == "run")
      out[a.value("NodeID", "")]++;
  return out;
}

// A periodic batch job launched every two seconds (a seconds cron) whose task exits at once.
std::string every_two_seconds(const std::string& id, const std::string& extra = "") {
  return "job:\n  id: " + id + "\n  type: batch\n  periodic: {cron: \"*/2 * * * * * *\"}\n" +
         extra +
         "  groups:\n    - name: g\n      tasks:\n        - name: t\n          driver: raw_exec\n"
         "          config: {command: /bin/true}\n          resources: {cpu: 20, memory: 16}\n";
}

// The job's one alloc once its node reports it running ("" when it does not within 30 s).
std::string the_running_alloc(const ServerProcess& s, const std::string& job) {
  std::string id;
  eventually(
      [&] {
        auto list = allocs(s, job);
        if (list.size() != 1 || list[0].value("ClientStatus", "") != "running") return false;
        id = list[0].value("ID", "");
        return true;
      },
      30s);
  return id;
}

int total(const std::map<std::string, int>& m) {
  int n = 0;
  for (const auto& [k, v] : m) n += v;
  return n;
}

// Every alloc that is meant to run has its own name (web.g[0]..): no index placed twice.
void expect_no_duplicate_placement(const ServerProcess& s, const std::string& job, int count) {
  std::set<std::string> names;
  int desired_run = 0;
  for (const auto& a : allocs(s, job)) {
    if (a.value("DesiredStatus", "") != "run") continue;
    if (a.value("ClientStatus", "") == "complete" || a.value("ClientStatus", "") == "failed")
      continue;
    desired_run++;
    EXPECT_TRUE(names.insert(a.value("Name", "")).second)
        << "placed twice: " << a.value("Name", "");
  }
  EXPECT_EQ(desired_run, count) << allocs(s, job).dump(2);
}

// Whichever of the servers leads now ("" when none does).
std::string leader_of(const std::vector<std::unique_ptr<ServerProcess>>& servers) {
  for (const auto& s : servers) {
    auto r = s->get("/v1/status/leader");
    if (r.status == 200 && r.json().is_string()) return r.json().get<std::string>();
  }
  return "";
}

struct Cluster {
  EtcdProcess etcd;
  std::vector<std::unique_ptr<AgentProcess>> agents;
  std::vector<std::unique_ptr<ServerProcess>> servers;

  bool start(int n_agents) {
    if (!etcd.start()) return false;
    for (int i = 0; i < n_agents; ++i) agents.push_back(start_agent(etcd));
    servers.push_back(ServerProcess::start("s1", server_config(etcd)));
    servers.push_back(ServerProcess::start("s2", server_config(etcd)));
    return eventually([&] { return nodes() == n_agents && !leader_of(servers).empty(); }, 20s);
  }
  int nodes() {
    for (const auto& s : servers) {
      auto j = s->get("/v1/nodes").json();
      if (j.is_array()) return static_cast<int>(j.size());
    }
    return 0;
  }
  // The server that is not the leader, to show that writes are forwarded.
  ServerProcess& follower() {
    auto leader = leader_of(servers);
    for (auto& s : servers)
      if (s->address().find(leader) == std::string::npos) return *s;
    return *servers.back();
  }
  ServerProcess& leader() {
    auto leader = leader_of(servers);
    for (auto& s : servers)
      if (s->address().find(leader) != std::string::npos) return *s;
    return *servers.front();
  }
  ~Cluster() {
    // Servers first: an agent stopping its allocs must not have them placed again meanwhile.
    servers.clear();
    agents.clear();
  }
};

}  // namespace

TEST(Cluster, AJobOfCountSixRunsSpreadOverThreeAgentsAndAKilledAgentsAllocsMove) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(3)) << c.servers[0]->log();
  auto& follower = c.follower();

  auto dir = drover::testing::make_temp_dir("drover-cluster-job");
  drover::testing::write_file(dir + "/web.yaml", sleeper("web", 6));
  auto run =
      drover::testing::run_drover({"job", "run", "-detach", dir + "/web.yaml"}, follower.address());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("Job \"web\" submitted"), std::string::npos) << run.out;

  std::map<std::string, int> per_node;
  ASSERT_TRUE(
      eventually([&] { return total(per_node = running_per_node(follower, "web")) == 6; }, 30s))
      << allocs(follower, "web").dump(2) << c.leader().log();
  EXPECT_EQ(per_node.size(), 3u) << "spread over the three agents";
  for (const auto& [node, n] : per_node) EXPECT_EQ(n, 2) << node;

  auto nodes = drover::testing::run_drover({"node", "status"}, follower.address());
  EXPECT_EQ(nodes.exit_code, 0) << nodes.err;
  for (const auto& a : c.agents)
    EXPECT_NE(nodes.out.find(node_id(*a).substr(0, 8)), std::string::npos) << nodes.out;
  auto status = drover::testing::run_drover({"job", "status", "web"}, follower.address());
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("running"), std::string::npos) << status.out;
  auto one = allocs(follower, "web")[0].value("ID", "");
  auto alloc =
      drover::testing::run_drover({"alloc", "status", one.substr(0, 8)}, follower.address());
  EXPECT_EQ(alloc.exit_code, 0) << alloc.err;
  // One alloc is read by its keys (server/api_support.hpp, read_alloc): by its id or a unique
  // prefix, with its node's status and its job; an unknown id is a 404.
  auto full = follower.get("/v1/allocation/" + one.substr(0, 8)).json();
  EXPECT_EQ(full.value("ID", ""), one) << full.dump(2);
  EXPECT_EQ(full.value("ClientStatus", ""), "running") << full.dump(2);
  EXPECT_EQ(full["Job"].value("ID", ""), "web") << full.dump(2);
  EXPECT_EQ(follower.get("/v1/allocation/ffffffff-no-such").status, 404);
  // Logs live on the alloc's node: the server forwards the request there.
  auto logs =
      drover::testing::run_drover({"alloc", "logs", one.substr(0, 8), "t"}, follower.address());
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_NE(logs.out.find("started"), std::string::npos) << logs.out << logs.err;

  // SIGKILL one agent: its key lapses with its lease, its allocs are lost and run elsewhere.
  auto& victim = c.agents[1];
  const std::string gone = node_id(*victim);
  const auto t0 = std::chrono::steady_clock::now();
  victim->kill(SIGKILL);
  drover::testing::kill_orphaned_tasks(victim->cgroup_parent(), victim->data_dir());
  ASSERT_TRUE(eventually(
      [&] {
        per_node = running_per_node(follower, "web");
        return total(per_node) == 6 && !per_node.count(gone);
      },
      30s))
      << allocs(follower, "web").dump(2) << c.leader().log();
  auto took =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LE(took.count(), 3 * kTtl + 10) << "rescheduled within the TTL and a pass or two";
  int lost = 0;
  for (const auto& a : allocs(follower, "web"))
    if (a.value("NodeID", "") == gone) {
      EXPECT_EQ(a.value("ClientStatus", ""), "lost");
      ++lost;
    }
  EXPECT_EQ(lost, 2);
  expect_no_duplicate_placement(follower, "web", 6);
  drover::testing::run_drover({"job", "stop", "web"}, follower.address());
  std::filesystem::remove_all(dir);
}

TEST(Cluster, JobStartRunsAStoppedJobAgainAsANewVersionAndRefusesARunningOne) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  ASSERT_EQ(c.leader().post("/v1/jobs", sleeper("api", 2)).status, 200);
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.follower(), "api")) == 2; }, 30s))
      << allocs(c.follower(), "api").dump(2);
  // Running: nothing to start (Nomad's refusal), through a follower as through the leader.
  auto running = drover::testing::run_drover({"job", "start", "api"}, c.follower().address());
  EXPECT_EQ(running.exit_code, 1);
  EXPECT_NE(running.err.find("job \"api\" has not been stopped"), std::string::npos) << running.err;
  drover::testing::run_drover({"job", "stop", "api"}, c.follower().address());
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.follower(), "api")) == 0; }, 30s));
  const int stopped_version = c.follower().get("/v1/job/api").json().value("Version", -1);
  auto started = drover::testing::run_drover({"job", "start", "api"}, c.follower().address());
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  EXPECT_NE(started.out.find("==> Job \"api\" submitted"), std::string::npos) << started.out;
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.follower(), "api")) == 2; }, 30s))
      << allocs(c.follower(), "api").dump(2);
  auto job = c.follower().get("/v1/job/api").json();
  EXPECT_FALSE(job.value("Stop", true));
  EXPECT_EQ(job.value("Version", -1), stopped_version + 1) << "a new version, as Nomad's";
  drover::testing::run_drover({"job", "stop", "api"}, c.follower().address());
}

TEST(Cluster, AVersionTaggedByNameIsListedAndRevertedToByItsName) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  auto cli = [&](const std::vector<std::string>& args) {
    return drover::testing::run_drover(args, c.follower().address());
  };
  ASSERT_EQ(c.leader().post("/v1/jobs", sleeper("api", 2)).status, 200);
  ASSERT_EQ(c.leader().post("/v1/jobs", sleeper("api", 1)).status, 200);  // version 1
  auto tagged = cli({"job", "tag", "apply", "-name", "golden", "-description", "two of them",
                     "-version", "0", "api"});
  ASSERT_EQ(tagged.exit_code, 0) << tagged.out << tagged.err;
  EXPECT_NE(tagged.out.find("Job version 0 tagged with name \"golden\""), std::string::npos)
      << tagged.out;
  // A name is one version's: on another it is refused, naming where it is.
  auto twice = cli({"job", "tag", "apply", "-name", "golden", "api"});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("tag \"golden\" already exists on version 0"), std::string::npos)
      << twice.err;
  // The latest version, tagged without -version, shows its tag on the job itself.
  ASSERT_EQ(cli({"job", "tag", "apply", "-name", "one", "api"}).exit_code, 0);
  EXPECT_EQ(c.follower().get("/v1/job/api").json()["VersionTag"].value("Name", ""), "one");
  auto history = cli({"job", "history", "api"});
  EXPECT_NE(history.out.find("golden"), std::string::npos) << history.out;
  auto versions = c.follower().get("/v1/job/api/versions").json()["Versions"];
  ASSERT_EQ(versions.size(), 2u) << versions.dump(2);
  EXPECT_EQ(versions[1]["VersionTag"].value("Description", ""), "two of them");

  // Reverted by its name: a new version with version 0's count.
  auto reverted = cli({"job", "revert", "-detach", "api", "golden"});
  ASSERT_EQ(reverted.exit_code, 0) << reverted.out << reverted.err;
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.follower(), "api")) == 2; }, 30s))
      << allocs(c.follower(), "api").dump(2);
  EXPECT_EQ(c.follower().get("/v1/job/api").json().value("Version", -1), 2);
  auto missing = cli({"job", "revert", "api", "no-such-tag"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("job \"api\" has no version tagged \"no-such-tag\""),
            std::string::npos)
      << missing.err;

  ASSERT_EQ(cli({"job", "tag", "unset", "-name", "golden", "api"}).exit_code, 0);
  auto gone = cli({"job", "tag", "unset", "-name", "golden", "api"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("tag \"golden\" not found on job \"api\""), std::string::npos) << gone.err;
  cli({"job", "stop", "api"});
}

TEST(Cluster, AKilledLeaderIsReplacedByTheOtherServerWithNoDuplicatePlacement) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  auto first = c.leader().post("/v1/jobs", sleeper("api", 4));
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.follower(), "api")) == 4; }, 30s))
      << allocs(c.follower(), "api").dump(2);

  const std::string old_leader = leader_of(c.servers);
  auto& dead = c.leader();
  dead.kill(SIGKILL);
  ServerProcess* survivor = nullptr;
  for (auto& s : c.servers)
    if (s.get() != &dead) survivor = s.get();
  // The other server takes the leader key once the dead one's lease lapses.
  ASSERT_TRUE(eventually(
      [&] {
        auto r = survivor->get("/v1/status/leader").json();
        return r.is_string() && !r.get<std::string>().empty() && r.get<std::string>() != old_leader;
      },
      std::chrono::seconds(3 * kTtl + 5)))
      << survivor->log();

  // The new leader places new work and leaves what is placed alone.
  auto second = survivor->post("/v1/jobs", sleeper("worker", 2));
  ASSERT_EQ(second.status, 200) << second.body;
  ASSERT_TRUE(eventually([&] { return total(running_per_node(*survivor, "worker")) == 2; }, 30s))
      << allocs(*survivor, "worker").dump(2) << survivor->log();
  expect_no_duplicate_placement(*survivor, "api", 4);
  expect_no_duplicate_placement(*survivor, "worker", 2);
  EXPECT_EQ(allocs(*survivor, "api").size(), 4u) << "no alloc of the first job was placed again";
  auto members = survivor->get("/v1/agent/members").json();
  EXPECT_EQ(members["Members"].size(), 1u) << members.dump(2);
  survivor->del("/v1/job/api");
  survivor->del("/v1/job/worker");
}

TEST(Cluster, ASystemJobIsPlacedOnAnAgentThatJoinsLater) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  auto r = c.follower().post("/v1/jobs", sleeper("everywhere", 0, "system"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(
      eventually([&] { return running_per_node(c.leader(), "everywhere").size() == 2; }, 30s))
      << allocs(c.leader(), "everywhere").dump(2);

  c.agents.push_back(start_agent(c.etcd));
  const std::string late = node_id(*c.agents.back());
  ASSERT_TRUE(
      eventually([&] { return running_per_node(c.leader(), "everywhere").count(late) == 1; }, 30s))
      << allocs(c.leader(), "everywhere").dump(2) << c.leader().log();
  EXPECT_EQ(running_per_node(c.leader(), "everywhere").size(), 3u);
  c.follower().del("/v1/job/everywhere");
}

// etcd killed and started again while jobs are being registered through a follower: each
// registration is either accepted (200) or refused with a 5xx that says why, never left
// hanging; every accepted job is there afterwards and placed once; a refused one goes through
// once etcd is back; and what ran before the outage stays where it was.
TEST(Cluster, EtcdRestartedUnderLoadLosesNoAcceptedJobAndPlacesNothingTwice) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(3)) << c.servers[0]->log();
  auto r = c.follower().post("/v1/jobs", sleeper("steady", 3));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.leader(), "steady")) == 3; }, 30s))
      << allocs(c.leader(), "steady").dump(2);
  std::set<std::string> steady_before;
  for (const auto& a : allocs(c.leader(), "steady")) steady_before.insert(a.value("ID", ""));

  constexpr int kJobs = 12;
  std::mutex mu;
  std::vector<std::string> accepted;
  std::vector<std::string> refusals;  // "<status> <body>"
  ServerProcess& front = c.follower();
  std::thread load([&] {
    for (int i = 0; i < kJobs; ++i) {
      const std::string id = "load-" + std::to_string(i);
      const auto until = std::chrono::steady_clock::now() + 60s;
      while (std::chrono::steady_clock::now() < until) {
        auto reply = front.post("/v1/jobs", sleeper(id, 1));
        std::lock_guard lock(mu);
        if (reply.status == 200) {
          accepted.push_back(id);
          break;
        }
        refusals.push_back(std::to_string(reply.status) + " " + reply.body);
        std::this_thread::sleep_for(100ms);  // the pace of a client retrying
      }
    }
  });
  const bool some = eventually([&] { std::lock_guard lock(mu); return accepted.size() >= 3; }, 30s);
  c.etcd.stop();
  const bool seen = eventually([&] { std::lock_guard lock(mu); return !refusals.empty(); }, 30s);
  const bool back = c.etcd.start();
  load.join();
  ASSERT_TRUE(some) << c.leader().log();
  ASSERT_TRUE(back) << "etcd did not start again";
  EXPECT_TRUE(seen) << "no registration was refused while etcd was down";
  ASSERT_EQ(accepted.size(), static_cast<size_t>(kJobs)) << c.leader().log();
  for (const auto& refusal : refusals) {
    EXPECT_GE(std::stoi(refusal), 500) << refusal;
    EXPECT_NE(refusal.find("etcd"), std::string::npos) << "names what is missing: " << refusal;
  }
  for (const auto& id : accepted) {
    EXPECT_TRUE(eventually([&] { return total(running_per_node(c.leader(), id)) == 1; }, 60s))
        << id << ": " << allocs(c.leader(), id).dump(2) << c.leader().log();
    expect_no_duplicate_placement(c.leader(), id, 1);
  }
  auto listed = c.leader().get("/v1/jobs").json();
  EXPECT_EQ(listed.size(), static_cast<size_t>(kJobs + 1)) << listed.dump(2);
  std::set<std::string> steady_after;
  for (const auto& a : allocs(c.leader(), "steady"))
    if (a.value("ClientStatus", "") == "running") steady_after.insert(a.value("ID", ""));
  EXPECT_EQ(steady_after, steady_before) << "placed before the outage, still where it was";
}

// A write through either server is there in the very next read from the leader, with no
// waiting (as in Nomad): what any cache of reads on the leader has to keep.
TEST(Cluster, AWriteThroughEitherServerIsReadBackAtOnceFromTheLeader) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  for (int round = 0; round < 5; ++round) {
    const std::string id = "echo-" + std::to_string(round);
    auto& front = round % 2 ? c.leader() : c.follower();
    auto r = front.post("/v1/jobs", sleeper(id, 1));
    ASSERT_EQ(r.status, 200) << r.body;
    auto job = c.leader().get("/v1/job/" + id);
    ASSERT_EQ(job.status, 200) << "registered, then not found: " << job.body;
    EXPECT_FALSE(job.json().value("Stop", true));
    bool listed = false;
    for (const auto& j : c.leader().get("/v1/jobs").json()) listed |= j.value("ID", "") == id;
    EXPECT_TRUE(listed) << id;
    ASSERT_EQ(front.del("/v1/job/" + id).status, 200);
    EXPECT_TRUE(c.leader().get("/v1/job/" + id).json().value("Stop", false))
        << "stopped, then still shown running";
  }
  // The leader answered them from its view, not by reading etcd (docs/cluster.md, "Reads").
  auto view_reads = [&] {
    const std::string metrics = c.leader().get("/v1/metrics?format=prometheus").body;
    std::smatch m;
    return std::regex_search(metrics, m, std::regex("drover_server_leader_reads_total\\{from=\"view\"\\} (\\d+)"))
               ? std::stoi(m[1].str())
               : -1;
  };
  const int before = view_reads();
  EXPECT_GE(before, 10);
  // A follower passes a read to the leader, which answers it from its view; ?stale reads etcd
  // where it is asked.
  auto followed = c.follower().get("/v1/job/echo-4");
  ASSERT_EQ(followed.status, 200) << followed.body;
  EXPECT_TRUE(followed.json().value("Stop", false));
  EXPECT_EQ(view_reads(), before + 1);
  ASSERT_EQ(c.follower().get("/v1/job/echo-4?stale=true").status, 200);
  EXPECT_EQ(view_reads(), before + 1);
}

TEST(Cluster, ADrainMovesAllocsOffTheNode) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  auto r = c.follower().post("/v1/jobs", sleeper("moving", 2));
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, int> per_node;
  ASSERT_TRUE(eventually(
      [&] { return (per_node = running_per_node(c.leader(), "moving")).size() == 2; }, 30s))
      << allocs(c.leader(), "moving").dump(2);
  // A batch alloc on each node, which a drain leaves to finish: the drain lasts until this job
  // is stopped below, however fast the service allocs move.
  r = c.follower().post("/v1/jobs", sleeper("finishing", 2, "batch"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(eventually(
      [&] { return (per_node = running_per_node(c.leader(), "finishing")).size() == 2; }, 30s))
      << allocs(c.leader(), "finishing").dump(2);
  const std::string drained = node_id(*c.agents[0]), other = node_id(*c.agents[1]);
  // A node's allocs by a prefix of its id, as `nomad node status <prefix>` asks; an unknown id
  // is a 404 that names it.
  auto on_drained = c.leader().get("/v1/node/" + drained.substr(0, 8) + "/allocations").json();
  EXPECT_EQ(on_drained.size(), 2u) << on_drained.dump(2);  // one of each job
  for (const auto& a : on_drained) EXPECT_EQ(a.value("NodeID", ""), drained) << a.dump(2);
  auto unknown = c.leader().get("/v1/node/nosuchnode/allocations");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json().value("error", ""), "node \"nosuchnode\" not found") << unknown.body;
  auto d = c.follower().post("/v1/node/" + drained + "/drain",
                             R"({"DrainSpec": {"Deadline": 3600000000000}})", "application/json");
  ASSERT_EQ(d.status, 200) << d.body;
  auto draining = c.leader().get("/v1/node/" + drained).json();
  EXPECT_EQ(draining["DrainStrategy"].value("Deadline", int64_t{0}), 3600000000000) << draining.dump(2);
  EXPECT_FALSE(draining["DrainStrategy"].value("ForceDeadline", "").empty());
  // While it drains the node cannot be made eligible: the drain must be ended first.
  auto refused = c.follower().post("/v1/node/" + drained + "/eligibility",
                                   R"({"Eligibility": "eligible"})", "application/json");
  EXPECT_EQ(refused.status, 400) << refused.body;
  ASSERT_TRUE(eventually(
      [&] {
        per_node = running_per_node(c.leader(), "moving");
        return per_node.size() == 1 && per_node.count(other) && per_node[other] == 2;
      },
      30s))
      << allocs(c.leader(), "moving").dump(2) << c.leader().log();
  EXPECT_TRUE(c.leader().get("/v1/node/" + drained).json().value("Drain", false))
      << "the batch alloc is left to finish";
  c.follower().del("/v1/job/finishing");
  // Nothing left to move: the drain completes and the node stays ineligible.
  json node;
  ASSERT_TRUE(eventually(
      [&] {
        node = c.leader().get("/v1/node/" + drained).json();
        return !node.value("Drain", true);
      },
      30s))
      << node.dump(2);
  EXPECT_EQ(node.value("SchedulingEligibility", ""), "ineligible");
  EXPECT_EQ(node["LastDrain"].value("Status", ""), "complete") << node.dump(2);
  c.follower().del("/v1/job/moving");
}

TEST(Cluster, ScaleAndRevertWriteNewVersionsThatThePlacementFollows) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  auto r = c.follower().post("/v1/jobs", sleeper("sized", 2));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.leader(), "sized")) == 2; }, 30s))
      << allocs(c.leader(), "sized").dump(2);
  // The leader counts its own view for /v1/metrics, a follower reads etcd: the same counts.
  auto counted = [](const ServerProcess& s) {
    std::string lines;
    std::istringstream in(s.get("/v1/metrics?format=prometheus").body);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("drover_server_allocs{", 0) == 0 || line.rfind("drover_server_jobs{", 0) == 0)
        lines += line + "\n";
    return lines;
  };
  ASSERT_TRUE(eventually([&] { return counted(c.leader()) == counted(c.follower()); }, 10s))
      << counted(c.leader()) << "--\n" << counted(c.follower());
  EXPECT_NE(counted(c.leader()).find("drover_server_allocs{client_status=\"running\"} 2"),
            std::string::npos)
      << counted(c.leader());

  // `job plan` shows what a count of 3 would do, and changes nothing.
  auto dir = drover::testing::make_temp_dir("drover-cluster-plan");
  drover::testing::write_file(dir + "/three.yaml", sleeper("sized", 3));
  auto plan = drover::testing::run_drover({"job", "plan", dir + "/three.yaml"}, c.follower().address());
  EXPECT_EQ(plan.exit_code, 1) << "allocations would be created: " << plan.out << plan.err;
  EXPECT_NE(plan.out.find("+/- Task Group: \"g\" (1 create, 2 in-place update)"), std::string::npos)
      << plan.out;
  EXPECT_NE(plan.out.find("+/- Count: \"2\" => \"3\""), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("All tasks successfully allocated"), std::string::npos) << plan.out;
  EXPECT_EQ(c.leader().get("/v1/job/sized").json().value("Version", -1), 0) << "a plan writes nothing";
  drover::testing::write_file(dir + "/two.yaml", sleeper("sized", 2));
  auto same = drover::testing::run_drover({"job", "plan", dir + "/two.yaml"}, c.follower().address());
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;

  auto up = drover::testing::run_drover({"job", "scale", "-detach", "sized", "g", "3"},
                                        c.follower().address());
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err << c.leader().log();
  EXPECT_NE(up.out.find("job version 1"), std::string::npos) << up.out;
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.leader(), "sized")) == 3; }, 30s))
      << allocs(c.leader(), "sized").dump(2);
  auto scale = c.leader().get("/v1/job/sized/scale").json();
  EXPECT_EQ(scale["TaskGroups"]["g"].value("Desired", 0), 3) << scale.dump(2);
  EXPECT_EQ(scale.value("JobModifyIndex", -1), 1);
  // The scale is a scaling event, and an event alone (the autoscaler's report) is kept beside
  // it without a new version; both go on with the job's later versions.
  auto report = c.follower().post(
      "/v1/job/sized/scale", R"({"Target": {"Group": "g"}, "Error": true, "Message": "quota"})",
      "application/json");
  ASSERT_EQ(report.status, 200) << report.body;
  EXPECT_EQ(c.leader().get("/v1/job/sized").json().value("Version", -1), 1);
  auto events = drover::testing::run_drover({"job", "scaling-events", "-verbose", "sized"},
                                            c.follower().address());
  EXPECT_NE(events.out.find("quota"), std::string::npos) << events.out << events.err;
  EXPECT_NE(events.out.find("g           3      2"), std::string::npos) << events.out;

  auto bad = c.follower().post("/v1/job/sized/scale", R"({"Count": 2, "Target": {"Group": "x"}})",
                               "application/json");
  EXPECT_EQ(bad.status, 404) << bad.body;
  EXPECT_NE(bad.body.find("has no group"), std::string::npos) << bad.body;

  auto back = drover::testing::run_drover({"job", "revert", "-detach", "sized", "0"},
                                          c.follower().address());
  ASSERT_EQ(back.exit_code, 0) << back.out << back.err;
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.leader(), "sized")) == 2; }, 30s))
      << allocs(c.leader(), "sized").dump(2);
  auto history =
      drover::testing::run_drover({"job", "history", "sized"}, c.follower().address());
  ASSERT_EQ(history.exit_code, 0) << history.err;
  for (const char* v : {"\n2 ", "\n1 ", "\n0 "})
    EXPECT_NE(history.out.find(v), std::string::npos) << history.out;
  // -p: each version's diff against the one before it (version 2 is version 0's count again).
  auto diffs =
      drover::testing::run_drover({"job", "history", "-p", "sized"}, c.follower().address());
  ASSERT_EQ(diffs.exit_code, 0) << diffs.err;
  EXPECT_NE(diffs.out.find("+/- Count: \"3\" => \"2\""), std::string::npos) << diffs.out;
  EXPECT_NE(diffs.out.find("+/- Count: \"2\" => \"3\""), std::string::npos) << diffs.out;
  auto again = c.follower().post("/v1/job/sized/revert", R"({"JobVersion": 2})", "application/json");
  EXPECT_EQ(again.status, 400) << "the current version: " << again.body;
  c.follower().del("/v1/job/sized");
}

TEST(Cluster, AScaleOutsideTheGroupsScalingBoundsIsRefusedWithNomadsWords) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  std::string job = sleeper("bounded", 1);
  job.replace(job.find("      tasks:"), 0, "      scaling: {min: 1, max: 2}\n");
  auto r = c.follower().post("/v1/jobs", job);
  ASSERT_EQ(r.status, 200) << r.body;
  auto over = c.follower().post("/v1/job/bounded/scale", R"({"Count": 3})", "application/json");
  EXPECT_EQ(over.status, 400) << over.body;
  EXPECT_EQ(over.json().value("error", ""),
            "group count was greater than scaling policy maximum: 3 > 2")
      << over.body;
  auto under = drover::testing::run_drover({"job", "scale", "bounded", "g", "0"},
                                           c.follower().address());
  EXPECT_NE(under.exit_code, 0) << under.out;
  EXPECT_NE(under.err.find("group count was less than scaling policy minimum: 0 < 1"),
            std::string::npos)
      << under.out << under.err;
  EXPECT_EQ(c.leader().get("/v1/job/bounded").json().value("Version", -1), 0)
      << "a refused scale writes no version";
  auto within = drover::testing::run_drover({"job", "scale", "-detach", "bounded", "2"},
                                            c.follower().address());
  ASSERT_EQ(within.exit_code, 0) << within.out << within.err;
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.leader(), "bounded")) == 2; }, 30s))
      << allocs(c.leader(), "bounded").dump(2);

  // The policy, as the Nomad Autoscaler lists it, from either server.
  auto policies = c.follower().get("/v1/scaling/policies").json();
  ASSERT_EQ(policies.size(), 1u) << policies.dump();
  EXPECT_EQ(policies[0]["Target"],
            json({{"Namespace", "default"}, {"Job", "bounded"}, {"Group", "g"}}));
  EXPECT_EQ(policies[0]["Enabled"], true);
  auto policy = c.leader().get("/v1/scaling/policy/" + policies[0].value("ID", "")).json();
  EXPECT_EQ(policy.value("Min", -1), 1) << policy.dump();
  EXPECT_EQ(policy.value("Max", -1), 2) << policy.dump();
  c.follower().del("/v1/job/bounded");
}

TEST(Cluster, AJobThatFitsNowhereIsBlockedWithNomadsReasons) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  std::string job = sleeper("huge", 1);
  job.replace(job.find("memory: 32"), 10, "memory: 10000000");
  auto r = c.leader().post("/v1/jobs", job);
  ASSERT_EQ(r.status, 200) << r.body << c.leader().log();
  // Answered before the leader evaluates it, as Nomad's register: the evaluation says.
  EXPECT_FALSE(r.json().contains("AllocIDs")) << r.body;
  EXPECT_EQ(c.leader().await_evaluation(r.json().value("EvalID", "")).value("Status", ""),
            "blocked")
      << r.body;
  auto evals = c.follower().get("/v1/job/huge/evaluations").json();
  ASSERT_EQ(evals.size(), 1u) << evals.dump(2);
  EXPECT_EQ(evals[0]["Status"], "blocked");
  EXPECT_EQ(evals[0]["FailedTGAllocs"]["g"]["DimensionExhausted"]["memory"], 1) << evals.dump(2);
  EXPECT_NE(
      evals[0].value("StatusDescription", "").find("dimension \"memory\" exhausted on 1 node"),
      std::string::npos);
}

// The job's reschedule block: a task that always fails is placed again once after the delay,
// the two allocs linked, then left failed.
TEST(Cluster, AFailedAllocIsRescheduledByTheJobsRescheduleBlockThenLeftFailed) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  std::string job = sleeper("flaky", 1);
  job.replace(job.find("echo started; exec sleep 300"), 28, "exit 3");
  job.replace(job.find("  groups:"), 0,
              "  reschedule: {attempts: 1, interval: 1h, delay: 5s, delay_function: constant, "
              "unlimited: false}\n");
  job.replace(job.find("      tasks:"), 0, "      restart: {attempts: 0, mode: fail}\n");
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.follower().post("/v1/jobs", job);
  ASSERT_EQ(r.status, 200) << r.body;
  json list;
  auto failed = [&] {
    int n = 0;
    for (const auto& a : list = allocs(c.leader(), "flaky"))
      n += a.value("ClientStatus", "") == "failed";
    return n;
  };
  ASSERT_TRUE(eventually([&] { return failed() == 2; }, 40s)) << list.dump(2) << c.leader().log();
  auto took =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_GE(took.count(), 5) << "the replacement waited out the 5s delay";
  ASSERT_EQ(list.size(), 2u) << list.dump(2);
  const json& first = list[0].contains("PreviousAllocation") ? list[1] : list[0];
  const json& second = list[0].contains("PreviousAllocation") ? list[0] : list[1];
  EXPECT_EQ(first.value("NextAllocation", ""), second.value("ID", ""));
  EXPECT_EQ(second.value("PreviousAllocation", ""), first.value("ID", ""));
  ASSERT_EQ(second["RescheduleTracker"]["Events"].size(), 1u) << second.dump(2);
  EXPECT_EQ(second["RescheduleTracker"]["Events"][0]["Delay"], 5'000'000'000LL);
  // The follow-up evaluation that waited out the delay placed the replacement.
  auto eval = c.leader().get("/v1/evaluation/" + second.value("EvalID", "")).json();
  EXPECT_EQ(eval.value("TriggeredBy", ""), "alloc-failure") << eval.dump(2);
  EXPECT_GT(eval.value("WaitUntil", int64_t{0}), 0) << eval.dump(2);
  EXPECT_EQ(eval.value("Status", ""), "complete");
  // Its one attempt used: nothing more. Once every evaluation of the job is complete, none
  // waits to place a third alloc.
  json evals;
  ASSERT_TRUE(eventually(
      [&] {
        evals = c.leader().get("/v1/job/flaky/evaluations").json();
        for (const auto& e : evals)
          if (e.value("Status", "") != "complete") return false;
        return !evals.empty();
      },
      20s))
      << evals.dump(2);
  list = allocs(c.leader(), "flaky");
  EXPECT_EQ(list.size(), 2u) << list.dump(2);
  for (const auto& a : list) {
    if (a.contains("PreviousAllocation")) {
      EXPECT_FALSE(a.contains("FollowupEvalID")) << a.dump(2);
    }
  }
  // `job eval` places nothing more; `job eval -force-reschedule` replaces the failed alloc
  // past its policy's one attempt, and the evaluation says what it placed.
  auto plain = drover::testing::run_drover({"job", "eval", "flaky"}, c.follower().address());
  EXPECT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  EXPECT_NE(plain.out.find("finished with status \"complete\""), std::string::npos) << plain.out;
  EXPECT_EQ(allocs(c.leader(), "flaky").size(), 2u);
  auto forced = drover::testing::run_drover({"job", "eval", "-force-reschedule", "flaky"},
                                            c.follower().address());
  EXPECT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  EXPECT_NE(forced.out.find("\" created"), std::string::npos) << forced.out;
  list = allocs(c.leader(), "flaky");
  ASSERT_EQ(list.size(), 3u) << list.dump(2);
  const std::string eval_id = forced.out.substr(forced.out.find("evaluation \"") + 12, 8);
  auto shown = drover::testing::run_drover({"eval", "status", eval_id}, c.follower().address());
  EXPECT_EQ(shown.exit_code, 0) << shown.out << shown.err;
  EXPECT_NE(shown.out.find("==> Placed Allocations"), std::string::npos) << shown.out;
  auto listed =
      drover::testing::run_drover({"eval", "list", "-job", "flaky"}, c.follower().address());
  EXPECT_NE(listed.out.find(eval_id), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("alloc-failure"), std::string::npos) << listed.out;
  c.follower().del("/v1/job/flaky");
}

// A rolling update to a version whose health check fails: one alloc is replaced
// (max_parallel 1), it turns unhealthy, the deployment fails and the last stable version is
// registered again and rolled out.
TEST(Cluster, ARollingUpdateWithAnUnhealthyVersionIsReverted) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  std::string v0 = sleeper("roll", 2);
  v0.replace(v0.find("  groups:"), 0,
             "  update: {max_parallel: 1, health_check: checks, min_healthy_time: 500ms, "
             "healthy_deadline: 3s, progress_deadline: 1m, auto_revert: true}\n");
  // `job run` follows the version's deployment to its end, as `nomad job run` does.
  auto dir = drover::testing::make_temp_dir("drover-cluster-roll");
  drover::testing::write_file(dir + "/v0.yaml", v0);
  auto run = drover::testing::run_drover({"job", "run", dir + "/v0.yaml"}, c.follower().address());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << c.leader().log();
  EXPECT_NE(run.out.find("==> Monitoring deployment"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("g: 2/2 placed, 2 healthy"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("successful"), std::string::npos) << run.out;
  auto latest = [&] { return c.leader().get("/v1/job/roll/deployment").json(); };
  EXPECT_EQ(latest().value("Status", ""), "successful") << latest().dump(2);
  EXPECT_TRUE(c.leader().get("/v1/job/roll").json().value("Stable", false));
  auto status = drover::testing::run_drover({"job", "status", "roll"}, c.follower().address());
  EXPECT_NE(status.out.find("Latest Deployment"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("Deployed"), std::string::npos) << status.out;

  // v1: a tcp check on a port nothing listens on.
  int port = drover::testing::free_loopback_port();
  std::string v1 = v0 + "          services:\n            - name: roll\n              port: \"" +
                   std::to_string(port) +
                   "\"\n              checks:\n                - {type: tcp, interval: 200ms, "
                   "timeout: 200ms}\n";
  drover::testing::write_file(dir + "/v1.yaml", v1);
  run = drover::testing::run_drover({"job", "run", dir + "/v1.yaml"}, c.follower().address());
  EXPECT_EQ(run.exit_code, 2) << "a failed deployment: " << run.out << run.err;
  EXPECT_NE(run.out.find("failed"), std::string::npos) << run.out;
  json deployments;
  auto failed_v1 = [&] {
    deployments = c.leader().get("/v1/job/roll/deployments").json();
    for (const auto& d : deployments)
      if (d.value("JobVersion", -1) == 1 && d.value("Status", "") == "failed") return true;
    return false;
  };
  ASSERT_TRUE(eventually(failed_v1, 30s)) << deployments.dump(2) << c.leader().log();
  for (const auto& d : deployments)
    if (d.value("JobVersion", -1) == 1) {
      EXPECT_EQ(d.value("StatusDescription", ""),
                "Failed due to unhealthy allocations - rolling back to job version 0");
      EXPECT_EQ(d["TaskGroups"]["g"]["PlacedAllocs"], 1) << "max_parallel 1: one at a time";
      EXPECT_EQ(d["TaskGroups"]["g"]["UnhealthyAllocs"], 1);
    }
  // v2 is v0's job again, rolled out and healthy.
  ASSERT_TRUE(eventually(
      [&] {
        auto d = latest();
        return d.value("JobVersion", -1) == 2 && d.value("Status", "") == "successful";
      },
      30s))
      << latest().dump(2) << allocs(c.leader(), "roll").dump(2);
  auto job = c.leader().get("/v1/job/roll").json();
  EXPECT_EQ(job.value("Version", -1), 2);
  const json& services = job["TaskGroups"][0]["Tasks"][0]["Services"];
  EXPECT_TRUE(services.is_null() || services.empty()) << "the check is gone with the revert";
  int v2_running = 0;
  for (const auto& a : allocs(c.leader(), "roll"))
    if (a.value("DesiredStatus", "") == "run" && a.value("ClientStatus", "") == "running") {
      EXPECT_EQ(a.value("JobVersion", -1), 2);
      ++v2_running;
    }
  EXPECT_EQ(v2_running, 2);
  // The three deployments, newest first, as `job deployments` lists them.
  auto listed = drover::testing::run_drover({"job", "deployments", "roll"}, c.follower().address());
  ASSERT_EQ(listed.exit_code, 0) << listed.out << listed.err;
  const auto v2_at = listed.out.find("roll    2 "), v1_at = listed.out.find("roll    1 "),
             v0_at = listed.out.find("roll    0 ");
  EXPECT_TRUE(v2_at < v1_at && v1_at < v0_at && v0_at != std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("rolling back to job version 0"), std::string::npos) << listed.out;
  auto newest = drover::testing::run_drover({"job", "deployments", "-latest", "roll"}, c.follower().address());
  EXPECT_NE(newest.out.find("Job Version = 2"), std::string::npos) << newest.out;
  c.follower().del("/v1/job/roll");
}

// Nomad's deployment commands on a rolling update whose health the test decides (a script
// check that passes once a file exists): `deployment pause` holds the rolling while health is
// still counted, `resume` goes on, and `deployment fail` fails a running deployment and
// reverts to the last stable version.
TEST(Cluster, ADeploymentIsPausedResumedAndFailedFromTheCommandLine) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  auto dir = drover::testing::make_temp_dir("drover-cluster-deploy-ops");
  // Version `v` of the job: its args differ per version (each is a replacement), and its
  // check passes once `<dir>/<healthy_when>` exists.
  auto version = [&](const std::string& v, const std::string& healthy_when) {
    std::string j = sleeper("ops", 2);
    j.replace(j.find("echo started"), 12, "echo started " + v);
    j.replace(j.find("  groups:"), 0,
              "  update: {max_parallel: 1, health_check: checks, min_healthy_time: 200ms, "
              "healthy_deadline: 5m, progress_deadline: 10m, auto_revert: true}\n");
    j += "          services:\n            - name: ops\n              checks:\n"
         "                - {type: script, command: /bin/test, args: [\"-f\", \"" +
         dir + "/" + healthy_when + "\"], interval: 200ms, timeout: 2s}\n";
    drover::testing::write_file(dir + "/" + v + ".yaml", j);
    return dir + "/" + v + ".yaml";
  };
  auto drover = [&](std::vector<std::string> args) {
    return drover::testing::run_drover(std::move(args), c.follower().address());
  };
  drover::testing::write_file(dir + "/ok", "");
  auto run = drover({"job", "run", version("v0", "ok")});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << c.leader().log();
  auto latest = [&] { return c.leader().get("/v1/job/ops/deployment").json(); };
  auto deployment_of = [&](int v) {
    json d;
    eventually([&] { return (d = latest()).value("JobVersion", -1) == v; }, 30s);
    return d;
  };
  auto running_of_version = [&](int v) {
    int n = 0;
    for (const auto& a : allocs(c.leader(), "ops"))
      n += a.value("DesiredStatus", "") == "run" && a.value("JobVersion", -1) == v;
    return n;
  };

  // v1: one alloc replaced, its health pending until the file `one` exists. Paused meanwhile.
  run = drover({"job", "run", "-detach", version("v1", "one")});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  json d1 = deployment_of(1);
  ASSERT_EQ(d1.value("Status", ""), "running") << d1.dump(2);
  const std::string id1 = d1.value("ID", "");
  auto paused = drover({"deployment", "pause", id1.substr(0, 8)});
  ASSERT_EQ(paused.exit_code, 0) << paused.out << paused.err;
  EXPECT_NE(paused.out.find("paused"), std::string::npos) << paused.out;
  auto promote = drover({"deployment", "promote", id1.substr(0, 8)});
  EXPECT_EQ(promote.exit_code, 1) << "a paused deployment is not promoted: " << promote.out;
  drover::testing::write_file(dir + "/one", "");
  json d;
  ASSERT_TRUE(eventually(
      [&] {
        d = c.leader().get("/v1/deployment/" + id1).json();
        return d["TaskGroups"]["g"].value("HealthyAllocs", 0) == 1;
      },
      30s))
      << d.dump(2);
  EXPECT_EQ(d.value("Status", ""), "paused");
  EXPECT_EQ(running_of_version(0), 1) << "paused: the second v0 alloc is not replaced";
  auto blocked = c.follower().post("/v1/job/ops/scale", R"({"Count": 3})", "application/json");
  EXPECT_EQ(blocked.status, 400) << blocked.body;
  EXPECT_NE(blocked.body.find("job scaling blocked due to active deployment"), std::string::npos);
  auto status = drover({"deployment", "status", id1.substr(0, 8)});
  EXPECT_NE(status.out.find("Deployment is paused"), std::string::npos) << status.out;
  auto listed = drover({"deployment", "list"});
  EXPECT_NE(listed.out.find(id1.substr(0, 8)), std::string::npos) << listed.out;
  // Resumed: followed to its end, the rolling done.
  auto resumed = drover({"deployment", "resume", id1.substr(0, 8)});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err << c.leader().log();
  EXPECT_NE(resumed.out.find("Deployment completed successfully"), std::string::npos)
      << resumed.out;
  EXPECT_EQ(running_of_version(1), 2);
  EXPECT_EQ(running_of_version(0), 0);

  // v2: its check never passes; failed by hand, v1 (the last stable) runs again as v3.
  run = drover({"job", "run", "-detach", version("v2", "never")});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string id2 = deployment_of(2).value("ID", "");
  auto failed = drover({"deployment", "fail", id2.substr(0, 8)});
  EXPECT_EQ(failed.exit_code, 2) << failed.out << failed.err;
  EXPECT_NE(failed.out.find("Deployment marked as failed - rolling back to job version 1"),
            std::string::npos)
      << failed.out;
  ASSERT_TRUE(eventually(
      [&] {
        auto d3 = latest();
        return d3.value("JobVersion", -1) == 3 && d3.value("Status", "") == "successful";
      },
      30s))
      << latest().dump(2) << allocs(c.leader(), "ops").dump(2);
  auto job = c.leader().get("/v1/job/ops").json();
  EXPECT_NE(job["TaskGroups"][0]["Tasks"][0]["Config"].dump().find("started v1"),
            std::string::npos)
      << job.dump(2);
  auto again = drover({"deployment", "fail", id2.substr(0, 8)});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("only a running or paused deployment can be failed"), std::string::npos)
      << again.err;
  c.follower().del("/v1/job/ops");
}

// `node meta apply -node-id` through a server: the server passes it on to the node, whose
// agent registers its new metadata, and a job constrained to it is placed there.
TEST(Cluster, NodeMetadataAppliedThroughAServerSteersPlacement) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  const std::string target = node_id(*c.agents[1]);
  auto applied = drover::testing::run_drover(
      {"node", "meta", "apply", "-node-id", target.substr(0, 8), "rack=r9"}, c.follower().address());
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  ASSERT_TRUE(eventually(
      [&] {
        return c.leader().get("/v1/node/" + target).json()["Meta"].value("rack", "") == "r9";
      },
      20s))
      << c.leader().get("/v1/node/" + target).body;
  auto read = drover::testing::run_drover({"node", "meta", "read", "-node-id", target},
                                          c.follower().address());
  EXPECT_NE(read.out.find("rack = r9"), std::string::npos) << read.out << read.err;
  auto none = drover::testing::run_drover({"node", "meta", "read"}, c.follower().address());
  EXPECT_EQ(none.exit_code, 1) << "a server needs the node";
  std::string job = sleeper("racked", 1);
  job.replace(job.find("  groups:"), 0, "  constraints: [{attribute: \"${meta.rack}\", value: r9}]\n");
  ASSERT_EQ(c.follower().post("/v1/jobs", job).status, 200);
  ASSERT_TRUE(eventually([&] { return running_per_node(c.leader(), "racked")[target] == 1; }, 30s))
      << allocs(c.leader(), "racked").dump(2);
  c.follower().del("/v1/job/racked");
}

// Nomad's node pool commands against a server: the built-in pools, a pool an agent names, and
// one described from a file; a job in a pool is placed on its node and listed with it; a pool
// in use, or a built-in one, is not deleted.
TEST(Cluster, NodePoolsAreListedDescribedAndKeptWhileInUse) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  AgentProcess::Options o;
  o.config_yaml = "node_pool: gpu\nupstream:\n  backend: etcd\n  etcd:\n    endpoints: [\"" +
                  c.etcd.endpoint() + "\"]\n    prefix: /drover\n    heartbeat_ttl: " +
                  std::to_string(kTtl) + "s\n";
  c.agents.push_back(AgentProcess::start(o));
  ASSERT_TRUE(eventually([&] { return c.nodes() == 2; }, 20s));
  const std::string gpu_node = node_id(*c.agents[1]);
  auto drover = [&](std::vector<std::string> args) {
    return drover::testing::run_drover(std::move(args), c.follower().address());
  };
  auto list = drover({"node", "pool", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const char* pool : {"all", "default", "gpu"})
    EXPECT_NE(list.out.find(std::string("\n") + pool), std::string::npos) << list.out;

  auto dir = drover::testing::make_temp_dir("drover-node-pools");
  drover::testing::write_file(dir + "/pool.hcl",
                              "node_pool \"batch-pool\" {\n  description = \"Nightly batch\"\n"
                              "  meta {\n    team = \"data\"\n  }\n}\n");
  auto applied = drover({"node", "pool", "apply", dir + "/pool.hcl"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  auto info = drover({"node", "pool", "info", "batch-pool"});
  EXPECT_NE(info.out.find("Description = Nightly batch"), std::string::npos) << info.out << info.err;
  EXPECT_NE(info.out.find("team = data"), std::string::npos) << info.out;
  drover::testing::write_file(dir + "/bad.hcl", "node_pool \"no/slash\" {}\n");
  auto bad = drover({"node", "pool", "apply", dir + "/bad.hcl"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("may hold only letters"), std::string::npos) << bad.err;

  auto nodes = drover({"node", "pool", "nodes", "gpu"});
  EXPECT_NE(nodes.out.find(gpu_node.substr(0, 8)), std::string::npos) << nodes.out;
  EXPECT_EQ(c.leader().get("/v1/node/pool/all/nodes").json().size(), 2u);
  EXPECT_EQ(c.leader().get("/v1/node/pool/default/nodes").json().size(), 1u);

  std::string job = sleeper("ingpu", 1);
  job.replace(job.find("  groups:"), 0, "  node_pool: gpu\n");
  ASSERT_EQ(c.follower().post("/v1/jobs", job).status, 200);
  ASSERT_TRUE(eventually([&] { return running_per_node(c.leader(), "ingpu")[gpu_node] == 1; }, 30s))
      << allocs(c.leader(), "ingpu").dump(2);
  auto jobs = drover({"node", "pool", "jobs", "gpu"});
  EXPECT_NE(jobs.out.find("ingpu"), std::string::npos) << jobs.out;

  auto in_use = drover({"node", "pool", "delete", "gpu"});
  EXPECT_EQ(in_use.exit_code, 1);
  EXPECT_NE(in_use.err.find("has nodes"), std::string::npos) << in_use.err;
  auto builtin = drover({"node", "pool", "delete", "default"});
  EXPECT_NE(builtin.err.find("is not allowed"), std::string::npos) << builtin.err;
  auto gone = drover({"node", "pool", "delete", "batch-pool"});
  EXPECT_EQ(gone.exit_code, 0) << gone.err;
  EXPECT_EQ(c.leader().get("/v1/node/pool/batch-pool").status, 404);
  c.follower().del("/v1/job/ingpu");
}

// Issue 17's namespaces through `drover server`: one id in two namespaces is two jobs under
// <prefix>/jobs/<namespace>/<id>, placed on the same agent; lists filter by ?namespace= and
// stopping one leaves the other running.
TEST(Cluster, OneJobIdInTwoNamespacesRunsSideBySide) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  ASSERT_EQ(c.follower().post("/v1/jobs", sleeper("web", 1)).status, 200);
  auto r = c.follower().post("/v1/jobs?namespace=prod", sleeper("web", 1));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().value("Namespace", ""), "prod");
  auto running = [&](const std::string& ns) {
    auto list = c.leader().get("/v1/job/web/allocations?namespace=" + ns).json();
    int n = 0;
    for (const auto& a : list)
      if (a.value("ClientStatus", "") == "running" && a.value("Namespace", "") == ns) ++n;
    return n;
  };
  ASSERT_TRUE(eventually([&] { return running("default") == 1 && running("prod") == 1; }, 30s))
      << c.leader().get("/v1/allocations?namespace=*").body;
  EXPECT_EQ(c.leader().get("/v1/jobs").json().size(), 1u);
  EXPECT_EQ(c.leader().get("/v1/jobs?namespace=*").json().size(), 2u);
  EXPECT_EQ(c.leader().get("/v1/allocations?namespace=prod").json().size(), 1u);
  EXPECT_EQ(c.leader().get("/v1/jobs?namespace=a%2Fb").status, 400);
  json namespaces = c.follower().get("/v1/namespaces").json();
  ASSERT_EQ(namespaces.size(), 2u) << namespaces.dump();
  EXPECT_EQ(namespaces[1].value("Name", ""), "prod");
  // The agent keeps them apart too.
  EXPECT_EQ(c.agents[0]->get("/v1/allocations?namespace=*").json().size(), 2u);
  EXPECT_EQ(c.agents[0]->get("/v1/job/web?namespace=prod").json().value("Namespace", ""), "prod");

  ASSERT_EQ(c.follower().del("/v1/job/web?namespace=prod").status, 200);
  ASSERT_TRUE(eventually([&] { return running("prod") == 0; }, 30s))
      << c.leader().get("/v1/allocations?namespace=*").body;
  EXPECT_EQ(running("default"), 1);
  c.follower().del("/v1/job/web");
}

// Issue 20's periodic jobs through `drover server`: the leader launches a child at each cron
// time (a seconds cron here) in the txn that records the launch, the parent gets no allocs,
// `job periodic force` on the follower launches one now, and each child is placed and
// completes; `job status` lists the children as Nomad does.
TEST(Cluster, APeriodicJobIsLaunchedByTheLeaderAndForcedThroughAFollower) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  auto dir = drover::testing::make_temp_dir("drover-cluster-periodic");
  drover::testing::write_file(dir + "/tick.yaml", R"(job:
  id: tick
  type: batch
  periodic:
    cron: "*/10 * * * * * *"
  groups:
    - name: g
      restart: {attempts: 0, mode: fail}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/sh, args: ["-c", "echo ticked"]}
          resources: {cpu: 50, memory: 16}
)");
  auto run = drover::testing::run_drover({"job", "run", dir + "/tick.yaml"}, c.follower().address());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto parent = c.follower().get("/v1/job/tick").json();
  EXPECT_EQ(parent.value("Status", ""), "running");
  EXPECT_GT(parent.value("NextPeriodicLaunch", int64_t{0}), 0) << parent.dump(2);

  auto force = drover::testing::run_drover({"job", "periodic", "force", "tick"},
                                           c.follower().address());
  ASSERT_EQ(force.exit_code, 0) << force.out << force.err;
  auto at = force.out.find("tick/periodic-");
  ASSERT_NE(at, std::string::npos) << force.out;
  const std::string forced = force.out.substr(at, force.out.find('"', at) - at);

  // The forced child and one the leader launched on its own (a multiple of ten seconds) are
  // each placed once and complete.
  auto children = [&] {
    std::map<std::string, std::string> out;  // id -> status
    for (const auto& j : c.follower().get("/v1/jobs?prefix=tick/").json())
      if (j.value("ParentID", "") == "tick") out[j.value("ID", "")] = j.value("Status", "");
    return out;
  };
  auto complete = [&](const std::string& child) {
    auto list = allocs(c.follower(), child);
    return list.size() == 1 && list[0].value("ClientStatus", "") == "complete";
  };
  std::string scheduled;
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& [id, status] : children())
          if (id != forced) scheduled = id;
        return !scheduled.empty() && complete(forced) && complete(scheduled);
      },
      40s))
      << c.follower().get("/v1/jobs?prefix=tick/").body << c.leader().log();
  EXPECT_EQ(std::stoll(scheduled.substr(scheduled.rfind('-') + 1)) % 10, 0) << scheduled;
  EXPECT_TRUE(allocs(c.follower(), "tick").empty()) << "a periodic parent gets no allocs";
  auto logs = drover::testing::run_drover(
      {"alloc", "logs", allocs(c.follower(), forced)[0].value("ID", "").substr(0, 8), "t"},
      c.follower().address());
  EXPECT_EQ(logs.out, "ticked\n") << logs.err;

  auto status = drover::testing::run_drover({"job", "status", "tick"}, c.follower().address());
  EXPECT_EQ(status.exit_code, 0) << status.err;
  for (const char* want : {"Children Job Summary", "Previously Launched Jobs", "Next Periodic Launch"})
    EXPECT_NE(status.out.find(want), std::string::npos) << want << "\n" << status.out;
  EXPECT_NE(status.out.find(forced), std::string::npos) << status.out;
  auto summary = c.follower().get("/v1/job/tick/summary").json();
  EXPECT_GE(summary["Children"].value("Dead", 0), 2) << summary.dump(2);

  // A job that is not periodic cannot be forced: Nomad's 400, nothing launched.
  ASSERT_EQ(c.follower().post("/v1/jobs", sleeper("web", 1)).status, 200);
  auto refused = c.follower().post("/v1/job/web/periodic/force", "{}", "application/json");
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("is not periodic"), std::string::npos) << refused.body;
  c.follower().del("/v1/job/web");
  c.follower().del("/v1/job/tick");
  std::filesystem::remove_all(dir);
}

// Issue 20's parameterized jobs through `drover server`: `job dispatch` with a payload file
// and meta makes a child that the scheduler places and whose task reads the payload; a retried
// request with the same IdempotencyToken gets the same child; a bad request is a 400 naming
// the field.
TEST(Cluster, ADispatchedChildIsPlacedAndItsTaskReadsThePayload) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  auto dir = drover::testing::make_temp_dir("drover-cluster-dispatch");
  drover::testing::write_file(dir + "/report.yaml", R"(job:
  id: report
  type: batch
  meta: {format: text}
  parameterized: {payload: required, meta_required: [customer], meta_optional: [format]}
  groups:
    - name: g
      restart: {attempts: 0, mode: fail}
      tasks:
        - name: t
          driver: raw_exec
          dispatch_payload: {file: in/payload.txt}
          config:
            command: /bin/sh
            args: ["-c", "cat $NOMAD_TASK_DIR/in/payload.txt; echo; echo customer=$NOMAD_META_customer format=$NOMAD_META_format; exec sleep 300"]
          resources: {cpu: 50, memory: 16}
)");
  auto run =
      drover::testing::run_drover({"job", "run", dir + "/report.yaml"}, c.follower().address());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  drover::testing::write_file(dir + "/payload.txt", "hello payload");
  auto d = drover::testing::run_drover(
      {"job", "dispatch", "-detach", "-meta", "customer=acme", "report", dir + "/payload.txt"},
      c.follower().address());
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  auto at = d.out.find("report/dispatch-");
  ASSERT_NE(at, std::string::npos) << d.out;
  const std::string child = d.out.substr(at, d.out.find('\n', at) - at);
  auto job = c.follower().get("/v1/job/" + child).json();
  EXPECT_EQ(job.value("ParentID", ""), "report");
  EXPECT_EQ(job.value("Dispatched", false), true);

  const std::string alloc = the_running_alloc(c.follower(), child);
  ASSERT_FALSE(alloc.empty()) << allocs(c.follower(), child).dump(2) << c.leader().log();
  EXPECT_TRUE(allocs(c.follower(), "report").empty()) << "a parameterized parent gets no allocs";
  std::string out;
  ASSERT_TRUE(eventually(
      [&] {
        out = drover::testing::run_drover({"alloc", "logs", alloc.substr(0, 8), "t"},
                                          c.follower().address())
                  .out;
        return out.find("format=") != std::string::npos;
      },
      10s))
      << out;
  EXPECT_EQ(out, "hello payload\ncustomer=acme format=text\n");

  // The same IdempotencyToken twice: one child.
  const json body = {{"Payload", "aGk="}, {"Meta", {{"customer", "globex"}}},
                     {"IdempotencyToken", "once"}};
  auto first = c.follower().post("/v1/job/report/dispatch", body.dump(), "application/json");
  ASSERT_EQ(first.status, 200) << first.body;
  auto again = c.follower().post("/v1/job/report/dispatch", body.dump(), "application/json");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(first.json().value("DispatchedJobID", "a"), again.json().value("DispatchedJobID", "b"));
  EXPECT_EQ(c.follower()
                .await_evaluation(first.json().value("EvalID", ""))
                .value("PlacedAllocs", json::array())
                .size(),
            1u)
      << first.body;

  // A bad request: 400 naming the field, nothing dispatched.
  auto bad = c.follower().post("/v1/job/report/dispatch", json{{"Payload", "aGk="}}.dump(),
                               "application/json");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("Meta.customer: is required"), std::string::npos) << bad.body;
  int children = 0;
  for (const auto& j : c.follower().get("/v1/jobs?prefix=report/").json())
    children += j.value("ParentID", "") == "report";
  EXPECT_EQ(children, 2);

  auto status = drover::testing::run_drover({"job", "status", "report"}, c.follower().address());
  EXPECT_NE(status.out.find("Dispatched Jobs"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(child), std::string::npos) << status.out;
  for (const auto& j : c.follower().get("/v1/jobs?prefix=report/").json())
    c.follower().del("/v1/job/" + j.value("ID", ""));
  c.follower().del("/v1/job/report");

  // A parameterized job's periodic block is for its dispatched children: the leader launches
  // the dispatched child's own children ("<job>/dispatch-.../periodic-<unix>"), which run.
  const std::string parameterized = "  parameterized: {payload: forbidden}\n";
  ASSERT_EQ(c.follower().post("/v1/jobs", every_two_seconds("nightly", parameterized)).status, 200);
  auto nightly = c.follower().post("/v1/job/nightly/dispatch", "{}", "application/json");
  ASSERT_EQ(nightly.status, 200) << nightly.body;
  const std::string dispatched = nightly.json().value("DispatchedJobID", "");
  EXPECT_TRUE(c.follower()
                  .await_evaluation(nightly.json().value("EvalID", ""))
                  .value("PlacedAllocs", json::array())
                  .empty())
      << "a periodic child runs nothing itself";
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& j : c.follower().get("/v1/jobs?prefix=" + dispatched + "/periodic-").json()) {
          auto list = allocs(c.follower(), j.value("ID", ""));
          if (list.size() == 1 && list[0].value("ClientStatus", "") == "complete") return true;
        }
        return false;
      },
      20s))
      << c.follower().get("/v1/jobs?prefix=nightly/").body << c.leader().log();
  c.follower().del("/v1/job/" + dispatched);
  std::filesystem::remove_all(dir);
}

// `job run -check-index` through a server (Nomad's EnforceIndex): 0 registers a job only if
// it does not exist, the index `job plan` prints registers a change, a stale one is refused
// with Nomad's message and nothing is written.
TEST(Cluster, RunWithCheckIndexRegistersOnlyAgainstTheIndexItNames) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  auto dir = drover::testing::make_temp_dir("drover-cluster-check-index");
  drover::testing::write_file(dir + "/one.yaml", sleeper("guarded", 1));
  drover::testing::write_file(dir + "/two.yaml", sleeper("guarded", 2));
  auto& s = c.follower();
  auto run = [&](const std::string& index, const std::string& file) {
    return drover::testing::run_drover({"job", "run", "-detach", "-check-index", index, file},
                                       s.address());
  };
  auto first = run("0", dir + "/one.yaml");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  auto again = run("0", dir + "/one.yaml");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("Enforcing job modify index 0: job already exists"), std::string::npos)
      << again.out << again.err;

  // The index `job plan` prints is the job's; with it the change goes in.
  auto plan = drover::testing::run_drover({"job", "plan", dir + "/two.yaml"}, s.address());
  auto at = plan.out.find("-check-index ");
  ASSERT_NE(at, std::string::npos) << plan.out << plan.err;
  const std::string index = plan.out.substr(at + 13, plan.out.find(' ', at + 13) - at - 13);
  EXPECT_EQ(std::to_string(s.get("/v1/job/guarded").json().value("JobModifyIndex", int64_t{-1})),
            index);
  auto stale = run(std::to_string(std::stoll(index) + 1000), dir + "/two.yaml");
  EXPECT_NE(stale.exit_code, 0);
  EXPECT_NE(stale.err.find("job exists with conflicting job modify index: " + index),
            std::string::npos)
      << stale.err;
  EXPECT_EQ(s.get("/v1/job/guarded").json().value("Version", -1), 0) << "nothing was written";
  auto ok = run(index, dir + "/two.yaml");
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(s.get("/v1/job/guarded").json().value("Version", -1), 1);
  // The old index is stale now.
  EXPECT_NE(run(index, dir + "/one.yaml").exit_code, 0);
  s.del("/v1/job/guarded");
  std::filesystem::remove_all(dir);
}

// `alloc exec` through a follower: forwarded to the node that runs the alloc, which runs the
// command in the task (the exec driver's) and gives back its output and exit code.
TEST(Cluster, AllocExecAndFsThroughAFollowerReachTheTaskOnItsNode) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  if (geteuid() != 0) GTEST_SKIP() << "the exec driver needs root";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  auto node = c.agents[0]->get("/v1/node").json();
  if (!node["Drivers"].contains("exec") || !node["Drivers"]["exec"].value("Healthy", false))
    GTEST_SKIP() << "exec driver not healthy here";
  auto r = c.follower().post("/v1/jobs", R"(job:
  id: shell
  groups:
    - name: g
      tasks:
        - name: t
          driver: exec
          kill_timeout: 1s
          config: {command: /bin/sh, args: ["-c", "echo here > /local/mark; exec sleep 300"]}
          resources: {cpu: 50, memory: 64}
)");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string alloc = the_running_alloc(c.follower(), "shell");
  ASSERT_FALSE(alloc.empty()) << allocs(c.follower(), "shell").dump(2) << c.leader().log();
  drover::testing::CmdResult exec;
  // The task writes its mark just after it starts.
  ASSERT_TRUE(eventually(
      [&] {
        exec = drover::testing::run_drover(
            {"alloc", "exec", alloc.substr(0, 8), "t", "--", "/bin/sh", "-c", "cat /local/mark; exit 3"},
            c.follower().address());
        return exec.out == "here\n";
      },
      10s))
      << exec.out << exec.err;
  EXPECT_EQ(exec.exit_code, 3) << exec.err;
  // The alloc's files through the follower too (node_forward.cpp): the same mark, read from
  // the node's alloc dir.
  auto file = drover::testing::run_drover({"alloc", "fs", alloc.substr(0, 8), "t/local/mark"},
                                          c.follower().address());
  EXPECT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(file.out, "here\n");
  auto missing = drover::testing::run_drover(
      {"alloc", "exec", "ffffffff", "t", "--", "/bin/true"}, c.follower().address());
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
  c.follower().del("/v1/job/shell");
}

// A leader change in the middle of a periodic schedule: the new leader goes on from the launch
// record the old one wrote in its plan txns, so launch times are never launched twice: at most
// one child per cron time, plus one catch-up for the times the cluster had no leader.
TEST(Cluster, APeriodicJobGoesOnUnderANewLeaderWithoutLaunchingTwice) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  auto r = c.follower().post("/v1/jobs", every_two_seconds("beat"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto launches = [&](ServerProcess& s) {
    std::vector<int64_t> times;  // each child's launch time, from its id
    for (const auto& j : s.get("/v1/jobs?prefix=beat/periodic-").json())
      times.push_back(std::stoll(j.value("ID", "").substr(std::string("beat/periodic-").size())));
    std::sort(times.begin(), times.end());
    return times;
  };
  ASSERT_TRUE(eventually([&] { return launches(c.follower()).size() >= 2; }, 20s))
      << c.leader().log();

  auto& dead = c.leader();
  ServerProcess* survivor = &c.follower();
  const auto killed_at = std::chrono::system_clock::now();
  dead.kill(SIGKILL);
  const int64_t kill_s =
      std::chrono::duration_cast<std::chrono::seconds>(killed_at.time_since_epoch()).count();
  // The survivor leads once the dead one's lease lapses, and launches on.
  ASSERT_TRUE(eventually(
      [&] {
        auto t = launches(*survivor);
        return std::count_if(t.begin(), t.end(), [&](int64_t x) { return x > kill_s + kTtl; }) >= 3;
      },
      std::chrono::seconds(4 * kTtl + 20)))
      << survivor->log();
  const auto times = launches(*survivor);
  const int64_t span = times.back() - times.front();
  EXPECT_LE(static_cast<int64_t>(times.size()), span / 2 + 2)
      << "more children than cron times (plus one catch-up) over " << span << " s";
  for (std::size_t i = 1; i < times.size(); ++i) EXPECT_LT(times[i - 1], times[i]);
  EXPECT_TRUE(allocs(*survivor, "beat").empty()) << "a periodic parent gets no allocs";
  survivor->del("/v1/job/beat");
}

// Preemption (Nomad's default: on for system jobs): a low-priority job fills the agent's
// memory; a system job of priority 100 evicts it, both allocs say so, the evicted job is
// blocked for want of room, and `alloc status -verbose` shows the placement's scores. The
// scheduler configuration is Nomad's API.
TEST(Cluster, ASystemJobPreemptsALowPriorityJobThatFillsTheNode) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  auto cfg = c.follower().get("/v1/operator/scheduler/configuration").json();
  EXPECT_EQ(cfg["SchedulerConfig"]["SchedulerAlgorithm"], "binpack") << cfg.dump();
  EXPECT_EQ(cfg["SchedulerConfig"]["PreemptionConfig"]["SystemSchedulerEnabled"], true);
  EXPECT_EQ(cfg["SchedulerConfig"]["PreemptionConfig"]["ServiceSchedulerEnabled"], false);
  auto put = c.follower().post("/v1/operator/scheduler/configuration",
                               R"({"SchedulerAlgorithm": "spread"})", "application/json");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json().value("Updated", false), true);
  cfg = c.leader().get("/v1/operator/scheduler/configuration").json();
  EXPECT_EQ(cfg["SchedulerConfig"]["SchedulerAlgorithm"], "spread") << cfg.dump();
  EXPECT_EQ(cfg["SchedulerConfig"]["PreemptionConfig"]["SystemSchedulerEnabled"], true);
  EXPECT_EQ(c.follower()
                .post("/v1/operator/scheduler/configuration", R"({"SchedulerAlgorithm": 3})",
                      "application/json")
                .status,
            400);

  const std::string node = node_id(*c.agents[0]);
  const int memory = c.leader()
                         .get("/v1/node/" + node)
                         .json()["NodeResources"]["Memory"]
                         .value("MemoryMB", 0);
  ASSERT_GT(memory, 1000);
  std::string filler = sleeper("filler", 1);
  filler.replace(filler.find("memory: 32"), 10, "memory: " + std::to_string(memory - 100));
  filler.insert(filler.find("  groups:"), "  priority: 20\n");
  ASSERT_EQ(c.follower().post("/v1/jobs", filler).status, 200);
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.leader(), "filler")) == 1; }, 30s))
      << allocs(c.leader(), "filler").dump(2);
  const std::string low = allocs(c.leader(), "filler")[0].value("ID", "");

  std::string sys = sleeper("sys", 0, "system");
  sys.replace(sys.find("memory: 32"), 10, "memory: 200");
  sys.insert(sys.find("  groups:"), "  priority: 100\n");
  // `job plan` says which alloc the job would evict, and evicts nothing.
  auto dir = drover::testing::make_temp_dir("drover-cluster-preempt");
  drover::testing::write_file(dir + "/sys.yaml", sys);
  auto plan = drover::testing::run_drover({"job", "plan", dir + "/sys.yaml"}, c.follower().address());
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("Preemptions:\n\nAlloc ID"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find(low + "  filler  g"), std::string::npos) << plan.out;
  EXPECT_EQ(c.leader().get("/v1/allocation/" + low).json()["DesiredStatus"], "run");
  ASSERT_EQ(c.follower().post("/v1/jobs", sys).status, 200);
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.leader(), "sys")) == 1; }, 30s))
      << allocs(c.leader(), "sys").dump(2) << c.leader().log();
  const json high = allocs(c.leader(), "sys")[0];
  const json evicted = c.leader().get("/v1/allocation/" + low).json();
  EXPECT_EQ(evicted["DesiredStatus"], "evict") << evicted.dump(2);
  EXPECT_EQ(evicted["PreemptedByAllocation"], high["ID"]);
  const json placed = c.leader().get("/v1/allocation/" + high["ID"].get<std::string>()).json();
  EXPECT_EQ(placed["PreemptedAllocations"], json::array({low})) << placed.dump(2);
  // The agent stops the evicted alloc; its job waits, blocked, for room.
  EXPECT_TRUE(eventually(
      [&] { return c.leader().get("/v1/allocation/" + low).json()["ClientStatus"] == "complete"; },
      30s))
      << c.leader().get("/v1/allocation/" + low).body;
  EXPECT_TRUE(eventually(
      [&] {
        auto evals = c.leader().get("/v1/job/filler/evaluations").json();
        for (const auto& e : evals)
          if (e.value("Status", "") == "blocked" &&
              e.value("StatusDescription", "").find("memory") != std::string::npos)
            return true;
        return false;
      },
      30s))
      << c.leader().get("/v1/job/filler/evaluations").body;

  auto verbose = drover::testing::run_drover(
      {"alloc", "status", "-verbose", high["ID"].get<std::string>().substr(0, 8)},
      c.follower().address());
  EXPECT_EQ(verbose.exit_code, 0) << verbose.err;
  EXPECT_NE(verbose.out.find("Preempted Allocations = " + low), std::string::npos) << verbose.out;
  EXPECT_NE(verbose.out.find("Placement Metrics"), std::string::npos) << verbose.out;
  EXPECT_NE(verbose.out.find("preemption"), std::string::npos) << verbose.out;
  EXPECT_NE(verbose.out.find(node), std::string::npos) << verbose.out;
  auto evicted_status = drover::testing::run_drover({"alloc", "status", low.substr(0, 8)},
                                                    c.follower().address());
  EXPECT_NE(evicted_status.out.find("Preempted By Allocation = " + high["ID"].get<std::string>()),
            std::string::npos)
      << evicted_status.out;
  c.follower().del("/v1/job/sys");
  c.follower().del("/v1/job/filler");
}

// An affinity overrides the tie-break: two equal agents, and a job drawn to the one whose id
// sorts last (the lower id wins a tie); the alloc's scores say why.
TEST(Cluster, AnAffinityDrawsTheAllocToTheNodeItNames) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  const std::string wanted = std::max(node_id(*c.agents[0]), node_id(*c.agents[1]));
  std::string job = sleeper("drawn", 1);
  job.insert(job.find("  groups:"), "  affinities:\n    - attribute: ${node.unique.id}\n"
                                    "      value: " + wanted + "\n      weight: 100\n");
  ASSERT_EQ(c.follower().post("/v1/jobs", job).status, 200);
  ASSERT_TRUE(eventually([&] { return total(running_per_node(c.leader(), "drawn")) == 1; }, 30s))
      << allocs(c.leader(), "drawn").dump(2);
  EXPECT_EQ(running_per_node(c.leader(), "drawn").count(wanted), 1u);
  const std::string id = allocs(c.leader(), "drawn")[0].value("ID", "");
  const json meta = c.leader().get("/v1/allocation/" + id).json()["Metrics"]["ScoreMetaData"];
  ASSERT_EQ(meta.size(), 2u) << meta.dump(2);
  EXPECT_EQ(meta[0]["NodeID"], wanted);
  EXPECT_EQ(meta[0]["Scores"]["node-affinity"], 1.0);
  EXPECT_EQ(meta[1]["Scores"]["node-affinity"], 0.0);
  c.follower().del("/v1/job/drawn");
}

// `drover system gc`: a finished batch job and a stopped service job go from the servers and
// etcd with their allocs, evaluations and the node's status keys; a running job stays whole.
TEST(Cluster, SystemGcCollectsFinishedJobsAndLeavesRunningOnes) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  std::string once = sleeper("once", 1, "batch");
  once.replace(once.find("echo started; exec sleep 300"), 28, "echo done");
  ASSERT_EQ(c.follower().post("/v1/jobs", once).status, 200);
  ASSERT_EQ(c.follower().post("/v1/jobs", sleeper("keep", 1)).status, 200);
  ASSERT_EQ(c.follower().post("/v1/jobs", sleeper("web", 1)).status, 200);
  const std::string keep = the_running_alloc(c.leader(), "keep");
  const std::string web = the_running_alloc(c.leader(), "web");
  ASSERT_FALSE(keep.empty());
  ASSERT_FALSE(web.empty());
  std::string once_alloc;
  ASSERT_TRUE(eventually(
      [&] {
        auto list = allocs(c.leader(), "once");
        if (list.size() != 1 || list[0].value("ClientStatus", "") != "complete") return false;
        once_alloc = list[0].value("ID", "");
        return true;
      },
      30s))
      << allocs(c.leader(), "once").dump(2);
  ASSERT_EQ(c.follower().del("/v1/job/web").status, 200);
  ASSERT_TRUE(eventually(
      [&] {
        auto list = allocs(c.leader(), "web");
        return list.size() == 1 && list[0].value("ClientStatus", "") == "complete";
      },
      30s))
      << allocs(c.leader(), "web").dump(2);

  auto gc = drover::testing::run_drover({"system", "gc"}, c.follower().address());
  ASSERT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_NE(gc.out.find("Collected 2 jobs"), std::string::npos) << gc.out;
  EXPECT_EQ(c.follower().get("/v1/job/once").status, 404);
  EXPECT_EQ(c.follower().get("/v1/job/web").status, 404);
  EXPECT_EQ(c.follower().get("/v1/allocation/" + once_alloc).status, 404);
  // The agent forgets them too, without writing their status again.
  EXPECT_TRUE(eventually(
      [&] {
        return c.agents[0]->get("/v1/allocation/" + once_alloc).status == 404 &&
               c.agents[0]->get("/v1/allocation/" + web).status == 404;
      },
      20s))
      << c.agents[0]->log();
  EXPECT_EQ(c.agents[0]->log().find("removed, stopping it"), std::string::npos)
      << c.agents[0]->log();
  // Nothing of them is left in etcd, the node's status keys included; `keep` is whole.
  const std::string left = c.etcd.ctl("get --prefix /drover/ --keys-only");
  for (const auto& gone : {once_alloc, web, std::string("/once"), std::string("/web")})
    EXPECT_EQ(left.find(gone), std::string::npos) << gone << " still in etcd:\n" << left;
  EXPECT_NE(left.find(keep), std::string::npos);
  EXPECT_EQ(c.follower().get("/v1/job/keep").status, 200);
  EXPECT_EQ(total(running_per_node(c.leader(), "keep")), 1);
  c.follower().del("/v1/job/keep");
}

// Under systemd (packaging/drover-server.service, Type=notify) the server says READY=1 once it
// serves, and STOPPING=1 on SIGTERM; here a datagram socket stands in for systemd's.
TEST(Cluster, AServerTellsSystemdItIsReadyAndThatItIsStopping) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  const std::string path = drover::testing::make_temp_dir("drover-notify") + "/notify.sock";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto next = [&] {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  auto server = ServerProcess::start("s1", server_config(etcd));
  ::unsetenv("NOTIFY_SOCKET");
  const std::string ready = next();
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready << server->log();
  EXPECT_EQ(server->get("/v1/status/leader").status, 200);
  server->kill(SIGTERM);
  std::string stopping;
  for (int i = 0; i < 5 && stopping.find("STOPPING=1") == std::string::npos; ++i) stopping = next();
  EXPECT_NE(stopping.find("STOPPING=1"), std::string::npos) << stopping << server->log();
  ::close(fd);
}

// gRPC lives in the etcd module (agent/upstream/etcd_module.hpp), loaded on the first etcd
// call: a server whose module is missing says which file and why, and keeps trying.
TEST(Cluster, AServerWithoutItsEtcdModuleSaysWhichFileItCouldNotLoad) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server is not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  const std::string missing = drover::testing::make_temp_dir("drover-no-module") + "/etcd-grpc.so";
  ::setenv("DROVER_ETCD_MODULE", missing.c_str(), 1);
  auto server = ServerProcess::start("s1", server_config(etcd));
  ::unsetenv("DROVER_ETCD_MODULE");
  EXPECT_TRUE(eventually(
      [&] {
        return server->log().find("etcd is unavailable: loading " + missing) != std::string::npos;
      },
      20s))
      << server->log();
  EXPECT_EQ(server->get("/v1/status/leader").json(), "") << "no leader without etcd";
}

namespace {

// A Nomad job file whose one alloc sleeps, with `disconnect` as its group's block.
std::string edge_job(const std::string& disconnect) {
  return "job \"edge\" {\n  group \"g\" {\n    disconnect {\n" + disconnect +
         "\n    }\n    task \"t\" {\n      driver       = \"raw_exec\"\n"
         "      kill_timeout = \"1s\"\n      config {\n        command = \"/bin/sh\"\n"
         "        args    = [\"-c\", \"echo started; exec sleep 300\"]\n      }\n"
         "      resources {\n        cpu    = 50\n        memory = 32\n      }\n    }\n  }\n}\n";
}

// The agent whose node runs the job's alloc `id`.
AgentProcess* agent_of(Cluster& c, const ServerProcess& s, const std::string& job,
                       const std::string& id) {
  for (const auto& a : allocs(s, job))
    if (a.value("ID", "") == id)
      for (auto& agent : c.agents)
        if (node_id(*agent) == a.value("NodeID", "")) return agent.get();
  return nullptr;
}

json alloc_of(const ServerProcess& s, const std::string& job, const std::string& id) {
  for (const auto& a : allocs(s, job))
    if (a.value("ID", "") == id) return a;
  return json::object();
}

// Resumes a SIGSTOPped agent however the test ends.
struct Resume {
  pid_t pid;
  ~Resume() { ::kill(pid, SIGCONT); }
};

}  // namespace

TEST(Cluster, AnAgentBackWithinLostAfterKeepsItsAllocAndItsReplacementIsStopped) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  auto& s = c.follower();
  auto dir = drover::testing::make_temp_dir("drover-cluster-disconnect");
  drover::testing::write_file(
      dir + "/edge.nomad.hcl",
      edge_job("      lost_after = \"5m\"\n      reconcile  = \"keep_original\""));
  auto run = drover::testing::run_drover({"job", "run", "-detach", dir + "/edge.nomad.hcl"},
                                         s.address());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string original = the_running_alloc(s, "edge");
  ASSERT_FALSE(original.empty()) << allocs(s, "edge").dump(2);
  const json started = alloc_of(s, "edge", original)["TaskStates"]["t"]["StartedAt"];
  AgentProcess* away = agent_of(c, s, "edge", original);
  ASSERT_NE(away, nullptr);

  // The agent freezes: its lease lapses, its alloc is unknown (not lost) and, as replace
  // defaults to true, a replacement runs on the other node meanwhile.
  ::kill(away->pid(), SIGSTOP);
  std::string replacement;
  {
    Resume resume{away->pid()};
    ASSERT_TRUE(eventually(
        [&] {
          if (alloc_of(s, "edge", original).value("ClientStatus", "") != "unknown") return false;
          for (const auto& a : allocs(s, "edge"))
            if (a.value("PreviousAllocation", "") == original &&
                a.value("ClientStatus", "") == "running")
              replacement = a.value("ID", "");
          return !replacement.empty();
        },
        30s))
        << allocs(s, "edge").dump(2) << c.leader().log();
    const json unknown = alloc_of(s, "edge", original);
    EXPECT_EQ(unknown["DesiredStatus"], "run");
    EXPECT_EQ(unknown["ClientDescription"], "alloc is unknown since its node is disconnected");
    auto status = drover::testing::run_drover({"job", "status", "edge"}, s.address());
    EXPECT_NE(status.out.find("Lost  Unknown\ng           0       0         1        0       0"
                              "         0     1\n"),
              std::string::npos)
        << status.out;
  }

  // Back within lost_after: the original is kept, never restarted; its replacement stops.
  ASSERT_TRUE(eventually(
      [&] {
        const json o = alloc_of(s, "edge", original);
        const json r = alloc_of(s, "edge", replacement);
        return o.value("ClientStatus", "") == "running" && o.value("DesiredStatus", "") == "run" &&
               r.value("DesiredStatus", "") == "stop" && r.value("ClientStatus", "") == "complete";
      },
      30s))
      << allocs(s, "edge").dump(2) << c.leader().log();
  EXPECT_EQ(alloc_of(s, "edge", original)["TaskStates"]["t"]["StartedAt"], started);
  EXPECT_EQ(alloc_of(s, "edge", replacement)["DesiredDescription"],
            "alloc not needed due to disconnected client reconnect");
  expect_no_duplicate_placement(s, "edge", 1);
  drover::testing::run_drover({"job", "stop", "edge"}, s.address());
  std::filesystem::remove_all(dir);
}

TEST(Cluster, AnAgentOutOfTouchForStopOnClientAfterStopsTheAllocItself) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(1)) << c.servers[0]->log();
  auto& s = c.follower();
  auto dir = drover::testing::make_temp_dir("drover-cluster-stop-after");
  drover::testing::write_file(dir + "/edge.nomad.hcl",
                              edge_job("      stop_on_client_after = \"2s\""));
  auto run = drover::testing::run_drover({"job", "run", "-detach", dir + "/edge.nomad.hcl"},
                                         s.address());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string id = the_running_alloc(s, "edge");
  ASSERT_FALSE(id.empty()) << allocs(s, "edge").dump(2);
  auto& agent = *c.agents[0];

  // etcd goes: the agent can reach no server, and after 2s it stops the alloc on its own.
  c.etcd.stop();
  json local;
  ASSERT_TRUE(eventually(
      [&] {
        local = agent.get("/v1/allocation/" + id).json();
        return local.value("ClientStatus", "") == "complete";
      },
      30s))
      << local.dump(2) << agent.log();
  bool said_why = false;
  for (const auto& e : local["TaskStates"]["t"].value("Events", json::array()))
    said_why |= e.value("DisplayMessage", "").find("disconnect.stop_on_client_after") !=
                    std::string::npos ||
                e.value("KillReason", "").find("disconnect.stop_on_client_after") !=
                    std::string::npos;
  EXPECT_TRUE(said_why) << local["TaskStates"].dump(2);
  EXPECT_NE(agent.log().find("no contact with the servers for 2s"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Cluster, AHostVolumeIsCreatedListedAndDeletedThroughAServerOnTheNodeItNames) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  auto& s = c.follower();
  const std::string target = node_id(*c.agents[1]);
  auto dir = drover::testing::make_temp_dir("drover-cluster-volume");
  drover::testing::write_file(dir + "/v.hcl", "name    = \"scratch\"\ntype    = \"host\"\n"
                                              "node_id = \"" + target.substr(0, 8) + "\"\n");
  auto created = drover::testing::run_drover({"volume", "create", dir + "/v.hcl"}, s.address());
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  // Made by that node's agent, and listed by the server once the node registered it again.
  json volume;
  ASSERT_TRUE(eventually(
      [&] {
        auto list = s.get("/v1/volumes?type=host").json();
        if (!list.is_array() || list.size() != 1) return false;
        volume = list[0];
        return true;
      },
      20s))
      << s.get("/v1/volumes?type=host").body;
  EXPECT_EQ(volume["NodeID"], target);
  EXPECT_EQ(volume["Name"], "scratch");
  EXPECT_EQ(volume["Namespace"], "default");
  EXPECT_EQ(volume["PluginID"], "mkdir");
  EXPECT_EQ(s.get("/v1/volumes?type=host&namespace=other").json().size(), 0u)
      << "listed by namespace, as an agent lists them";
  const std::string id = volume["ID"];
  EXPECT_TRUE(c.agents[1]->get("/v1/volume/host/" + id).status == 200);
  EXPECT_EQ(c.agents[0]->get("/v1/volume/host/" + id).status, 404);
  auto status = drover::testing::run_drover({"volume", "status", "scratch"}, s.address());
  EXPECT_NE(status.out.find("Plugin ID = mkdir"), std::string::npos) << status.out << status.err;
  // A register names its node; a create by a name the node has answers the same volume.
  drover::testing::write_file(dir + "/r.hcl", "name = \"other\"\ntype = \"host\"\nhost_path = \"" +
                                                  dir + "\"\n");
  auto reg = drover::testing::run_drover({"volume", "register", dir + "/r.hcl"}, s.address());
  EXPECT_NE(reg.exit_code, 0);
  EXPECT_NE(reg.err.find("Volume.NodeID"), std::string::npos) << reg.err;
  auto deleted = drover::testing::run_drover({"volume", "delete", "scratch"}, s.address());
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(c.agents[1]->get("/v1/volume/host/" + id).status, 404);

  // No node_id: the server chooses among the nodes that meet the volume's constraints.
  const std::string first = node_id(*c.agents[0]);
  auto on = [&](const std::string& name, const std::string& want) {
    drover::testing::write_file(dir + "/" + name + ".hcl",
                                "name = \"" + name + "\"\ntype = \"host\"\n"
                                "constraint {\n  attribute = \"${node.unique.id}\"\n  value = \"" +
                                    want + "\"\n}\n");
    return drover::testing::run_drover({"volume", "create", dir + "/" + name + ".hcl"},
                                       s.address());
  };
  auto placed = on("pinned", first);
  ASSERT_EQ(placed.exit_code, 0) << placed.out << placed.err;
  EXPECT_TRUE(c.agents[0]->get("/v1/node").json()["HostVolumes"].contains("pinned"));
  auto nowhere = on("nowhere", "no-such-node");
  EXPECT_NE(nowhere.exit_code, 0);
  EXPECT_NE(nowhere.err.find("constraint \"${node.unique.id} = no-such-node\" filtered 2 nodes"),
            std::string::npos)
      << nowhere.err;
  // Deleted once the server lists it (the node registers again with it).
  EXPECT_TRUE(eventually(
      [&] {
        return drover::testing::run_drover({"volume", "delete", "pinned"}, s.address())
                   .exit_code == 0;
      },
      20s));
  std::filesystem::remove_all(dir);
}

// A node whose agent is gone stays known as Nomad keeps it (docs/cluster.md, "Down nodes"):
// listed down, readable, not drained; forgotten by a purge or by node GC, never while up.
TEST(Cluster, AKilledAgentsNodeIsListedDownUntilPurgedOrCollected) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(3)) << c.servers[0]->log();
  auto& s = c.follower();
  const std::string up = node_id(*c.agents[0]), purged = node_id(*c.agents[1]),
                    collected = node_id(*c.agents[2]);
  c.agents[1]->kill(SIGKILL);
  c.agents[2]->kill(SIGKILL);
  // Marked down by the leader once each lease lapsed, with the time it saw it.
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& id : {purged, collected}) {
          auto n = s.get("/v1/node/" + id).json();
          if (n.value("Status", "") != "down" || n.value("StatusUpdatedAt", int64_t{0}) == 0)
            return false;
        }
        return true;
      },
      30s))
      << s.get("/v1/nodes").body << c.leader().log();
  EXPECT_EQ(c.nodes(), 3) << "listed still";
  const std::string metrics = s.get("/v1/metrics?format=prometheus").body;
  EXPECT_NE(metrics.find("drover_server_nodes{eligibility=\"eligible\",status=\"down\"} 2"),
            std::string::npos)
      << metrics;
  auto list = drover::testing::run_drover({"node", "status"}, s.address());
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const auto& line : {purged.substr(0, 8), collected.substr(0, 8)}) {
    auto at = list.out.find(line);
    ASSERT_NE(at, std::string::npos) << list.out;
    EXPECT_NE(list.out.substr(at, list.out.find('\n', at) - at).find("down"), std::string::npos)
        << list.out;
  }
  auto one = drover::testing::run_drover({"node", "status", purged.substr(0, 8)}, s.address());
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("Status Updated"), std::string::npos) << one.out;
  // Nothing there to drain; a live node is not purged.
  auto drain = s.post("/v1/node/" + purged + "/drain", R"({"DrainSpec": {"Deadline": 0}})",
                      "application/json");
  EXPECT_EQ(drain.status, 409) << drain.body;
  auto live = s.post("/v1/node/" + up + "/purge", "", "application/json");
  EXPECT_EQ(live.status, 409) << live.body;
  EXPECT_NE(live.body.find("is up"), std::string::npos) << live.body;

  auto purge = s.post("/v1/node/" + purged + "/purge", "", "application/json");
  EXPECT_EQ(purge.status, 200) << purge.body;
  EXPECT_TRUE(eventually([&] { return s.get("/v1/node/" + purged).status == 404; }, 10s));
  // `system gc` takes the other, whatever its age: nothing was left to run on it.
  auto gc = drover::testing::run_drover({"system", "gc"}, s.address());
  ASSERT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_NE(gc.out.find("1 down nodes"), std::string::npos) << gc.out;
  EXPECT_TRUE(eventually([&] { return c.nodes() == 1; }, 10s)) << s.get("/v1/nodes").body;
  EXPECT_EQ(s.get("/v1/node/" + up).json().value("Status", ""), "ready");
  const std::string left = c.etcd.ctl("get --prefix /drover/node_records/ --keys-only");
  EXPECT_EQ(left.find(purged), std::string::npos) << left;
  EXPECT_EQ(left.find(collected), std::string::npos) << left;
  EXPECT_NE(left.find(up), std::string::npos) << left;
}

// Nomad's alloc stop through a server (docs/cluster.md, "Stopping an alloc"): the alloc stops
// and is placed anew, linked to it; `job restart -reschedule` does so a batch at a time and
// waits for each replacement to run. An agent alone refuses -reschedule, saying why.
TEST(Cluster, AnAllocStoppedThroughAServerIsPlacedAnewAndRestartRescheduleReplacesEach) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  Cluster c;
  ASSERT_TRUE(c.start(2)) << c.servers[0]->log();
  auto& s = c.follower();
  ASSERT_EQ(s.post("/v1/jobs", sleeper("web", 2)).status, 200);
  ASSERT_TRUE(eventually([&] { return total(running_per_node(s, "web")) == 2; }, 30s))
      << allocs(s, "web").dump(2);
  const std::string first = allocs(s, "web")[0].value("ID", "");

  auto stop = drover::testing::run_drover({"alloc", "stop", first.substr(0, 8)}, s.address());
  ASSERT_EQ(stop.exit_code, 0) << stop.out << stop.err;
  std::string next;
  ASSERT_TRUE(eventually(
      [&] {
        auto a = s.get("/v1/allocation/" + first).json();
        next = a.value("NextAllocation", "");
        return a.value("DesiredStatus", "") == "stop" && !next.empty() &&
               s.get("/v1/allocation/" + next).json().value("ClientStatus", "") == "running";
      },
      30s))
      << s.get("/v1/allocation/" + first).body << c.leader().log();
  EXPECT_EQ(s.get("/v1/allocation/" + first).json().value("DesiredDescription", ""),
            "alloc was stopped by an operator");
  EXPECT_EQ(s.get("/v1/allocation/" + next).json().value("PreviousAllocation", ""), first);
  auto again = s.post("/v1/allocation/" + first + "/stop", "{}", "application/json");
  EXPECT_EQ(again.status, 409) << "stopped already: " << again.body;

  // Every running alloc replaced, two at a time.
  auto restart = drover::testing::run_drover(
      {"job", "restart", "-reschedule", "-batch-size", "2", "-yes", "web"}, s.address());
  ASSERT_EQ(restart.exit_code, 0) << restart.out << restart.err << c.leader().log();
  std::size_t replaced = 0;
  for (auto at = restart.out.find("replaced by"); at != std::string::npos;
       at = restart.out.find("replaced by", at + 1))
    ++replaced;
  EXPECT_EQ(replaced, 2u) << restart.out;
  EXPECT_EQ(total(running_per_node(s, "web")), 2);
  expect_no_duplicate_placement(s, "web", 2);

  auto alone = drover::testing::run_drover({"job", "restart", "-reschedule", "web"},
                                           c.agents[0]->address());
  EXPECT_NE(alone.exit_code, 0);
  EXPECT_NE(alone.err.find("-reschedule needs a drover server"), std::string::npos) << alone.err;
  drover::testing::run_drover({"job", "stop", "web"}, s.address());
}
