// docker tasks through the agent: the real docker.so, a real dockerd (the docker fixture
// starts one when none answers) and a local busybox image.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "agent_process.hpp"
#include "docker_registry.hpp"

using drover::testing::AgentProcess;
using drover::testing::docker_cli;
using drover::testing::make_temp_dir;
using nlohmann::json;

namespace {

std::string task(const std::string& name, const std::string& args,
                 const std::string& resources = "{memory: 64}",
                 const std::string& image = "drover-test/busybox:latest") {
  return "        - name: " + name +
         "\n          driver: docker\n          kill_timeout: 2s\n"
         "          env: {GREETING: hello}\n          resources: " +
         resources +
         "\n"
         "          config:\n            image: " +
         image +
         "\n"
         "            network_mode: none\n            command: sh\n            args: " +
         args + "\n";
}

std::string group(const std::string& id, const std::string& type, const std::string& tasks) {
  return "job:\n  id: " + id + "\n  type: " + type +
         "\n  groups:\n    - name: g\n      restart: {attempts: 0, mode: fail}\n      tasks:\n" +
         tasks;
}

std::string job(const std::string& id, const std::string& type, const std::string& args,
                const std::string& resources = "{memory: 64}") {
  return group(id, type, task("t", args, resources));
}

// The types of a task's events, oldest first.
std::vector<std::string> event_types(const json& alloc, const std::string& task) {
  std::vector<std::string> types;
  for (const auto& e : alloc["TaskStates"][task]["Events"]) types.push_back(e["Type"]);
  return types;
}

// The container the agent runs for the task (by the driver's labels); "" when none.
std::string container_of(const std::string& alloc_id, const std::string& task) {
  return docker_cli("ps -aq --no-trunc -f label=com.drover.alloc_id=" + alloc_id +
                    " -f label=com.drover.task=" + task);
}

// Every line of a counter task's log is the next number from 0: no gap, no repeat.
// Returns how many lines there are (-1 after a failed expectation).
int consecutive_lines(const std::string& log) {
  std::istringstream in(log);
  int expect = 0;
  for (std::string line; std::getline(in, line); ++expect) {
    if (line != std::to_string(expect)) {
      ADD_FAILURE() << "line " << expect << " is \"" << line << "\": a gap or a repeat in\n" << log;
      return -1;
    }
  }
  return expect;
}

constexpr const char* kCounter =
    "[\"-c\", \"i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done\"]";

}  // namespace

TEST(DockerTasks, BatchContainerRunsWithEnvAndLogsAndItsExitCode) {
  auto agent = AgentProcess::start();
  auto ok = agent->submit(job("dok", "batch", "[\"-c\", \"echo $GREETING from $NOMAD_TASK_NAME\"]"));
  ASSERT_EQ(ok.size(), 1u);
  agent->wait_client_status(ok[0], "complete", std::chrono::seconds(60));
  EXPECT_EQ(agent->get("/v1/client/fs/logs/" + ok[0] + "?task=t").body, "hello from t\n");
  auto bad = agent->submit(job("dbad", "batch", "[\"-c\", \"exit 5\"]"));
  auto a = agent->wait_client_status(bad[0], "failed", std::chrono::seconds(60));
  bool saw = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"]) saw |= e["Type"] == "Terminated" && e["ExitCode"] == 5;
  EXPECT_TRUE(saw) << a.dump(2);
}

TEST(DockerTasks, ContainerSitsInsideTheTasksCgroupWithItsMemoryLimit) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("dmem", "service", "[\"-c\", \"sleep 1000\"]", "{memory: 48}"));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running", std::chrono::seconds(60));
  auto dir = "/sys/fs/cgroup/memory/" + agent->cgroup_parent() + "/" + ids[0] + ".t";
  std::ifstream limit(dir + "/memory.limit_in_bytes");
  long long bytes = 0;
  limit >> bytes;
  EXPECT_EQ(bytes, 48LL << 20);
  bool nested = false;
  for (const auto& e : std::filesystem::directory_iterator(dir)) nested |= e.is_directory();
  EXPECT_TRUE(nested) << "the container's cgroup is not inside the task's";
  ASSERT_EQ(agent->del("/v1/job/dmem").status, 200);
  agent->wait_client_status(ids[0], "complete", std::chrono::seconds(30));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

