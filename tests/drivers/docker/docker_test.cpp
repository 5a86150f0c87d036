// docker as the agent uses it: the real docker.so loaded by the real plugin loader, talking to
// a real dockerd (the docker_fixture test starts one and builds drover-test/busybox:latest).
// Each test checks what a user would notice: exit codes, output in the log files, env and
// labels on the container, stop and OOM, secure defaults, recovery without restart or gaps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "docker_registry.hpp"
#include "exec_session_io.hpp"
#include "drover/loader/registry.hpp"

namespace fs = std::filesystem;
using drover::plugins::DriverPlugin;
using drover::plugins::PluginRegistry;
using ::testing::HasSubstr;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kImage = "drover-test/busybox:latest";

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using drover::testing::docker_cli;

// A task event the driver emitted, as the agent's handler receives it.
struct Event {
  std::string alloc, task;
  json event;
};

class Docker : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "drover-docker-XXXXXX").string();
    root_ = mkdtemp(tmpl.data());
    fs::create_directories(root_ / "plugins");
    fs::create_directories(root_ / "alloc" / "data");
    fs::create_directories(task_dir() / "local");
    fs::create_directories(root_ / "state");
    chmod((root_ / "state").c_str(), 0700);
    fs::create_symlink(DOCKER_SO, root_ / "plugins" / "docker.so");
    alloc_id_ = "a" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void TearDown() override {
    for (const auto& h : handles_) {
      if (driver_) (void)driver_->destroy(h);
    }
    unload();
    fs::remove_all(root_);
  }

  // The agent goes away: its plugins are unloaded and the driver pointer with them, so that
  // TearDown after a failed step never calls into an unloaded plugin.
  void unload() {
    registries_.clear();
    driver_ = nullptr;
  }

  DriverPlugin* load(json config = json::object()) {
    if (!config.contains("gc")) config["gc"] = {{"image", false}};  // keep the test image
    registries_.push_back(std::make_unique<PluginRegistry>());
    registries_.back()->load_dir(root_ / "plugins", json{{"docker", config}});
    registries_.back()->set_task_event_handler(
        [this](const std::string& a, const std::string& t, const json& e) {
          std::lock_guard lock(events_mu_);
          events_.push_back({a, t, e});
        });
    driver_ = registries_.back()->driver("docker");
    EXPECT_NE(driver_, nullptr) << "docker.so was not loaded";
    return driver_;
  }

  fs::path task_dir() const { return root_ / "t"; }
  fs::path out() const { return root_ / "t.stdout.0"; }
  fs::path err() const { return root_ / "t.stderr.0"; }

  json task(json config, json env = json::object(), json resources = json::object()) const {
    if (!config.contains("image")) config["image"] = kImage;
    if (!config.contains("network_mode")) config["network_mode"] = "none";
    if (resources.empty()) resources = {{"CPU", 100}, {"MemoryMB", 64}};
    return {{"AllocID", alloc_id_},
            {"JobID", "job"},
            {"GroupName", "g"},
            {"TaskName", "t"},
            {"User", ""},
            {"Config", config},
            {"Env", env},
            {"AllocDir", root_.string()},
            {"TaskDir", task_dir().string()},
            {"StdoutPath", out().string()},
            {"StderrPath", err().string()},
            {"Resources", resources},
            {"KillSignal", "SIGTERM"},
            {"KillTimeoutMs", 5000},
            {"StateDir", (root_ / "state").string()},
            {"LogConfig", {{"MaxFiles", 10}, {"MaxFileSizeMB", 10}, {"Disabled", false}}}};
  }
  static json sh(const std::string& script) {
    return {{"image", kImage}, {"command", "/bin/sh"}, {"args", {"-c", script}}};
  }

  json start(const json& t) {
    auto h = driver_->start(t);
    EXPECT_TRUE(h.ok()) << h.message();
    if (!h.ok()) return json();
    handles_.push_back(*h);
    return *h;
  }

  drover::plugins::ExitResult wait_exit(const json& h, std::chrono::milliseconds t = 20s) {
    auto r = driver_->wait(h, t);
    EXPECT_TRUE(r.ok()) << r.message();
    EXPECT_TRUE(r.ok() && r->has_value()) << "still running";
    return (r.ok() && r->has_value()) ? **r : drover::plugins::ExitResult{-99, 0, false, "?"};
  }

  // A container that sleeps (`sleep 1000` as its pid 1), once it runs; null if it did not.
  json start_sleeper(json env = json::object()) {
    json h = start(task(sh("echo ready; exec sleep 1000"), std::move(env)));
    return wait_output("ready") ? h : json();
  }

  // The task has not exited (asked without waiting).
  bool still_running(const json& h) {
    auto r = driver_->wait(h, 0ms);
    return r.ok() && !r->has_value();
  }

  // Waits until the stdout file holds `needle` (the follower writes asynchronously).
  bool wait_output(const std::string& needle, std::chrono::milliseconds t = 10s) {
    auto until = std::chrono::steady_clock::now() + t;
    while (std::chrono::steady_clock::now() < until) {
      if (slurp(out()).find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // The messages of the task events emitted so far (all must be this task's, of `type`).
  std::vector<std::string> event_messages(const std::string& type) {
    std::lock_guard lock(events_mu_);
    std::vector<std::string> out;
    for (const auto& e : events_) {
      EXPECT_EQ(e.alloc, alloc_id_);
      EXPECT_EQ(e.task, "t");
      EXPECT_EQ(e.event["Type"], type) << e.event.dump();
      out.push_back(e.event["Message"].get<std::string>());
    }
    events_.clear();
    return out;
  }

  fs::path root_;
  std::string alloc_id_;
  std::mutex events_mu_;
  std::vector<Event> events_;
  std::vector<std::unique_ptr<PluginRegistry>> registries_;
  DriverPlugin* driver_ = nullptr;
  std::vector<json> handles_;
};

TEST_F(Docker, FingerprintHealthyWithDaemonAttributes) {
  load();
  json fp = driver_->fingerprint();
  EXPECT_TRUE(fp["Healthy"].get<bool>()) << fp.dump();
  EXPECT_EQ(fp["Attributes"]["driver.docker"], "true");
  EXPECT_THAT(fp["Attributes"]["driver.docker.version"].get<std::string>(), HasSubstr("20.10"));
  EXPECT_THAT(fp["Attributes"]["driver.docker.runtimes"].get<std::string>(), HasSubstr("runc"));
  EXPECT_EQ(fp["Attributes"]["driver.docker.os_type"], "linux");
  EXPECT_EQ(fp["Attributes"]["driver.docker.privileged.enabled"], "false");
  EXPECT_EQ(fp["Attributes"]["driver.docker.volumes.enabled"], "false");
}

TEST_F(Docker, FingerprintUnhealthyWhenTheSocketIsDead) {
  load({{"endpoint", "unix://" + (root_ / "dead.sock").string()}});
  auto t0 = std::chrono::steady_clock::now();
  json fp = driver_->fingerprint();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_FALSE(fp["Healthy"].get<bool>());
  EXPECT_THAT(fp["HealthDescription"].get<std::string>(), HasSubstr("dead.sock"));
  EXPECT_FALSE(fp["Attributes"].contains("driver.docker"));
}

TEST_F(Docker, UnknownPluginConfigKeyRefusesThePlugin) {
  registries_.push_back(std::make_unique<PluginRegistry>());
  registries_.back()->load_dir(root_ / "plugins", json{{"docker", {{"allow_privilegd", true}}}});
  EXPECT_EQ(registries_.back()->driver("docker"), nullptr);
  auto infos = registries_.back()->plugins();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_THAT(infos[0].reason, HasSubstr("plugin.docker.config.allow_privilegd: unknown key"));
}

TEST_F(Docker, ValidateRefusesUnknownKeysByName) {
  load();
  EXPECT_THAT(driver_->validate({{"image", kImage}, {"mounts", {{{"type", 5}, {"target", "/x"}}}}}),
              ::testing::ElementsAre(HasSubstr("config.mounts[0]: ")));
  auto problems = driver_->validate({{"image", kImage}, {"comand", "x"}});
  EXPECT_THAT(problems, ::testing::ElementsAre(HasSubstr("config.comand: unknown key")));
  EXPECT_THAT(driver_->validate(json{{"command", "x"}}),
              ::testing::Contains(HasSubstr("config.image: required")));
}

TEST_F(Docker, ValidateRefusesAnImageThatWouldSteerTheApiPath) {
  load();
  EXPECT_THAT(driver_->validate(json{{"image", "../../containers/x/kill?signal=KILL#"}}),
              ::testing::Contains(HasSubstr("config.image: ")));
  EXPECT_THAT(driver_->validate(json{{"image", kImage}}), ::testing::IsEmpty());
}

// The agent dies (SIGKILL) after recording a line's timestamp but before writing the line:
// the file is then exactly as long as the record says, and the line must come again, once.
TEST_F(Docker, AgentKilledBetweenRecordAndWriteLosesNoLine) {
  load();
  json h = start(task(sh("i=0; while :; do echo $i; i=$((i+1)); sleep 0.1; done")));
  ASSERT_TRUE(wait_output("5\n"));
  driver_ = nullptr;
  unload();
  std::istringstream rec(slurp(root_ / "state" / "docker-logs.since"));
  long long ns = 0, index = 0, size = -1;
  int stream = 0;
  ASSERT_TRUE(rec >> ns >> stream >> index >> size);
  ASSERT_EQ(stream, 1);
  ASSERT_GT(size, 0);
  ASSERT_GT(static_cast<long long>(fs::file_size(out())), size);
  fs::resize_file(out(), static_cast<uintmax_t>(size));  // undo the last write

  load();
  auto r = driver_->recover(h);
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_TRUE(wait_output("15\n"));
  ASSERT_TRUE(driver_->stop(*r, "SIGKILL", 1s).ok());
  wait_exit(*r);
  std::istringstream in(slurp(out()));
  std::string line;
  int expect = 0;
  while (std::getline(in, line)) {
    ASSERT_EQ(line, std::to_string(expect)) << "line " << expect << " missing or repeated";
    ++expect;
  }
  EXPECT_GE(expect, 16);
}

TEST_F(Docker, RecoverOfAContainerThatEndedWhileAwayGivesItsExitAndLastLines) {
  load();
  json h = start(task(sh("echo one; sleep 1; echo two; exit 4")));
  ASSERT_TRUE(wait_output("one\n"));
  driver_ = nullptr;
  unload();
  std::this_thread::sleep_for(1500ms);  // "two" and the exit happen while the agent is away
  load();
  auto r = driver_->recover(h);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(wait_exit(*r, 5s).exit_code, 4);
  EXPECT_EQ(slurp(out()), "one\ntwo\n");
}

TEST_F(Docker, LogsRotateAsLogConfigSays) {
  load();
  json t =
      task(sh("i=0; while [ $i -lt 30000 ]; do "
              "echo \"$i 0123456789012345678901234567890123456789012345678901234567890123456\"; "
              "i=$((i+1)); done"));
  t["LogConfig"] = {{"MaxFiles", 2}, {"MaxFileSizeMB", 1}};
  json h = start(t);
  EXPECT_EQ(wait_exit(h, 30s).exit_code, 0);
  // ~2.2 MB of output: files .0, .1, .2 were written; only the newest two are kept.
  EXPECT_FALSE(fs::exists(root_ / "t.stdout.0"));
  ASSERT_TRUE(fs::exists(root_ / "t.stdout.1"));
  ASSERT_TRUE(fs::exists(root_ / "t.stdout.2"));
  EXPECT_FALSE(fs::exists(root_ / "t.stdout.3"));
  EXPECT_LE(fs::file_size(root_ / "t.stdout.1"), 1u << 20);
  std::string last = slurp(root_ / "t.stdout.2");
  EXPECT_THAT(last,
              ::testing::EndsWith(
                  "29999 0123456789012345678901234567890123456789012345678901234567890123456\n"));
}

TEST_F(Docker, TaskUserRunsTheContainerAsThatUser) {
  load();
  json t = task(sh("id -u"));
  t["User"] = "1234";
  json h = start(t);
  EXPECT_EQ(wait_exit(h).exit_code, 0);
  EXPECT_EQ(slurp(out()), "1234\n");
}

TEST_F(Docker, RunsWithExitCodeAndLogsInTheTaskFiles) {
  load();
  json h = start(task(sh("echo to-stdout; echo to-stderr >&2; exit 3")));
  auto e = wait_exit(h);
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_FALSE(e.oom_killed);
  EXPECT_EQ(slurp(out()), "to-stdout\n");
  EXPECT_EQ(slurp(err()), "to-stderr\n");
  // Asked again, the same answer.
  auto again = driver_->wait(h, 0ms);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->exit_code, 3);
}

TEST_F(Docker, EnvWorkDirLabelsAndAllocDirsAreVisible) {
  load();
  std::ofstream(task_dir() / "local" / "f.txt") << "from-local";
  json cfg = sh("echo FOO=$FOO; pwd; echo $NOMAD_TASK_DIR; cat /local/f.txt; echo; sleep 30");
  cfg["work_dir"] = "/tmp";
  cfg["labels"] = {{"team", "blue"}};
  json h = start(task(cfg, {{"FOO", "bar"}, {"NOMAD_TASK_DIR", "/host/path"}}));
  ASSERT_TRUE(wait_output("from-local\n"));
  EXPECT_EQ(slurp(out()), "FOO=bar\n/tmp\n/local\nfrom-local\n");
  const std::string id = h["ContainerID"];
  EXPECT_EQ(docker_cli("inspect -f '{{index .Config.Labels \"team\"}}' " + id), "blue");
  EXPECT_EQ(docker_cli("inspect -f '{{index .Config.Labels \"com.drover.alloc_id\"}}' " + id),
            alloc_id_);
  EXPECT_EQ(docker_cli("inspect -f '{{index .Config.Labels \"com.drover.task\"}}' " + id), "t");
  EXPECT_EQ(docker_cli("inspect -f '{{.HostConfig.Memory}}' " + id), std::to_string(64 << 20));
  EXPECT_EQ(docker_cli("inspect -f '{{.HostConfig.CpuShares}}' " + id), "100");
  // NET_RAW is dropped by default (Docker's default set minus NET_RAW).
  EXPECT_THAT(docker_cli("inspect -f '{{.HostConfig.CapDrop}}' " + id), HasSubstr("NET_RAW"));
  auto in = driver_->inspect(h);
  ASSERT_TRUE(in.ok()) << in.message();
  EXPECT_TRUE((*in)["Running"].get<bool>());
  EXPECT_GT((*in)["PID"].get<int>(), 0);
  auto st = driver_->stats(h);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_GT((*st)["MemoryStats"]["Usage"].get<long long>(), 0) << st->dump();
  EXPECT_GE((*st)["Pids"].get<int>(), 1);
}

TEST_F(Docker, StopSendsTheKillSignalFirst) {
  load();
  json h =
      start(task(sh("trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.1; done")));
  ASSERT_TRUE(wait_output("ready"));
  auto s = driver_->stop(h, "SIGTERM", 5s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(wait_exit(h, 0ms).exit_code, 7);
  EXPECT_EQ(slurp(out()), "ready\ngot-term\n");
}

TEST_F(Docker, StopKillsAfterTheTimeoutWhenTheSignalIsIgnored) {
  load();
  json h = start(task(sh("trap '' TERM; echo ready; while :; do sleep 0.1; done")));
  ASSERT_TRUE(wait_output("ready"));
  auto t0 = std::chrono::steady_clock::now();
  auto s = driver_->stop(h, "TERM", 700ms);
  ASSERT_TRUE(s.ok()) << s.message();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 700ms);
  EXPECT_LT(took, 10s);
  EXPECT_EQ(wait_exit(h, 0ms).exit_code, 137);
}

TEST_F(Docker, MemoryLimitKillsAndReportsOOM) {
  load();
  json h = start(task(sh("x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done"), json::object(),
                      {{"CPU", 100}, {"MemoryMB", 16}}));
  auto e = wait_exit(h, 30s);
  EXPECT_TRUE(e.oom_killed) << "exit " << e.exit_code;
  EXPECT_EQ(e.exit_code, 137);
}

TEST_F(Docker, PrivilegedRefusedByDefaultNamingTheOption) {
  load();
  json cfg = sh("true");
  cfg["privileged"] = true;
  EXPECT_THAT(driver_->validate(cfg),
              ::testing::Contains(HasSubstr("plugin.docker.config.allow_privileged")));
  auto h = driver_->start(task(cfg));
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.message(), HasSubstr("plugin.docker.config.allow_privileged"));
}

