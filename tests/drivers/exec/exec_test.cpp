// exec as the agent uses it: loaded by the real loader, starting real containers with the
// real runc (and crun) under the real drover-monitor. Each test checks what a user would
// notice: isolation inside the task, limits, clear start errors, recovery, nothing left.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "drover/loader/registry.hpp"
#include "exec_session_io.hpp"
#include "test_files.hpp"

namespace fs = std::filesystem;
using drover::plugins::DriverPlugin;
using drover::plugins::PluginRegistry;
using ::testing::HasSubstr;
using json = nlohmann::json;
using namespace std::chrono_literals;

using drover::test_support::slurp;

namespace {

std::string run(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[512];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
  }
  return out;
}

class Exec : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "drover-exec-XXXXXX").string();
    root_ = mkdtemp(tmpl.data());
    fs::permissions(root_, fs::perms(0755), fs::perm_options::replace);
    fs::create_directories(root_ / "plugins");
    fs::create_symlink(EXEC_SO, root_ / "plugins" / "exec.so");
    for (auto d : {alloc() / "alloc" / "logs", alloc() / "web" / "local", state()}) fs::create_directories(d);
    // The task runs as nobody: its dirs must be writable by it (the agent chowns them).
    for (auto d : {alloc() / "alloc", alloc() / "web" / "local"})
      fs::permissions(d, fs::perms(0777), fs::perm_options::replace);
    fs::permissions(state(), fs::perms::owner_all, fs::perm_options::replace);
  }
  void TearDown() override {
    for (const auto& h : handles_)
      if (driver_) (void)driver_->destroy(h);
    unload();
    for (const auto& cg : cgroups_) {
      rmdir((cg + "/runc").c_str());
      rmdir(cg.c_str());
      rmdir(fs::path(cg).parent_path().c_str());
    }
    // runc also makes the parent in controllers the test did not use (blkio, devices, ...).
    if (!cgroups_.empty()) {
      const std::string rel = "drover-exec-test-" + std::to_string(getpid());
      std::error_code ec;
      for (const auto& c : fs::directory_iterator("/sys/fs/cgroup", ec)) {
        rmdir((c.path() / rel / "task" / "runc").c_str());
        rmdir((c.path() / rel / "task").c_str());
        rmdir((c.path() / rel).c_str());
      }
    }
    // A monitor that was just told to end may still remove its own files: retry.
    std::error_code ec;
    for (int i = 0; i < 50 && fs::exists(root_); ++i) {
      fs::remove_all(root_, ec);
      if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  fs::path alloc() const { return root_ / "alloc" / alloc_id_; }
  fs::path state() const { return root_ / "state" / "web"; }
  std::string runtime_root() const { return (root_ / "runtime").string(); }

  // The agent goes away: its plugins are unloaded and the driver pointer with them, so that
  // TearDown after a failed step never calls into an unloaded plugin.
  void unload() {
    registries_.clear();
    driver_ = nullptr;
  }

  DriverPlugin* load(json extra = json::object()) {
    registries_.push_back(std::make_unique<PluginRegistry>());
    json config = {{"runtime_path", GetParam()}, {"runtime_root", runtime_root()}};
    config.update(extra);
    registries_.back()->load_dir(root_ / "plugins", {{"exec", config}});
    driver_ = registries_.back()->driver("exec");
    return driver_;
  }
  // The runtime cannot work on this host (crun on a hybrid cgroup host): the fingerprint says
  // why; the test is skipped with that reason.
  std::string unusable() {
    json fp = driver_->fingerprint();
    return fp["Healthy"] == true ? "" : fp["HealthDescription"].get<std::string>();
  }

  json task(json config, json extra = json::object()) {
    json t = {
        {"AllocID", alloc_id_},
        {"JobID", "job"},
        {"GroupName", "g"},
        {"TaskName", "web"},
        {"Config", config},
        {"Env", {{"NOMAD_TASK_DIR", (alloc() / "web" / "local").string()}, {"HELLO", "world"}}},
        {"AllocDir", alloc().string()},
        {"TaskDir", (alloc() / "web").string()},
        {"StdoutPath", (alloc() / "alloc/logs/web.stdout.0").string()},
        {"StderrPath", (alloc() / "alloc/logs/web.stderr.0").string()},
        {"KillTimeoutMs", 500},
        {"MonitorPath", MONITOR_BIN},
        {"StateDir", (alloc() / "persistent-state").string()},
        {"RuntimeDir", state().string()}};
    t.update(extra);
    return t;
  }

  json start(const json& t) {
    auto h = driver_->start(t);
    EXPECT_TRUE(h.ok()) << h.message();
    if (!h.ok()) return {};
    handles_.push_back(*h);
    return *h;
  }

  // Waits for the exit (up to 30 s).
  drover::plugins::ExitResult finish(const json& h) {
    auto r = driver_->wait(h, 30s);
    EXPECT_TRUE(r.ok()) << r.message();
    EXPECT_TRUE(r.ok() && r->has_value()) << "still running";
    return r.ok() && r->has_value() ? **r : drover::plugins::ExitResult{};
  }

  std::string out() const { return slurp(alloc() / "alloc/logs/web.stdout.0"); }
  std::string err() const { return slurp(alloc() / "alloc/logs/web.stderr.0"); }

  static bool v2() { return fs::exists("/sys/fs/cgroup/cgroup.controllers"); }

  // A task cgroup with one limit, made as the agent makes it, on this host's hierarchy (in
  // `controller`'s v1 hierarchy, or <parent>/task.scope on v2 with the controller enabled
  // along the way); Cgroup JSON for the task.
  json cgroup(const std::string& controller, const std::string& file, const std::string& value) {
    const std::string parent = "/drover-exec-test-" + std::to_string(getpid());
    std::string rel = parent + "/task", dir = "/sys/fs/cgroup/" + controller + rel;
    if (v2()) {
      rel = parent + "/task.scope";
      dir = "/sys/fs/cgroup" + rel;
      fs::create_directories("/sys/fs/cgroup" + parent);
      for (const std::string level : {"", parent.c_str()})
        std::ofstream("/sys/fs/cgroup" + level + "/cgroup.subtree_control") << "+" << controller;
    }
    fs::create_directories(dir);
    cgroups_.push_back(dir);
    std::ofstream(dir + "/" + file) << value;
    EXPECT_EQ(slurp(dir + "/" + file), value + "\n") << "the limit is in place";
    return {{"Version", v2() ? 2 : 1},
            {"ProcsFiles", {dir + "/cgroup.procs"}},
            {"RelativePath", rel.substr(1)},
            {"Parent", rel}};
  }

  // The container id follows it. Without a task cgroup, runc and crun put the container in
  // a cgroup named after its id, and crun's delete kills everything in that cgroup (v2's
  // cgroup.kill): the runc and crun cases of a test run side by side must not share one.
  const std::string alloc_id_ = "a1b2c3-" + std::to_string(getpid());
  fs::path root_;
  std::vector<std::unique_ptr<PluginRegistry>> registries_;
  DriverPlugin* driver_ = nullptr;
  std::vector<json> handles_;
  std::vector<std::string> cgroups_;
};

TEST_P(Exec, FingerprintIsHealthyWithTheRuntimeVersion) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  json fp = driver_->fingerprint();
  EXPECT_EQ(fp["Healthy"], true) << fp.dump();
  EXPECT_THAT(fp["Attributes"].value("driver.exec." + GetParam() + ".version", ""), ::testing::MatchesRegex("[0-9]+\\.[0-9]+.*"));
}