// Nomad's cpu_hard_limit through the real agent: the task's cpu MHz over this node's MHz per
// core (the cpu.frequency it fingerprinted) is the container's CFS quota.
TEST(DockerTasks, CpuHardLimitIsTheTasksCpuAsAShareOfTheNodesCores) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(
      "job:\n  id: dcap\n  type: service\n  groups:\n    - name: g\n      tasks:\n"
      "        - name: t\n          driver: docker\n          resources: {cpu: 300, memory: 64}\n"
      "          config: {image: \"drover-test/busybox:latest\", network_mode: none, command: sleep, "
      "args: [\"1000\"], cpu_hard_limit: true}\n");
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running", std::chrono::seconds(60));
  const json node = agent->get("/v1/node").json();
  const long long mhz = std::stoll(node["Attributes"].value("cpu.frequency", "0"));
  ASSERT_GT(mhz, 0) << node.dump();
  EXPECT_EQ(docker_cli("inspect -f '{{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}}' " + container_of(ids[0], "t")),
            "100000 " + std::to_string(std::max(1000LL, 300 * 100000 / mhz)));
  ASSERT_EQ(agent->del("/v1/job/dcap").status, 200);
  agent->wait_client_status(ids[0], "complete", std::chrono::seconds(30));
}

TEST(DockerTasks, OomKillIsReported) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("doom", "batch", "[\"-c\", \"head -c 200m /dev/zero | tail\"]", "{memory: 32}"));
  auto a = agent->wait_client_status(ids[0], "failed", std::chrono::seconds(60));
  bool oom = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"])
    oom |= e["Type"] == "Terminated" && e["Details"].value("oom_killed", "") == "true";
  EXPECT_TRUE(oom) << a.dump(2);
}

TEST(DockerTasks, PrivilegedIsRefusedBeforeAnythingRuns) {
  auto agent = AgentProcess::start();
  auto text = job("dpriv", "batch", "[\"-c\", \"true\"]");
  text += "            privileged: true\n";
  auto r = agent->post("/v1/jobs", text);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("allow_privileged"), std::string::npos) << r.body;
}

// The issue's scenario: kill -9 the agent with two containers running, start it again. Both
// still run in the same containers, nothing was restarted, and their logs go on with no gap.
TEST(DockerTasks, TwoRunningContainersSurviveAnAgentKillAndAreNotRestarted) {
  auto dir = make_temp_dir("drover-docker");
  std::string id;
  std::map<std::string, std::string> containers, started_at;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    auto ids = agent->submit(group("dkeep", "service", task("a", kCounter) + task("b", kCounter)));
    ASSERT_EQ(ids.size(), 1u);
    id = ids[0];
    agent->wait_alloc(
        id,
        [](const json& a) {
          return a["TaskStates"]["a"]["State"] == "running" &&
                 a["TaskStates"]["b"]["State"] == "running";
        },
        std::chrono::seconds(60));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (const char* t : {"a", "b"}) {
      containers[t] = container_of(id, t);
      ASSERT_EQ(containers[t].size(), 64u) << "no single container for task " << t;
      started_at[t] = docker_cli("inspect -f '{{.State.StartedAt}}' " + containers[t]);
    }
    agent->kill(SIGKILL);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // lines printed meanwhile count
  auto agent = AgentProcess::start({.data_dir = dir});
  for (const char* t : {"a", "b"}) {
    // The logs go on after the restart: 10 more lines than there were at first land.
    auto lines = [&] {
      auto log = agent->get("/v1/client/fs/logs/" + id + "?task=" + t).body;
      return std::make_pair(std::count(log.begin(), log.end(), '\n'), log);
    };
    const auto first = lines().first;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto now = lines();
    while (now.first <= first + 10 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      now = lines();
    }
    EXPECT_GT(now.first, first + 10) << "task " << t << "'s log stopped after the restart";
    EXPECT_EQ(consecutive_lines(now.second), now.first) << "task " << t;
    EXPECT_EQ(container_of(id, t), containers[t]) << "task " << t << " runs in another container";
    EXPECT_EQ(docker_cli("inspect -f '{{.State.Running}} {{.State.StartedAt}}' " + containers[t]),
              "true " + started_at[t])
        << "task " << t << "'s container was restarted";
  }
  auto a = agent->alloc(id);
  EXPECT_EQ(a["ClientStatus"], "running") << a.dump(2);
  for (const char* t : {"a", "b"}) {
    EXPECT_EQ(a["TaskStates"][t]["Restarts"], 0) << t;
    auto types = event_types(a, t);
    EXPECT_EQ(std::count(types.begin(), types.end(), "Started"), 1) << t << ": " << a.dump(2);
  }
  ASSERT_EQ(agent->del("/v1/job/dkeep").status, 200);
  agent->wait_client_status(id, "complete", std::chrono::seconds(30));
}