// The capabilities this machine's bounding set lacks (none on an ordinary host; this test VM's
// root lacks CAP_SYS_RESOURCE, so runc cannot start any privileged container here).
std::vector<int> caps_missing_here() {
  std::ifstream status("/proc/self/status");
  unsigned long long bnd = 0;
  for (std::string line; std::getline(status, line);)
    if (line.rfind("CapBnd:", 0) == 0) bnd = std::stoull(line.substr(7), nullptr, 16);
  int last = 0;
  std::ifstream("/proc/sys/kernel/cap_last_cap") >> last;
  std::vector<int> missing;
  for (int cap = 0; cap <= last; ++cap)
    if (!(bnd >> cap & 1)) missing.push_back(cap);
  return missing;
}

TEST_F(Docker, PrivilegedAllowedWhenConfigured) {
  load({{"allow_privileged", true}});
  json cfg = sh("grep CapEff /proc/self/status");
  cfg["privileged"] = true;
  EXPECT_TRUE(driver_->validate(cfg).empty());
  auto h = driver_->start(task(cfg));
  if (caps_missing_here().empty()) {
    ASSERT_TRUE(h.ok()) << h.message();
    handles_.push_back(*h);
    EXPECT_EQ(docker_cli("inspect -f '{{.HostConfig.Privileged}}' " +
                         (*h)["ContainerID"].get<std::string>()),
              "true");
    EXPECT_EQ(wait_exit(*h).exit_code, 0);
    int last = 0;
    std::ifstream("/proc/sys/kernel/cap_last_cap") >> last;
    char all[32];
    std::snprintf(all, sizeof all, "CapEff:\t%016llx", (1ULL << (last + 1)) - 1);
    EXPECT_THAT(slurp(out()), HasSubstr(all)) << "a privileged container has every capability";
  } else {
    // The driver let it through: dockerd created the container as privileged and asked runc
    // for every capability, which this machine cannot grant; the error says which is missing.
    ASSERT_FALSE(h.ok());
    EXPECT_THAT(h.message(), HasSubstr("starting container"));
    EXPECT_THAT(h.message(), HasSubstr("unable to apply caps"));
    EXPECT_THAT(h.message(), HasSubstr("bounding set lacks CAP_"));
    const auto missing = caps_missing_here();
    if (std::find(missing.begin(), missing.end(), 24) != missing.end()) {
      EXPECT_THAT(h.message(), HasSubstr("CAP_SYS_RESOURCE"));
    }
    EXPECT_THAT(h.message(), ::testing::Not(HasSubstr("allow_privileged")));
  }
}