TEST_P(Exec, TaskIsIsolatedInItsOwnRoot) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  json h = start(task({{"command", "/bin/sh"},
                       {"args", {"-c", "echo pid=$$; echo procs=$(ls /proc | grep -c '^[0-9]'); echo host=$(hostname); "
                                       "touch /usr/x 2>/dev/null && echo usr=rw || echo usr=ro; "
                                       "touch /local/f && echo local=rw; touch /alloc/f && echo alloc=rw; "
                                       "echo uid=$(id -u) dir=$NOMAD_TASK_DIR cwd=$(pwd) hello=$HELLO; "
                                       "grep CapEff /proc/self/status"}}}));
  auto e = finish(h);
  EXPECT_EQ(e.exit_code, 0) << err();
  std::string o = out();
  EXPECT_THAT(o, HasSubstr("pid=1\n"));
  EXPECT_THAT(o, ::testing::MatchesRegex("(.|\n)*procs=[1-4]\n(.|\n)*"));  // sh, ls, grep: its own tree only
  EXPECT_THAT(o, HasSubstr("host=web\n"));
  EXPECT_THAT(o, HasSubstr("usr=ro\n"));
  EXPECT_THAT(o, HasSubstr("local=rw\n"));
  EXPECT_THAT(o, HasSubstr("alloc=rw\n"));
  EXPECT_THAT(o, HasSubstr("uid=65534 dir=/local cwd=/local hello=world"));
  EXPECT_THAT(o, HasSubstr("CapEff:\t0000000000000000"));  // nobody: no effective caps
  EXPECT_TRUE(fs::exists(alloc() / "alloc" / "f"));
}