// An image that is not on the node is pulled from its registry, and the task's events say so
// before they say it started.
TEST(DockerTasks, PulledImageShowsDownloadingImageBeforeStarted) {
  auto registry = drover::testing::LocalRegistry::start();
  ASSERT_TRUE(registry);
  const std::string image = registry->push_fresh_image("pull");
  ASSERT_FALSE(image.empty());
  auto agent = AgentProcess::start();
  auto ids = agent->submit(
      group("dpull", "batch",
            task("t", "[\"-c\", \"test -f /blob && echo pulled\"]", "{memory: 64}", image)));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "complete", std::chrono::seconds(60));
  EXPECT_EQ(agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body, "pulled\n");
  auto types = event_types(a, "t");
  auto downloading = std::find(types.begin(), types.end(), "Downloading Image");
  auto started = std::find(types.begin(), types.end(), "Started");
  ASSERT_NE(downloading, types.end()) << a.dump(2);
  ASSERT_NE(started, types.end()) << a.dump(2);
  EXPECT_LT(downloading - types.begin(), started - types.begin()) << a.dump(2);
  const auto& events = a["TaskStates"]["t"]["Events"];
  EXPECT_EQ(events[downloading - types.begin()]["DisplayMessage"], "Downloading image " + image)
      << a.dump(2);
  // The last pull event, right before Started, says the pull is done and how much came down.
  EXPECT_EQ(events[started - types.begin() - 1]["DisplayMessage"],
            "Image " + image + " pulled (2.9 MiB downloaded)")
      << a.dump(2);
  docker_cli("rmi -f " + image);
}

TEST(DockerTasks, UnreachableRegistryIsADriverFailureNamingTheImage) {
  auto agent = AgentProcess::start();
  // A registry address nothing listens on: one that was just stopped.
  std::string image;
  {
    auto registry = drover::testing::LocalRegistry::start();
    ASSERT_TRUE(registry);
    image = registry->address() + "/drover-test/none:1";
  }
  auto ids = agent->submit(
      group("dnoreg", "batch", task("t", "[\"-c\", \"true\"]", "{memory: 64}", image)));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "failed", std::chrono::seconds(60));
  std::string failure;
  for (const auto& e : a["TaskStates"]["t"]["Events"])
    if (e["Type"] == "Driver Failure") failure = e["DisplayMessage"];
  EXPECT_NE(failure.find("pulling image " + image + ": "), std::string::npos) << a.dump(2);
  EXPECT_NE(failure.find("connection refused"), std::string::npos) << a.dump(2);
}

// A container labelled for an alloc the agent does not know (it died between creating the
// container and persisting the alloc) is gone as soon as the agent is up again; the container
// of an alloc it knows keeps running, and so does another agent's (its alloc dir elsewhere).
TEST(DockerTasks, DanglingContainerOfAnUnknownAllocIsRemovedAtStart) {
  auto dir = make_temp_dir("drover-docker");
  std::string id, known;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    auto ids = agent->submit(job("dreap", "service", "[\"-c\", \"sleep 1000\"]"));
    id = ids[0];
    agent->wait_client_status(id, "running", std::chrono::seconds(60));
    known = container_of(id, "t");
    ASSERT_FALSE(known.empty());
    agent->kill(SIGKILL);
  }
  // Labelled as the driver labels: alloc id, task, and the alloc dir under the data dir.
  auto labelled = [](const std::string& alloc, const std::string& alloc_dir) {
    return docker_cli("create --network none --label com.drover.alloc_id=" + alloc +
                      " --label com.drover.task=t --label com.drover.alloc_dir=" + alloc_dir +
                      " drover-test/busybox:latest sleep 1000");
  };
  const std::string lost = "never-persisted-" + std::to_string(getpid());
  const std::string dangling = labelled(lost, dir + "/alloc/" + lost);
  const std::string foreign = labelled(lost, dir + "-other-agent/alloc/" + lost);
  ASSERT_FALSE(dangling.empty());
  ASSERT_FALSE(foreign.empty());
  auto agent = AgentProcess::start({.data_dir = dir});
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < until &&
         !docker_cli("ps -aq -f id=" + dangling).empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(docker_cli("ps -aq -f id=" + dangling), "") << "the dangling container is still there";
  EXPECT_NE(docker_cli("ps -aq -f id=" + foreign), "") << "another agent's container was reaped";
  docker_cli("rm -f " + foreign);
  EXPECT_EQ(docker_cli("inspect -f '{{.State.Running}}' " + known), "true");
  EXPECT_EQ(agent->alloc(id)["ClientStatus"], "running");
  ASSERT_EQ(agent->del("/v1/job/dreap").status, 200);
  agent->wait_client_status(id, "complete", std::chrono::seconds(30));
}