TEST_F(Docker, HostVolumesRefusedByDefaultAllowedWhenConfigured) {
  fs::create_directories(root_ / "host");
  std::ofstream(root_ / "host" / "secret") << "host-file";
  json cfg = sh("cat /mnt/secret");
  cfg["volumes"] = {(root_ / "host").string() + ":/mnt:ro"};
  load();
  EXPECT_THAT(driver_->validate(cfg),
              ::testing::Contains(HasSubstr("plugin.docker.config.volumes.enabled")));
  json bind = sh("true");
  bind["mounts"] = {{{"type", "bind"}, {"source", "/etc"}, {"target", "/mnt"}}};
  EXPECT_THAT(driver_->validate(bind),
              ::testing::Contains(HasSubstr("plugin.docker.config.volumes.enabled")));
  auto refused = driver_->start(task(cfg));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("plugin.docker.config.volumes.enabled"));

  load({{"volumes", {{"enabled", true}}}});
  json h = start(task(cfg));
  EXPECT_EQ(wait_exit(h).exit_code, 0);
  EXPECT_EQ(slurp(out()), "host-file");
}

TEST_F(Docker, RelativeVolumeMayNotEscapeTheAllocDirThroughASymlink) {
  load();
  fs::create_symlink("/", task_dir() / "local" / "root");
  json cfg = sh("true");
  cfg["volumes"] = {"local/root:/host"};
  EXPECT_THAT(driver_->validate(cfg), ::testing::IsEmpty());  // only the start sees the link
  auto h = driver_->start(task(cfg));
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.message(), HasSubstr("outside the alloc dir"));
  // The same link as a `mount` block's bind source.
  json mount = sh("true");
  mount["mounts"] = {{{"type", "bind"}, {"source", "local/root/etc"}, {"target", "/host-etc"}}};
  auto m = driver_->start(task(mount));
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.message(), HasSubstr("resolves to /etc, outside the alloc dir"));
}