// The capability sets, read from the task's own /proc/self/status (docs/threat-model.md,
// "Privileges and isolation"): the bounding set is Docker's default list less NET_RAW, never
// more; nothing is inheritable or ambient. As nobody the task holds none of them (the exec
// as a non-root user drops them), so a setuid or file-capability binary gains at most the
// bounding set; as root (allow_root) it holds exactly the bounding set.
TEST_P(Exec, CapabilitySetsAreTheDefaultListAndNothingMore) {
  // AUDIT_WRITE CHOWN DAC_OVERRIDE FOWNER FSETID KILL MKNOD NET_BIND_SERVICE SETFCAP SETGID
  // SETPCAP SETUID SYS_CHROOT: bits 29 0 1 3 4 5 27 10 31 6 8 7 18.
  const std::string kDefault = "00000000a80405fb";
  ASSERT_NE(load({{"allow_root", true}}), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  const json read_caps = {{"command", "/bin/grep"}, {"args", {"^Cap", "/proc/self/status"}}};
  auto caps_of = [&](const json& user) {
    const std::size_t before = out().size();  // the tasks share one log file
    json h = start(task(read_caps, user));
    auto e = finish(h);
    EXPECT_EQ(e.exit_code, 0) << err();
    return out().substr(before);
  };
  std::string nobody = caps_of(json::object());
  EXPECT_THAT(nobody, HasSubstr("CapBnd:\t" + kDefault + "\n"));
  EXPECT_THAT(nobody, HasSubstr("CapPrm:\t0000000000000000\n"));
  EXPECT_THAT(nobody, HasSubstr("CapEff:\t0000000000000000\n"));
  EXPECT_THAT(nobody, HasSubstr("CapInh:\t0000000000000000\n"));
  EXPECT_THAT(nobody, HasSubstr("CapAmb:\t0000000000000000\n"));
  std::string root = caps_of({{"User", "root"}});
  EXPECT_THAT(root, HasSubstr("CapBnd:\t" + kDefault + "\n"));
  EXPECT_THAT(root, HasSubstr("CapPrm:\t" + kDefault + "\n"));
  EXPECT_THAT(root, HasSubstr("CapEff:\t" + kDefault + "\n"));
  EXPECT_THAT(root, HasSubstr("CapInh:\t0000000000000000\n"));
  EXPECT_THAT(root, HasSubstr("CapAmb:\t0000000000000000\n"));
}

// Each task has IPC, mount, UTS and pid namespaces of its own: not the host's, not those of
// another task running beside it (both run at once: a namespace's inode number is reused
// once it is gone).
TEST_P(Exec, EachTaskHasNamespacesOfItsOwn) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  auto start_writing = [&](const std::string& name) {
    // Two allocs' tasks (one container name each), sharing this alloc dir to write in.
    fs::create_directories(state().string() + "-" + name);
    return start(task({{"command", "/bin/sh"},
                       {"args", {"-c", "for n in ipc mnt uts pid; do readlink /proc/self/ns/$n; done > /alloc/" +
                                           name + ".tmp; mv /alloc/" + name + ".tmp /alloc/" + name +
                                           "; exec sleep 60"}}},
                      {{"AllocID", alloc_id_ + "-" + name},
                       {"StateDir", (alloc() / ("persistent-state-" + name)).string()},
                       {"RuntimeDir", state().string() + "-" + name}}));
  };
  json ha = start_writing("a"), hb = start_writing("b");
  std::string a, b;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       (a.empty() || b.empty()) && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(20ms)) {
    a = slurp(alloc() / "alloc" / "a");
    b = slurp(alloc() / "alloc" / "b");
  }
  ASSERT_THAT(a, HasSubstr("ipc:["));
  for (std::string n : {"ipc", "mnt", "uts", "pid"}) {
    SCOPED_TRACE(n);
    auto line = [&](const std::string& text) {
      auto at = text.find(n + ":[");
      return at == std::string::npos ? std::string("?") : text.substr(at, text.find('\n', at) - at);
    };
    std::error_code ec;
    const std::string host = fs::read_symlink("/proc/self/ns/" + n, ec).string();
    EXPECT_NE(line(a), host);
    EXPECT_NE(line(a), line(b));
  }
  for (const auto& h : {ha, hb}) EXPECT_TRUE(driver_->stop(h, "SIGKILL", 5s).ok());
}

