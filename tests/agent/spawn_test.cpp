// proc::spawn (agent/proc/spawn.hpp), the way the agent starts script checks, git, CNI plugins
// and change scripts: each test runs a real child and reads back what it got.
#include "proc/spawn.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "proc/bounded_command.hpp"

namespace {

using drover::proc::spawn;
using drover::proc::SpawnRequest;
using drover::proc::wait_exit_code;

// Runs req with stdout into a pipe; (exit code, what it wrote).
std::pair<int, std::string> run(SpawnRequest req) {
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  req.out = p[1];
  auto pid = spawn(req);
  ::close(p[1]);
  EXPECT_TRUE(pid.ok()) << pid.message();
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  return {pid.ok() ? wait_exit_code(*pid) : -1, out};
}

std::string status_line(const std::string& status, const std::string& key) {
  auto at = status.find(key + ":\t");
  return at == std::string::npos ? "" : status.substr(at, status.find('\n', at) - at);
}

// The agent blocks its stop signals for sigwait and ignores SIGPIPE; a helper must start as
// a fresh process would, or a script could not be stopped with SIGTERM and a pipeline would
// not end on a closed pipe. /bin/cat reads its own /proc status: a shell would reset its
// mask itself and hide the difference.
TEST(Spawn, TheChildHasAnEmptySignalMaskAndNoIgnoredSignals) {
  sigset_t stop, old;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &stop, &old), 0);
  auto old_pipe = ::signal(SIGPIPE, SIG_IGN);
  auto [code, status] = run({.exe = "/bin/cat", .argv = {"cat", "/proc/self/status"}});
  ::signal(SIGPIPE, old_pipe);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(status_line(status, "SigBlk"), "SigBlk:\t0000000000000000") << status;
  // Of the signals 1-31 none is ignored; glibc leaves its two internal ones (32, 33) ignored
  // in every posix_spawn child.
  const std::string ign = status_line(status, "SigIgn");
  ASSERT_EQ(ign.size(), 8u + 16u) << status;
  EXPECT_EQ(std::stoull(ign.substr(8), nullptr, 16) & 0x7fffffffull, 0u) << ign;
}

TEST(Spawn, OnlyStdioReachesTheChildAndTheEnvIsExactlyTheOneGiven) {
  int leak = ::open("/dev/null", O_RDONLY);  // inheritable: no O_CLOEXEC
  ASSERT_GE(leak, 3);
  auto [code, out] = run({.exe = "/bin/sh",
                          .argv = {"sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '; env"},
                          .env = {"ONLY=this"}});
  ::close(leak);
  EXPECT_EQ(code, 0);
  // 0, 1, 2 and the fd ls itself opens to read the dir.
  EXPECT_EQ(out.substr(0, out.find("ONLY")), "0 1 2 3 ") << out;
  EXPECT_NE(out.find("ONLY=this\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("HOME="), std::string::npos) << out;
}

TEST(Spawn, ItRunsInTheDirGivenAndItsOwnProcessGroupWhenAsked) {
  char tmpl[] = "/tmp/drover-spawn-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  auto [code, out] = run({.exe = "/bin/sh",
                          .argv = {"sh", "-c", "pwd; read -r _ _ _ _ pgrp _ < /proc/$$/stat; [ $pgrp -eq $$ ] && echo leader"},
                          .dir = dir,
                          .own_process_group = true});
  ::rmdir(dir.c_str());
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, dir + "\nleader\n");
}

TEST(Spawn, WhatCannotRunIsAnErrorNamingItAndAnExitIsSaidAsAShellSaysIt) {
  auto missing = spawn({.exe = "/no/such/helper"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(), "cannot run /no/such/helper: No such file or directory");
  auto bad_dir = spawn({.exe = "/bin/true", .dir = "/no/such/dir"});
  ASSERT_FALSE(bad_dir.ok());
  EXPECT_NE(bad_dir.message().find("/bin/true"), std::string::npos) << bad_dir.message();
  auto found = spawn({.exe = "true", .search_path = true});
  ASSERT_TRUE(found.ok()) << found.message();
  EXPECT_EQ(wait_exit_code(*found), 0);
  auto killed = spawn({.exe = "/bin/sh", .argv = {"sh", "-c", "kill -KILL $$"}});
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(wait_exit_code(*killed), 128 + SIGKILL);
  auto exits = spawn({.exe = "/bin/sh", .argv = {"sh", "-c", "exit 3"}});
  ASSERT_TRUE(exits.ok());
  EXPECT_EQ(wait_exit_code(*exits), 3);
}

}  // namespace

// run_bounded (proc/bounded_command.hpp) as a CNI plugin call uses it: the config on stdin,
// the result on stdout apart from the log on stderr, and a deadline that kills the command's
// whole process group.
TEST(BoundedCommand, InputReachesStdinStderrIsKeptApartAndTheDeadlineKillsTheGroup) {
  drover::proc::BoundedCommand cmd;
  cmd.exe = "/bin/sh";
  cmd.args = {"-c", "cat; echo logged >&2"};
  cmd.input = std::string(200 * 1024, 'x');  // more than a pipe holds: no write may block
  cmd.separate_stderr = true;
  cmd.max_output = 1 << 20;
  cmd.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto run = drover::proc::run_bounded(cmd);
  ASSERT_TRUE(run.ok()) << run.message();
  EXPECT_EQ(run->exit_code, 0);
  EXPECT_EQ(run->output, cmd.input);
  EXPECT_EQ(run->error_output, "logged\n");

  // A command that hangs, with a child of its own: both are gone when the deadline passes.
  char tmpl[] = "/tmp/drover-bounded-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  drover::proc::BoundedCommand hang;
  hang.exe = "/bin/sh";
  hang.args = {"-c", "sleep 600 & echo $! > " + dir + "/child; wait"};
  hang.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  auto hung = drover::proc::run_bounded(hang);
  ASSERT_TRUE(hung.ok()) << hung.message();
  EXPECT_TRUE(hung->timed_out);
  std::string child;
  if (FILE* f = ::fopen((dir + "/child").c_str(), "r")) {
    char buf[32] = {};
    if (::fgets(buf, sizeof buf, f)) child = buf;
    ::fclose(f);
  }
  ASSERT_FALSE(child.empty());
  const pid_t pid = std::stoi(child);
  // Killed with its group: no longer there, or a zombie waiting for init to reap it.
  auto dead = [&] {
    std::string stat;
    if (FILE* f = ::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r")) {
      char buf[512] = {};
      if (::fgets(buf, sizeof buf, f)) stat = buf;
      ::fclose(f);
    }
    const auto paren = stat.rfind(')');
    return stat.empty() || (paren != std::string::npos && stat.compare(paren + 2, 1, "Z") == 0);
  };
  bool gone = false;
  for (int i = 0; i < 500 && !(gone = dead()); ++i) ::usleep(10'000);
  EXPECT_TRUE(gone) << "the command's child " << pid << " outlived the deadline";
  std::filesystem::remove_all(dir);
}