TEST_F(Docker, CapAddBeyondAllowCapsRefused) {
  load();
  json cfg = sh("true");
  cfg["cap_add"] = {"SYS_ADMIN", "CHOWN"};
  auto p = driver_->validate(cfg);
  ASSERT_THAT(p, ::testing::SizeIs(1));
  EXPECT_THAT(p[0], HasSubstr("SYS_ADMIN"));
  EXPECT_THAT(p[0], HasSubstr("plugin.docker.config.allow_caps"));
  EXPECT_THAT(p[0], ::testing::Not(HasSubstr("CHOWN")));
}

TEST_F(Docker, MissingImageFailsWithThePullError) {
  load();
  auto h = driver_->start(task({{"image", "drover-test/not-there:1"}, {"command", "true"}}));
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.message(), HasSubstr("pulling image drover-test/not-there:1: "));
}

TEST_F(Docker, RecoverReattachesWithoutRestartOrLogGaps) {
  load();
  json h = start(task(sh("i=0; while :; do echo $i; i=$((i+1)); sleep 0.1; done")));
  ASSERT_TRUE(wait_output("5\n"));
  const std::string id = h["ContainerID"];
  const std::string started = docker_cli("inspect -f '{{.State.StartedAt}}' " + id);

  // The agent goes away (fini: tasks keep running) and comes back.
  driver_ = nullptr;
  unload();
  std::this_thread::sleep_for(700ms);  // lines printed meanwhile must not be lost
  load();
  auto r = driver_->recover(h);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)["ContainerID"], id);
  EXPECT_EQ(docker_cli("inspect -f '{{.State.StartedAt}}' " + id), started);
  ASSERT_TRUE(wait_output("25\n"));
  ASSERT_TRUE(driver_->stop(*r, "SIGKILL", 1s).ok());
  wait_exit(*r);

  std::istringstream in(slurp(out()));
  std::string line;
  int expect = 0;
  while (std::getline(in, line)) {
    ASSERT_EQ(line, std::to_string(expect)) << "line " << expect << " missing or repeated";
    ++expect;
  }
  EXPECT_GE(expect, 26);
}

// dockerd stops (its containers with it, no live-restore here) and comes back: the driver is
// unhealthy meanwhile, the task reads as running while nobody can tell, then its real end
// (not a made-up one) is reported, and the logs up to the end are kept.
TEST_F(Docker, DaemonRestartIsReportedTruthfully) {
  load();
  json h =
      start(task(sh("trap 'echo stopping; exit 5' TERM; echo up; while :; do sleep 0.1; done")));
  ASSERT_TRUE(wait_output("up\n"));
  ASSERT_TRUE(driver_->fingerprint()["Healthy"].get<bool>());

  const std::string pid = slurp("/var/run/docker.pid");
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(kill(std::stoi(pid), SIGTERM), 0);
  auto until = std::chrono::steady_clock::now() + 30s;
  while (kill(std::stoi(pid), 0) == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
  }
  json down = driver_->fingerprint();
  EXPECT_FALSE(down["Healthy"].get<bool>());
  EXPECT_TRUE(down["Detected"].get<bool>());  // it worked before: unhealthy, not undetected
  auto during = driver_->wait(h, 300ms);
  ASSERT_TRUE(during.ok()) << during.message();
  EXPECT_FALSE(during->has_value()) << "an exit was reported while dockerd could not say";

  ASSERT_EQ(std::system(DOCKER_FIXTURE " >/dev/null"), 0) << "could not restart dockerd";
  EXPECT_TRUE(driver_->fingerprint()["Healthy"].get<bool>());
  auto e = wait_exit(h, 10s);
  EXPECT_EQ(e.exit_code, 5);  // dockerd stopped it with SIGTERM; the trap ran
  EXPECT_TRUE(wait_output("up\nstopping\n"));
}