TEST_P(Exec, WorkDirIsTheTasksWorkingDirectoryInsideTheContainer) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  json h = start(task({{"command", "/bin/pwd"}, {"work_dir", "/alloc"}}));
  auto e = finish(h);
  EXPECT_EQ(e.exit_code, 0) << err();
  EXPECT_EQ(out(), "/alloc\n");
  EXPECT_THAT(driver_->validate({{"command", "true"}, {"work_dir", "alloc"}}),
              ::testing::Contains(HasSubstr("config.work_dir: must be an absolute path")));
}

TEST_P(Exec, MissingCommandIsAClearStartError) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  auto began = std::chrono::steady_clock::now();
  auto h = driver_->start(task({{"command", "/no/such/binary"}}));
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.message(), HasSubstr("/no/such/binary"));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 15s);
  EXPECT_FALSE(fs::exists(state() / "bundle"));
  EXPECT_THAT(run(GetParam() + " --root " + runtime_root() + " list -q"),
              ::testing::Not(HasSubstr(alloc_id_)));
}

TEST_P(Exec, UnknownUserAndKeysAreRefusedAtValidation) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  auto p = driver_->validate({{"Config", {{"command", "true"}}}, {"User", "no-such-user-xyz"}});
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("no-such-user-xyz")));
  p = driver_->validate({{"command", "true"}, {"privileged", true}});
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("config.privileged")));
  p = driver_->validate({{"command", "true"}, {"cap_add", {"sys_admin"}}});
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("CAP_SYS_ADMIN")));
  EXPECT_THAT(driver_->validate({{"args", {"x"}}}), ::testing::Contains(HasSubstr("config.command")));
  EXPECT_FALSE(driver_->start(task({{"command", "true"}}, {{"User", "root"}})).ok());  // allow_root is off
}

TEST_P(Exec, MemoryLimitKillsTheTaskAndReportsOom) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  json cg = cgroup("memory", v2() ? "memory.max" : "memory.limit_in_bytes", "33554432");
  json h = start(task({{"command", "tail"}, {"args", {"/dev/zero"}}}, {{"Cgroup", cg}}));
  auto e = finish(h);
  EXPECT_EQ(e.exit_code, 137);
  EXPECT_TRUE(e.oom_killed);
}

TEST_P(Exec, PidsLimitStopsAForkBomb) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  json cg = cgroup("pids", "pids.max", "8");
  json h = start(task({{"command", "sh"}, {"args", {"-c", "for i in $(seq 30); do sleep 3 & done; echo spawned"}}},
                      {{"Cgroup", cg}}));
  finish(h);
  EXPECT_THAT(err(), HasSubstr("fork"));
}

TEST_P(Exec, RecoversAfterTheAgentRestartsWithLogsIntact) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  json h = start(task({{"command", "sh"}, {"args", {"-c", "echo before; sleep 2; echo after"}}}));
  std::this_thread::sleep_for(500ms);
  driver_ = nullptr;
  unload();  // the agent goes away; the task does not
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  auto r = driver_->recover(h);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)["TaskPID"], h["TaskPID"]);
  auto e = finish(*r);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(out(), "before\nafter\n");
}

TEST_P(Exec, StopAndDestroyLeaveNothingBehind) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  json h = start(task({{"command", "sleep"}, {"args", {"300"}}}));
  ASSERT_TRUE(driver_->inspect(h).value()["Running"].get<bool>());
  // The container's init is the runtime's own init until it execs sleep: a SIGTERM that early
  // ends it with the runtime's status (2 was seen in a slow emulated guest), not 137.
  const std::string comm = "/proc/" + std::to_string(h["TaskPID"].get<int>()) + "/comm";
  for (int i = 0; i < 500 && slurp(comm) != "sleep\n"; ++i) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(slurp(comm), "sleep\n") << "the container never ran its command";
  ASSERT_TRUE(driver_->stop(h, "SIGTERM", 300ms).ok());
  auto e = finish(h);
  EXPECT_EQ(e.exit_code, 137);  // sleep as init ignores SIGTERM: SIGKILL after the timeout
  ASSERT_TRUE(driver_->destroy(h).ok());
  EXPECT_FALSE(fs::exists(state() / "bundle"));
  EXPECT_THAT(run(GetParam() + " --root " + runtime_root() + " list -q"),
              ::testing::Not(HasSubstr(alloc_id_)));
  EXPECT_THAT(slurp("/proc/self/mountinfo"), ::testing::Not(HasSubstr(root_.string())));
}