// Ports (docs/networking.md): the agent's allocated host port is published to the
// container's port (the port's `to`), and curl on the host reaches it at NOMAD_ADDR_<label>.
// The containers join a user-defined bridge network (network_mode): the fixture's dockerd may
// run without its default bridge (--bridge=none), and a user-defined one publishes ports
// through docker's userland proxy with or without iptables.
namespace {

constexpr const char* kPortsNetwork = "drover-test-ports";

void ensure_ports_network() {
  if (docker_cli(std::string("network ls -q -f name=^") + kPortsNetwork + "$").empty())
    docker_cli(std::string("network create ") + kPortsNetwork);
  ASSERT_FALSE(docker_cli(std::string("network ls -q -f name=^") + kPortsNetwork + "$").empty());
}

std::string curl(const std::string& url) {
  std::string out;
  if (FILE* p = popen(("curl -sf --max-time 2 " + url + " 2>/dev/null").c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    pclose(p);
  }
  return out;
}

std::string httpd_container_job(const std::string& id, const std::string& ports_config,
                                 const std::string& port_block) {
  return "job:\n  id: " + id +
         "\n  groups:\n    - name: g\n      restart: {attempts: 0, mode: fail}\n"
         "      network:\n        ports:\n" +
         port_block +
         "      tasks:\n        - name: web\n          driver: docker\n          kill_timeout: 2s\n"
         "          resources: {memory: 64}\n          config:\n            image: " +
         std::string(drover::testing::kBusyboxImage) + "\n" + ports_config +
         "            network_mode: " + kPortsNetwork + "\n            command: sh\n"
         "            args: [\"-c\", \"echo hello-docker > /tmp/index.html; exec httpd -f -p 8080 "
         "-h /tmp\"]\n";
}

}  // namespace

TEST(DockerTasks, PortsArePublishedToTheirToPortAndReachedWithCurl) {
  ASSERT_NO_FATAL_FAILURE(ensure_ports_network());
  auto agent = AgentProcess::start();
  auto ids = agent->submit(httpd_container_job("dports", "            ports: [http]\n",
                                               "          http: {to: 8080}\n"));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "running", std::chrono::seconds(60));
  const auto& p = a["AllocatedResources"]["Shared"]["Ports"][0];
  ASSERT_EQ(p["Label"], "http") << a.dump(2);
  EXPECT_EQ(p["To"], 8080);
  const std::string addr = p["HostIP"].get<std::string>() + ":" + std::to_string(p["Value"].get<int>());
  std::string body;
  EXPECT_TRUE(drover::testing::eventually(
      [&] { return (body = curl("http://" + addr + "/index.html")) == "hello-docker\n"; },
      std::chrono::seconds(20)))
      << "curl http://" << addr << " gave \"" << body << "\"\n"
      << docker_cli("inspect " + container_of(ids[0], "web"));
  ASSERT_EQ(agent->del("/v1/job/dports").status, 200);
  agent->wait_client_status(ids[0], "complete", std::chrono::seconds(30));
}