TEST_F(Docker, RecoverRefusesAGoneContainer) {
  load();
  json h = start(task(sh("sleep 30")));
  docker_cli("rm -f " + h["ContainerID"].get<std::string>());
  driver_ = nullptr;
  unload();
  load();
  auto r = driver_->recover(h);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("is gone"));
}

TEST_F(Docker, DestroyRemovesTheContainer) {
  load();
  json h = start(task(sh("sleep 30")));
  const std::string id = h["ContainerID"];
  ASSERT_TRUE(driver_->destroy(h).ok());
  EXPECT_EQ(docker_cli("ps -aq --no-trunc -f id=" + id), "");
}

TEST_F(Docker, DanglingLabelledContainerIsReaped) {
  const std::string id = docker_cli("create --network none --label com.drover.alloc_id=dangling-" +
                                    std::to_string(getpid()) + " " + kImage + " sleep 30");
  ASSERT_FALSE(id.empty());
  load({{"gc",
         {{"image", false},
          {"dangling_containers", {{"period", "200ms"}, {"creation_grace", "1s"}}}}}});
  // A container this driver started is kept.
  json mine = start(task(sh("sleep 30")));
  auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until && !docker_cli("ps -aq -f id=" + id).empty()) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(docker_cli("ps -aq -f id=" + id), "");
  EXPECT_NE(docker_cli("ps -q -f id=" + mine["ContainerID"].get<std::string>()), "")
      << docker_cli("ps -a") << slurp(err());
}

// The pull's start, its progress (here after every change: interval 0) and its end are task
// events; an image already on the node is used as it is, unless force_pull says otherwise.
TEST_F(Docker, PullReportsProgressAsEventsAndForcePullPullsALocalImageAgain) {
  auto registry = drover::testing::LocalRegistry::start();
  ASSERT_TRUE(registry);
  const std::string image = registry->push_fresh_image("progress");
  ASSERT_FALSE(image.empty());
  load({{"pull_progress_interval", "0s"}});
  json cfg = sh("test -f /blob && echo has-blob");
  cfg["image"] = image;
  json h = start(task(cfg));
  EXPECT_EQ(wait_exit(h).exit_code, 0);
  EXPECT_EQ(slurp(out()), "has-blob\n");
  auto pulled = event_messages("Downloading Image");
  ASSERT_GE(pulled.size(), 3u) << ::testing::PrintToString(pulled);
  EXPECT_EQ(pulled.front(), "Downloading image " + image);
  EXPECT_THAT(pulled[1], ::testing::MatchesRegex("Image .*: [0-9.]+ [KM]iB/2.9 MiB pulled"));
  EXPECT_EQ(pulled.back(), "Image " + image + " pulled (2.9 MiB downloaded)");

  ASSERT_TRUE(driver_->destroy(h).ok());
  h = start(task(cfg));  // now local: no pull
  EXPECT_EQ(wait_exit(h).exit_code, 0);
  EXPECT_THAT(event_messages("Downloading Image"), ::testing::IsEmpty());
  ASSERT_TRUE(driver_->destroy(h).ok());
  cfg["force_pull"] = true;
  h = start(task(cfg));
  EXPECT_EQ(wait_exit(h).exit_code, 0);
  auto forced = event_messages("Downloading Image");
  ASSERT_FALSE(forced.empty());
  EXPECT_EQ(forced.front(), "Downloading image " + image);
  docker_cli("rmi -f " + image);
}

// dockerd reads X-Registry-Auth as base64url: a password whose JSON encodes to '/' or '+' in
// standard base64 ("?>?" does) must still reach the registry.
TEST_F(Docker, AuthCredentialsReachAPrivateRegistry) {
  auto registry =
      drover::testing::LocalRegistry::start({.user = "drover", .password = "?>?s3cret"});
  ASSERT_TRUE(registry);
  const std::string image = registry->push_fresh_image("private", 1000);
  ASSERT_FALSE(image.empty());
  load();
  json cfg = sh("test -f /blob");
  cfg["image"] = image;
  auto refused = driver_->start(task(cfg));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("pulling image " + image + ": "));
  EXPECT_THAT(refused.message(), HasSubstr("no basic auth credentials"));
  cfg["auth"] = {
      {"username", "drover"}, {"password", "?>?s3cret"}, {"server_address", registry->address()}};
  json h = start(task(cfg));
  EXPECT_EQ(wait_exit(h).exit_code, 0);
  docker_cli("rmi -f " + image);
}

TEST_F(Docker, LoadTakesTheImageFromATarballInTheTaskDir) {
  const std::string image = "drover-test/loaded-" + std::to_string(getpid()) + ":1";
  docker_cli(std::string("tag ") + kImage + " " + image);
  docker_cli("save -o " + (task_dir() / "local" / "image.tar").string() + " " + image);
  docker_cli("rmi " + image);
  ASSERT_EQ(docker_cli("image inspect -f '{{.Id}}' " + image), "");
  load();
  json cfg = sh("echo loaded");
  cfg["image"] = image;
  cfg["load"] = "local/image.tar";
  json h = start(task(cfg));
  EXPECT_EQ(wait_exit(h).exit_code, 0);
  EXPECT_EQ(slurp(out()), "loaded\n");
  EXPECT_NE(docker_cli("image inspect -f '{{.Id}}' " + image), "");
  docker_cli("rmi " + image);
}

TEST_F(Docker, ShmSizeAndUlimitReachTheContainer) {
  load();
  json cfg = sh("df -k /dev/shm | tail -n 1 | awk '{print $2}'; ulimit -n; ulimit -Hn");
  cfg["shm_size"] = 32 << 20;
  cfg["ulimit"] = {{"nofile", "1024:2048"}};
  json h = start(task(cfg));
  EXPECT_EQ(wait_exit(h).exit_code, 0);
  EXPECT_EQ(slurp(out()), "32768\n1024\n2048\n");
}