TEST_P(Exec, ExecRunsACommandInsideTheTask) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  ASSERT_TRUE(driver_->supports_exec());
  json h = start(task({{"command", "sleep"}, {"args", {"300"}}}, {{"KillSignal", "SIGKILL"}}));
  auto r = driver_->exec_task(h, {"sh", "-c", "echo $(hostname) $(ls /proc | grep -c '^[0-9]'); echo oops >&2; exit 3"}, 10s);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)["ExitCode"], 3);
  EXPECT_THAT((*r)["Stdout"].get<std::string>(), ::testing::MatchesRegex("web [2-5]\n"));
  EXPECT_EQ((*r)["Stderr"], "oops\n");
  auto slow = driver_->exec_task(h, {"sleep", "30"}, 300ms);
  EXPECT_FALSE(slow.ok());
  EXPECT_TRUE(driver_->stop(h, "", 1s).ok());
}

// `alloc exec -t` (plugin.h, drover_driver_exec_stream_v1): the runtime's own exec on a
// terminal of the size asked for, resized later, inside the container.
TEST_P(Exec, StreamingExecOnATerminalRunsInsideTheContainer) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  ASSERT_TRUE(driver_->supports_exec_stream());
  json h = start(task({{"command", "sleep"}, {"args", {"300"}}}, {{"KillSignal", "SIGKILL"}}));
  auto s = driver_->exec_stream(h, {{"/bin/sh"}, true, 30, 100});
  ASSERT_TRUE(s.ok()) << s.message();
  auto& session = **s;
  ASSERT_TRUE(drover::test_support::write_text(
      session.input_fd(), "test -t 0 && echo is-a-tty; echo in-$(hostname)\n"));
  std::string out = drover::test_support::read_until(session.stdout_fd(), "in-web\r\n");
  EXPECT_THAT(out, HasSubstr("is-a-tty\r\n"));
  EXPECT_THAT(out, HasSubstr("in-web\r\n"));
  // Typed ahead of the shell, the line was echoed once: by the container's terminal, not ours.
  EXPECT_EQ(out.find("echo is-a-tty"), out.rfind("echo is-a-tty")) << out;
  // The size reaches the container's terminal when runc copies it (at its start, and on the
  // SIGWINCH a resize sends it).
  EXPECT_THAT(drover::test_support::repeat_until(session.input_fd(), session.stdout_fd(),
                                                 "stty size\n", "30 100\r\n"),
              HasSubstr("30 100\r\n"));
  ASSERT_TRUE(session.resize(40, 120).ok());
  EXPECT_THAT(drover::test_support::repeat_until(session.input_fd(), session.stdout_fd(),
                                                 "stty size\n", "40 120\r\n"),
              HasSubstr("40 120\r\n"));
  ASSERT_TRUE(drover::test_support::write_text(session.input_fd(), "exit 3\n"));
  drover::test_support::read_until(session.stdout_fd(), "");
  auto exit = session.wait(20s);
  ASSERT_TRUE(exit.ok()) << exit.message();
  ASSERT_TRUE(exit->has_value());
  EXPECT_EQ((*exit)->exit_code, 3);
  auto still = driver_->wait(h, 0ms);
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(still->has_value()) << "the task runs on";
  EXPECT_TRUE(driver_->stop(h, "", 1s).ok());
}

TEST_P(Exec, StreamingExecWithoutTerminalPassesStdinAndExitCode) {
  ASSERT_NE(load(), nullptr);
  if (auto why = unusable(); !why.empty()) GTEST_SKIP() << why;
  json h = start(task({{"command", "sleep"}, {"args", {"300"}}}, {{"KillSignal", "SIGKILL"}}));
  auto s = driver_->exec_stream(
      h, {{"/bin/sh", "-c", "test -t 0 || echo no-tty; cat; echo oops >&2; exit 7"}, false, 0, 0});
  ASSERT_TRUE(s.ok()) << s.message();
  auto& session = **s;
  ASSERT_TRUE(drover::test_support::write_text(session.input_fd(), "typed\n"));
  session.close_input();
  EXPECT_EQ(drover::test_support::read_until(session.stdout_fd(), ""), "no-tty\ntyped\n");
  EXPECT_EQ(drover::test_support::read_until(session.stderr_fd(), ""), "oops\n");
  auto exit = session.wait(20s);
  ASSERT_TRUE(exit.ok() && exit->has_value());
  EXPECT_EQ((*exit)->exit_code, 7);
  s->reset();
  EXPECT_TRUE(driver_->stop(h, "", 1s).ok());
}