TEST(DockerTasks, TheOlderPortMapFromAnHclBlockPublishesToo) {
  ASSERT_NO_FATAL_FAILURE(ensure_ports_network());
  auto agent = AgentProcess::start();
  // port_map as an HCL block arrives as a list of maps, the shape `nomad job run -output` prints.
  auto r = agent->post("/v1/jobs", R"(job "dmap" {
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    network {
      port "http" {}
    }
    task "web" {
      driver = "docker"
      kill_timeout = "2s"
      resources { memory = 64 }
      config {
        image = "drover-test/busybox:latest"
        network_mode = "drover-test-ports"
        port_map {
          http = 8080
        }
        command = "sh"
        args    = ["-c", "echo hello-map > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
      }
    }
  }
}
)");
  ASSERT_EQ(r.status, 200) << r.body;
  auto allocs = agent->get("/v1/job/dmap/allocations").json();
  ASSERT_EQ(allocs.size(), 1u) << allocs.dump(2);
  std::string id = allocs[0]["ID"];
  auto a = agent->wait_client_status(id, "running", std::chrono::seconds(60));
  const auto& p = a["AllocatedResources"]["Shared"]["Ports"][0];
  const std::string addr = p["HostIP"].get<std::string>() + ":" + std::to_string(p["Value"].get<int>());
  std::string body;
  EXPECT_TRUE(drover::testing::eventually(
      [&] { return (body = curl("http://" + addr + "/index.html")) == "hello-map\n"; },
      std::chrono::seconds(20)))
      << "curl http://" << addr << " gave \"" << body << "\"";
  ASSERT_EQ(agent->del("/v1/job/dmap").status, 200);
  agent->wait_client_status(id, "complete", std::chrono::seconds(30));
}

// A host volume of the agent config bound read-only into a container (docs/jobspec.md,
// "volumes"): operator-approved, so plugin.docker.config.volumes.enabled does not gate it.
TEST(DockerTasks, HostVolumeIsMountedReadOnlyIntoTheContainer) {
  const std::string shared = make_temp_dir("drover-dhv");
  std::ofstream(shared + "/motd") << "from the host\n";
  AgentProcess::Options o;
  o.config_yaml = "host_volume:\n  shared: {path: " + shared + ", read_only: true}\n";
  auto agent = AgentProcess::start(o);
  std::string t = task("t", "[\"-c\", \"cat /etc/app/motd; touch /etc/app/x 2>/dev/null && echo "
                            "writable || echo readonly\"]");
  t += "          volume_mounts: [{volume: cfg, destination: /etc/app}]\n";
  std::string j = group("dhv", "batch", t);
  j.replace(j.find("      tasks:"), 0, "      volumes: {cfg: {source: shared, read_only: true}}\n");
  auto ids = agent->submit(j);
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "complete", std::chrono::seconds(60));
  EXPECT_EQ(agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body, "from the host\nreadonly\n")
      << a.dump(2);
  EXPECT_FALSE(std::filesystem::exists(shared + "/x"));
  agent.reset();
  std::filesystem::remove_all(shared);
}

// A Nomad HCL docker job with the option blocks public jobs carry (mount with tmpfs_options,
// logging with config, healthchecks): parsed, accepted by the driver, and in effect.
TEST(DockerTasks, HclOptionBlocksOfAPublicJobRun) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", R"(job "dblocks" {
  type = "batch"
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "t" {
      driver = "docker"
      kill_timeout = "2s"
      resources { memory = 64 }
      config {
        image           = "drover-test/busybox:latest"
        network_mode    = "none"
        readonly_rootfs = true
        init            = true
        mount {
          type   = "tmpfs"
          target = "/scratch"
          tmpfs_options {
            size = 1048576
          }
        }
        logging {
          type = "json-file"
          config {
            max-size = "5m"
          }
        }
        healthchecks {
          disable = true
        }
        command = "sh"
        args    = ["-c", "df -k /scratch | tail -n 1 | awk '{print $2}'; cat /proc/1/comm; touch /x 2>/dev/null || echo ro"]
      }
    }
  }
}
)");
  ASSERT_EQ(r.status, 200) << r.body;
  auto allocs = agent->get("/v1/job/dblocks/allocations").json();
  ASSERT_EQ(allocs.size(), 1u) << allocs.dump(2);
  std::string id = allocs[0]["ID"];
  agent->wait_client_status(id, "complete", std::chrono::seconds(60));
  EXPECT_EQ(agent->get("/v1/client/fs/logs/" + id + "?task=t").body, "1024\ndocker-init\nro\n");
}