// gc.image: an image goes gc.image_delay after the last task using it was destroyed, not
// while a task still uses it.
TEST_F(Docker, ImageIsRemovedAfterTheDelayOnceNoTaskUsesIt) {
  const std::string image = "drover-test/gc-" + std::to_string(getpid()) + ":1";
  docker_cli(std::string("tag ") + kImage + " " + image);
  load({{"gc", {{"image", true}, {"image_delay", "1s"}}}});
  json cfg = sh("sleep 30");
  cfg["image"] = image;
  json h = start(task(cfg));
  std::this_thread::sleep_for(1500ms);
  EXPECT_NE(docker_cli("image inspect -f '{{.Id}}' " + image), "") << "removed while in use";
  ASSERT_TRUE(driver_->destroy(h).ok());
  auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until &&
         !docker_cli("image inspect -f '{{.Id}}' " + image).empty())
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(docker_cli("image inspect -f '{{.Id}}' " + image), "") << "still there after 5s";
  EXPECT_NE(docker_cli(std::string("image inspect -f '{{.Id}}' ") + kImage), "");
  docker_cli("rmi " + image);
}

// reap (the agent's call once it has recovered): this agent's containers of allocs it does
// not know go at once, whatever their age; those of known allocs, of tracked tasks and of
// another agent (alloc dir elsewhere) stay.
TEST_F(Docker, ReapRemovesThisAgentsContainersOfUnknownAllocsAtOnce) {
  const std::string pid = std::to_string(getpid());
  // As the driver labels them: alloc id and the alloc dir (<root>/<alloc id> for an agent).
  auto labelled = [&](const std::string& alloc, const std::string& alloc_dir) {
    return docker_cli("create --network none --label com.drover.alloc_id=" + alloc +
                      " --label com.drover.alloc_dir=" + alloc_dir + " " + kImage + " sleep 30");
  };
  const std::string unknown = labelled("gone-" + pid, (root_ / "gone").string());
  const std::string known = labelled("known-" + pid, (root_ / "known").string());
  const std::string foreign = labelled("other-" + pid, "/elsewhere/alloc/other");
  ASSERT_FALSE(unknown.empty());
  ASSERT_FALSE(known.empty());
  ASSERT_FALSE(foreign.empty());
  load();  // the grace-period reaper would wait 5 minutes
  json t = task(sh("sleep 30"));
  t["AllocDir"] = (root_ / "mine").string();  // an alloc the agent does not list, but tracked
  json mine = start(t);
  EXPECT_EQ(docker_cli("inspect -f '{{index .Config.Labels \"com.drover.alloc_dir\"}}' " +
                       mine["ContainerID"].get<std::string>()),
            (root_ / "mine").string());
  auto st = driver_->reap({"known-" + pid}, root_.string());
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(docker_cli("ps -aq -f id=" + unknown), "");
  EXPECT_NE(docker_cli("ps -aq -f id=" + known), "");
  EXPECT_NE(docker_cli("ps -aq -f id=" + foreign), "") << "another agent's container was reaped";
  EXPECT_NE(docker_cli("ps -q -f id=" + mine["ContainerID"].get<std::string>()), "");
  docker_cli("rm -f " + known + " " + foreign);
}

}  // namespace

// Nomad's further docker options, written the way `nomad job run -output` gives an HCL job's
// blocks (a `mount`, `logging` or `healthchecks` block is a list of one object): each reaches
// the container, and what the task sees changes accordingly.
TEST_F(Docker, NomadsFurtherOptionsReachTheContainer) {
  load();
  json cfg = sh(
      "touch /rootfs-write 2>/dev/null && echo rootfs-rw || echo rootfs-ro; id -G; "
      "cat /proc/self/oom_score_adj; cat /proc/1/comm; df -k /scratch | tail -n 1 | awk '{print "
      "$2}'; echo x > /scratch/f && echo scratch-ok; sleep 30");
  cfg["readonly_rootfs"] = true;
  cfg["group_add"] = {"1234"};
  cfg["oom_score_adj"] = 500;
  cfg["init"] = true;
  cfg["mount"] = {{{"type", "tmpfs"}, {"target", "/scratch"},
                   {"tmpfs_options", {{{"size", 2 << 20}}}}}};
  cfg["dns_servers"] = {"10.0.0.53"};
  cfg["dns_search_domains"] = {"corp.example"};
  cfg["extra_hosts"] = {"db.internal:10.1.2.3"};
  cfg["sysctl"] = {{{"net.ipv4.ip_unprivileged_port_start", 1024}}};
  cfg["logging"] = {{{"type", "json-file"}, {"config", {{{"max-size", "1m"}}}}}};
  cfg["healthchecks"] = {{{"disable", true}}};
  cfg["pids_limit"] = 50;
  cfg["image_pull_timeout"] = "2m";
  ASSERT_THAT(driver_->validate(cfg), ::testing::IsEmpty());
  json h = start(task(cfg));
  ASSERT_TRUE(wait_output("scratch-ok\n")) << slurp(out());
  EXPECT_EQ(slurp(out()), "rootfs-ro\n0 1234\n500\ndocker-init\n2048\nscratch-ok\n");
  const std::string id = h["ContainerID"];
  auto inspect = [&](const std::string& f) { return docker_cli("inspect -f '" + f + "' " + id); };
  EXPECT_EQ(inspect("{{.HostConfig.Dns}}"), "[10.0.0.53]");
  EXPECT_EQ(inspect("{{.HostConfig.DnsSearch}}"), "[corp.example]");
  EXPECT_EQ(inspect("{{.HostConfig.ExtraHosts}}"), "[db.internal:10.1.2.3]");
  EXPECT_EQ(inspect("{{index .HostConfig.Sysctls \"net.ipv4.ip_unprivileged_port_start\"}}"), "1024");
  EXPECT_EQ(inspect("{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}}"),
            "json-file 1m");
  EXPECT_EQ(inspect("{{.Config.Healthcheck.Test}}"), "[NONE]");
  EXPECT_EQ(inspect("{{.HostConfig.PidsLimit}}"), "50");
}