INSTANTIATE_TEST_SUITE_P(Runtimes, Exec, ::testing::Values("runc", "crun"));

TEST(ExecFingerprint, MissingRuntimeIsUndetected) {
  std::string tmpl = (fs::temp_directory_path() / "drover-exec-fp-XXXXXX").string();
  fs::path root = mkdtemp(tmpl.data());
  fs::create_symlink(EXEC_SO, root / "exec.so");
  {
    PluginRegistry reg;
    reg.load_dir(root, {{"exec", {{"runtime_path", "/no/such/runc"}}}});
    ASSERT_NE(reg.driver("exec"), nullptr);
    json fp = reg.driver("exec")->fingerprint();
    EXPECT_EQ(fp["Detected"], false);
    EXPECT_THAT(fp["HealthDescription"].get<std::string>(), HasSubstr("/no/such/runc"));
  }
  fs::remove_all(root);
}

// The runtime CLI starts clean (runtime.cpp): only fds 0, 1, 2 (Boost.Process v1 passes every
// inheritable fd on by default), an env of PATH alone, its own session, no blocked signals.
// A fake runtime answers `--version` and writes what it sees into a file.
TEST(ExecFingerprint, RuntimeStartsWithOnlyStdFdsPathAndItsOwnSession) {
  std::string tmpl = (fs::temp_directory_path() / "drover-exec-clean-XXXXXX").string();
  fs::path root = mkdtemp(tmpl.data());
  fs::create_symlink(EXEC_SO, root / "exec.so");
  fs::path seen = root / "seen", marker = root / "leak-marker", fake = root / "fakerunc";
  {
    std::ofstream f(fake);
    // The signal mask is read first, with builtins only: dash blocks every signal around its
    // own forks, so a child reading the shell's mask later can catch it mid-fork.
    f << "#!/bin/sh\n"
      << "while read -r k v; do [ \"$k\" = SigBlk: ] && echo \"SigBlk:\t$v\"; done"
      << " < /proc/$$/status > " << seen << "\n"
      << "{ ls -l /proc/$$/fd; env; echo \"sid=$(cut -d' ' -f6 /proc/$$/stat) pid=$$\"; } >> "
      << seen << "\n"
      << "echo 'fakerunc version 9.9'\n";
  }
  fs::permissions(fake, fs::perms::owner_all);
  std::ofstream(marker) << "x";
  int leak = ::open(marker.c_str(), O_RDONLY);  // inheritable: no O_CLOEXEC
  ASSERT_GE(leak, 0);
  ::setenv("DROVER_EXEC_LEAK_CHECK", "1", 1);
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &old);
  {
    PluginRegistry reg;
    reg.load_dir(root, {{"exec", {{"runtime_path", fake.string()}}}});
    ASSERT_NE(reg.driver("exec"), nullptr);
    json fp = reg.driver("exec")->fingerprint();
    EXPECT_EQ(fp["Attributes"].value("driver.exec.fakerunc.version", ""), "9.9") << fp.dump();
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::unsetenv("DROVER_EXEC_LEAK_CHECK");
  ::close(leak);
  std::ifstream in(seen);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string got = ss.str();
  EXPECT_THAT(got, HasSubstr("PATH=/usr/local/sbin:"));
  EXPECT_THAT(got, ::testing::Not(HasSubstr("leak-marker"))) << got;
  EXPECT_THAT(got, ::testing::Not(HasSubstr("DROVER_EXEC_LEAK_CHECK"))) << got;
  EXPECT_THAT(got, ::testing::Not(HasSubstr("HOME="))) << got;
  EXPECT_THAT(got, HasSubstr("SigBlk:\t0000000000000000")) << got;
  auto at = got.find("sid="), pid = got.find(" pid=");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(got.substr(at + 4, pid - at - 4), got.substr(pid + 5, got.find('\n', pid) - pid - 5))
      << got;
  fs::remove_all(root);
}

}  // namespace