// `drover alloc exec` into a docker task: the command runs inside the container with the
// task's env, on a terminal when asked, and its exit code is the CLI's.
TEST(DockerTasks, AllocExecRunsInsideTheContainer) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("dexec", "service", "[\"-c\", \"exec sleep 1000\"]"));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running", std::chrono::seconds(60));
  auto piped = agent->cli({"alloc", "exec", "-i", ids[0], "t", "--", "/bin/sh", "-c",
                           "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $GREETING; exit 4"});
  EXPECT_EQ(piped.exit_code, 4) << piped.out << piped.err;
  EXPECT_EQ(piped.out, "sleep 1000 \nhello\n") << piped.err;
  auto tty = agent->cli({"alloc", "exec", "-i", "-t", ids[0], "t", "--", "/bin/sh", "-c",
                         "test -t 0 && echo tty-inside; exit 3"});
  EXPECT_EQ(tty.exit_code, 3) << tty.out << tty.err;
  EXPECT_NE(tty.out.find("tty-inside"), std::string::npos) << tty.out << tty.err;
  EXPECT_EQ(agent->alloc(ids[0])["ClientStatus"], "running");
}

// A script check of a docker task runs inside its container (the file it tests exists only
// there) and decides the alloc's health.
TEST(DockerTasks, ScriptCheckRunsInsideTheContainerAndDecidesHealth) {
  auto agent = AgentProcess::start();
  std::string text =
      "job:\n  id: dscript\n  type: service\n  groups:\n    - name: g\n"
      "      update: {health_check: checks, min_healthy_time: 300ms, healthy_deadline: 30s}\n"
      "      tasks:\n" +
      task("t", "[\"-c\", \"sleep 0.5; touch /ready-inside; exec sleep 1000\"]") +
      "          services:\n            - name: app\n              checks:\n"
      "                - {name: ready, type: script, command: /bin/sh, args: [\"-c\", "
      "\"test -f /ready-inside && echo ready-in-$GREETING\"], interval: 200ms, timeout: 5s}\n";
  auto ids = agent->submit(text);
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_alloc(ids[0], [](const json& a) { return a["DeploymentStatus"].is_object(); },
                             std::chrono::seconds(60));
  EXPECT_TRUE(a["DeploymentStatus"].value("Healthy", false)) << a["DeploymentStatus"].dump();
  auto checks = agent->get("/v1/client/allocation/" + ids[0] + "/checks").json();
  ASSERT_EQ(checks.size(), 1u) << checks.dump(2);
  EXPECT_EQ(checks.begin().value().value("Status", ""), "success") << checks.dump(2);
  EXPECT_NE(checks.begin().value().value("Output", "").find("ready-in-hello"), std::string::npos)
      << checks.dump(2);
}

// A template's change_mode script in a docker task runs inside the container: the file it
// writes from there names the container's pid 1.
TEST(DockerTasks, ATemplatesChangeScriptRunsInsideTheContainer) {
  auto agent = AgentProcess::start();
  std::string text =
      "job:\n  id: dtmpl\n  type: service\n  groups:\n    - name: g\n      tasks:\n" +
      task("t", "[\"-c\", \"echo v2 > /local/in.txt; exec sleep 1000\"]") +
      "          templates:\n"
      "            - {destination: local/in.txt, data: v1, change_mode: noop}\n"
      "            - destination: local/out.txt\n"
      "              data: \"got {{ file \\\"local/in.txt\\\" | trimSpace }}\"\n"
      "              change_mode: script\n"
      "              change_script: {command: /bin/sh, args: [\"-c\", \"tr '\\\\0' ' ' < /proc/1/cmdline > /local/ran.txt\"]}\n"
      "              splay: 0s\n";
  auto ids = agent->submit(text);
  ASSERT_EQ(ids.size(), 1u);
  const std::string ran = agent->data_dir() + "/alloc/" + ids[0] + "/t/local/ran.txt";
  std::string got;
  EXPECT_TRUE(drover::testing::eventually(
      [&] {
        got = drover::testing::read_file(ran);
        return !got.empty();
      },
      std::chrono::seconds(60)))
      << agent->alloc(ids[0]).dump(2);
  EXPECT_EQ(got, "sleep 1000 ");
}