// Nomad's cpu_hard_limit: the task's cpu (250 MHz of 1000 MHz cores) becomes a CFS quota, a
// quarter of each cpu_cfs_period, and a busy loop inside is held to it: the kernel throttles
// the container (its cpu.stat's nr_throttled grows), where a weight alone never would on an
// idle host.
TEST_F(Docker, CpuHardLimitHoldsTheContainerToItsShareOfACore) {
  load();
  json cfg = sh(
      "while :; do :; done & "
      "while :; do grep -h nr_throttled /sys/fs/cgroup/cpu/cpu.stat /sys/fs/cgroup/cpu.stat 2>/dev/null; sleep 0.2; done");
  cfg["cpu_hard_limit"] = true;
  cfg["cpu_cfs_period"] = 50000;
  ASSERT_THAT(driver_->validate(cfg), ::testing::IsEmpty());
  json h = start(task(cfg, json::object(), {{"CPU", 250}, {"MemoryMB", 64}, {"CPUMHzPerCore", 1000}}));
  const std::string id = h["ContainerID"];
  EXPECT_EQ(docker_cli("inspect -f '{{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}}' " + id), "50000 12500");
  auto throttled = [&] {
    std::istringstream in(slurp(out()));
    std::string word;
    long long n = 0;
    while (in >> word)
      if (word == "nr_throttled") in >> n;
    return n > 0;
  };
  for (auto until = std::chrono::steady_clock::now() + 30s; !throttled() && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(throttled()) << slurp(out());
  ASSERT_TRUE(driver_->stop(h, "SIGKILL", 1s).ok());
  wait_exit(h);

  // Without a hard limit there is no quota; a period out of the kernel's range is refused.
  json plain = start(task(sh("sleep 30")));
  EXPECT_EQ(docker_cli("inspect -f '{{.HostConfig.CpuQuota}}' " + plain["ContainerID"].get<std::string>()), "0");
  ASSERT_TRUE(driver_->stop(plain, "SIGKILL", 1s).ok());
  wait_exit(plain);
  json bad = sh("true");
  bad["cpu_cfs_period"] = 10;
  bad["cpu_hard_limit"] = "yes";
  auto p = driver_->validate(bad);
  std::string all;
  for (const auto& x : p) all += x + "\n";
  EXPECT_THAT(all, HasSubstr("config.cpu_cfs_period: must be microseconds from 1000 to 1000000")) << all;
  EXPECT_THAT(all, HasSubstr("config.cpu_hard_limit: must be")) << all;
}

TEST_F(Docker, FurtherOptionsThatWeakenIsolationAreRefusedNamingTheSwitch) {
  load();
  json cfg = sh("true");
  cfg["security_opt"] = {"seccomp=unconfined", "no-new-privileges"};
  cfg["uts_mode"] = "host";
  cfg["userns_mode"] = "private";
  cfg["devices"] = {{{"host_path", "/dev/fuse"}}};
  cfg["logging"] = {{"type", "syslog"}};
  cfg["memory_hard_limit"] = 512;
  cfg["oom_score_adj"] = -500;
  cfg["mount"] = {{{"type", "bind"}, {"source", "local/x"}, {"target", "/x"},
                   {"tmpfs_options", {{"size", 1}}}}};
  auto p = driver_->validate(cfg);
  auto has = [&](const std::string& s) {
    return std::any_of(p.begin(), p.end(), [&](const auto& x) { return x.find(s) != std::string::npos; });
  };
  std::string all;
  for (const auto& x : p) all += x + "\n";
  EXPECT_TRUE(has("config.security_opt[0]: \"seccomp=unconfined\" turns a protection off")) << all;
  EXPECT_FALSE(has("security_opt[1]")) << all;
  EXPECT_TRUE(has("config.uts_mode: the host's uts namespace is disabled on this node (set "
                  "plugin.docker.config.allow_privileged: true)"))
      << all;
  EXPECT_TRUE(has("config.userns_mode: must be \"host\" or left out (got \"private\")")) << all;
  EXPECT_TRUE(has("config.devices: host devices are disabled on this node")) << all;
  EXPECT_TRUE(has("config.logging.type: must be json-file, local or journald")) << all;
  EXPECT_TRUE(has("config.memory_hard_limit: not supported: use the task's resources.memory_max"))
      << all;
  EXPECT_TRUE(has("config.oom_score_adj: must be an integer from 0 to 1000")) << all;
  EXPECT_TRUE(has("config.mount[0].tmpfs_options: only for a tmpfs mount")) << all;
  auto h = driver_->start(task(cfg));
  EXPECT_FALSE(h.ok());
}

// auth_soft_fail: credentials the registry refuses are dropped and the pull is tried again
// without them; here the registry wants credentials, so the second try fails too, for want of
// them, and the error says so.
TEST_F(Docker, AuthSoftFailPullsAgainWithoutTheCredentials) {
  auto registry =
      drover::testing::LocalRegistry::start({.user = "drover", .password = "right"});
  ASSERT_TRUE(registry);
  const std::string image = registry->push_fresh_image("softfail", 1000);
  ASSERT_FALSE(image.empty());
  load();
  json cfg = sh("true");
  cfg["image"] = image;
  cfg["auth"] = {{"username", "drover"}, {"password", "wrong"}, {"server_address", registry->address()}};
  auto hard = driver_->start(task(cfg));
  ASSERT_FALSE(hard.ok());
  EXPECT_THAT(event_messages("Downloading Image"),
              ::testing::Not(::testing::Contains(HasSubstr("auth_soft_fail"))));
  cfg["auth_soft_fail"] = true;
  auto soft = driver_->start(task(cfg));
  ASSERT_FALSE(soft.ok());
  EXPECT_THAT(event_messages("Downloading Image"),
              ::testing::Contains(HasSubstr("trying again without them (auth_soft_fail)")));
  EXPECT_THAT(soft.message(), HasSubstr("no basic auth credentials"));
  docker_cli("rmi -f " + image);
}

// Commands inside a running container (script checks, a template's script change_mode): run
// as the task runs, in its pid namespace with its env; output and exit code come back.
TEST_F(Docker, ExecTaskRunsInsideTheContainerWithItsEnv) {
  load();
  json h = start_sleeper({{"GREETING", "hi there"}});
  ASSERT_FALSE(h.is_null());
  auto r = driver_->exec_task(
      h, {"/bin/sh", "-c", "echo \"$GREETING\"; cat /proc/1/cmdline | tr '\\0' ' '; echo; echo oops >&2; exit 3"},
      10s);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)["Stdout"], "hi there\nsleep 1000 \n");
  EXPECT_EQ((*r)["Stderr"], "oops\n");
  EXPECT_EQ((*r)["ExitCode"], 3);
  // A command the image does not have: the runtime's reason and a failing exit code.
  auto missing = driver_->exec_task(h, {"no-such-command-here"}, 10s);
  ASSERT_TRUE(missing.ok()) << missing.message();
  EXPECT_GE((*missing)["ExitCode"].get<int>(), 126);
  EXPECT_THAT((*missing)["Stdout"].get<std::string>() + (*missing)["Stderr"].get<std::string>(),
              HasSubstr("no-such-command-here"));
  EXPECT_TRUE(still_running(h)) << "the task must keep running";
}

// Past its timeout the command and what it started are killed; the task is not touched.
TEST_F(Docker, ExecTaskPastItsTimeoutIsKilledWithWhatItStarted) {
  load();
  json h = start_sleeper();
  ASSERT_FALSE(h.is_null());
  auto r = driver_->exec_task(h, {"/bin/sh", "-c", "sleep 2001 & sleep 2002"}, 500ms);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("timed out after 500 ms"));
  auto ps = driver_->exec_task(h, {"ps", "-o", "args"}, 10s);
  ASSERT_TRUE(ps.ok()) << ps.message();
  EXPECT_THAT((*ps)["Stdout"].get<std::string>(), HasSubstr("sleep 1000"));
  EXPECT_THAT((*ps)["Stdout"].get<std::string>(), ::testing::Not(HasSubstr("sleep 200")));
  EXPECT_TRUE(still_running(h)) << "the task must keep running";
}

// `alloc exec -i -t` into a docker task: a shell on a terminal of the size asked for, with
// the task's env, TERM set, a resize that reaches it, and its exit code.
TEST_F(Docker, ExecStreamOnATerminalHasTheSizeAskedForAndItsExitCode) {
  load();
  json h = start_sleeper({{"GREETING", "hi there"}});
  ASSERT_FALSE(h.is_null());
  ASSERT_TRUE(driver_->supports_exec_stream());
  auto s = driver_->exec_stream(h, {{"/bin/sh"}, true, 30, 100});
  ASSERT_TRUE(s.ok()) << s.message();
  auto& session = **s;
  ASSERT_TRUE(session.tty());
  std::string out = drover::test_support::repeat_until(session.input_fd(), session.stdout_fd(),
                                                      "stty size\n", "30 100\r\n");
  EXPECT_THAT(out, HasSubstr("30 100\r\n"));
  ASSERT_TRUE(drover::test_support::write_text(
      session.input_fd(), "test -t 0 && echo is-a-tty; echo \"$GREETING\" $TERM\n"));
  out = drover::test_support::read_until(session.stdout_fd(), "hi there xterm\r\n");
  EXPECT_THAT(out, HasSubstr("is-a-tty\r\n"));
  EXPECT_THAT(out, HasSubstr("hi there xterm\r\n"));
  ASSERT_TRUE(session.resize(41, 120).ok());
  out = drover::test_support::repeat_until(session.input_fd(), session.stdout_fd(), "stty size\n",
                                           "41 120\r\n");
  EXPECT_THAT(out, HasSubstr("41 120\r\n"));
  ASSERT_TRUE(drover::test_support::write_text(session.input_fd(), "exit 3\n"));
  drover::test_support::read_until(session.stdout_fd(), "");  // to the end of its output
  auto exit = session.wait(20s);
  ASSERT_TRUE(exit.ok()) << exit.message();
  ASSERT_TRUE(exit->has_value());
  EXPECT_EQ((*exit)->exit_code, 3);
  EXPECT_TRUE(still_running(h)) << "the task must keep running";
}

// Without a terminal: stdin reaches the command and its end ends `cat`; stderr is a stream
// of its own.
TEST_F(Docker, ExecStreamWithoutTerminalHasPipesAndSeesStdinEnd) {
  load();
  json h = start_sleeper();
  ASSERT_FALSE(h.is_null());
  auto s = driver_->exec_stream(
      h, {{"/bin/sh", "-c", "test -t 0 || echo no-tty; cat; echo oops >&2; exit 7"}, false, 0, 0});
  ASSERT_TRUE(s.ok()) << s.message();
  auto& session = **s;
  ASSERT_GE(session.stderr_fd(), 0);
  ASSERT_TRUE(drover::test_support::write_text(session.input_fd(), "typed\n"));
  session.close_input();
  EXPECT_EQ(drover::test_support::read_until(session.stdout_fd(), ""), "no-tty\ntyped\n");
  EXPECT_EQ(drover::test_support::read_until(session.stderr_fd(), ""), "oops\n");
  auto exit = session.wait(20s);
  ASSERT_TRUE(exit.ok()) << exit.message();
  ASSERT_TRUE(exit->has_value());
  EXPECT_EQ((*exit)->exit_code, 7);
}

// A session closed while its command runs (the client went away) kills the command and
// what it started, never the task.
TEST_F(Docker, ExecStreamClosedWhileRunningKillsTheCommandNotTheTask) {
  load();
  json h = start_sleeper();
  ASSERT_FALSE(h.is_null());
  {
    auto s = driver_->exec_stream(h, {{"/bin/sh", "-c", "sleep 3001 & echo started; sleep 3002"}, false, 0, 0});
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(drover::test_support::read_until((*s)->stdout_fd(), "started\n"), "started\n");
  }  // closed
  std::string left;
  EXPECT_TRUE([&] {
    for (auto until = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < until;
         std::this_thread::sleep_for(100ms)) {
      auto ps = driver_->exec_task(h, {"ps", "-o", "args"}, 10s);
      left = ps.ok() ? (*ps)["Stdout"].get<std::string>() : ps.message();
      if (ps.ok() && left.find("sleep 300") == std::string::npos) return true;
    }
    return false;
  }()) << left;
  EXPECT_TRUE(still_running(h)) << "the task must keep running";
}

// The task has ended: exec is refused saying so.
TEST_F(Docker, ExecIntoAnEndedTaskIsRefused) {
  load();
  json h = start(task(sh("exit 0")));
  wait_exit(h);
  auto r = driver_->exec_task(h, {"true"}, 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("task has exited"));
  auto s = driver_->exec_stream(h, {{"/bin/sh"}, true, 0, 0});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("task has exited"));
}
