// The probes against real sockets and processes: what a check reports for each outcome.
#include "health/check_probe.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

using namespace drover;
using namespace std::chrono_literals;

TEST(CheckProbe, HttpIsSuccessOn2xxAndFailureOtherwise) {
  httplib::Server srv;
  srv.Get("/ok", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content("fine " + req.get_header_value("X-Probe"), "text/plain");
  });
  srv.Get("/bad", [](const httplib::Request&, httplib::Response& res) { res.status = 503; });
  int port = srv.bind_to_any_port("127.0.0.1");
  std::thread t([&] { srv.listen_after_bind(); });
  // stop() before the accept loop runs is lost, and join() then waits forever.
  while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  jobspec::Check c;
  c.type = "http";
  c.path = "/ok";
  c.header["X-Probe"] = {"yes"};
  auto r = health::probe_http(c, {"127.0.0.1", port});
  EXPECT_EQ(r.status, "success");
  EXPECT_EQ(r.status_code, 200);
  EXPECT_NE(r.output.find("fine yes"), std::string::npos) << r.output;
  c.path = "/bad";
  r = health::probe_http(c, {"127.0.0.1", port});
  EXPECT_EQ(r.status, "failure");
  EXPECT_EQ(r.status_code, 503);
  srv.stop();
  t.join();
  r = health::probe_http(c, {"127.0.0.1", port});
  EXPECT_EQ(r.status, "failure");
}

TEST(CheckProbe, TcpConnectsOrSaysWhy) {
  httplib::Server srv;
  int port = srv.bind_to_any_port("127.0.0.1");
  std::thread t([&] { srv.listen_after_bind(); });
  // stop() before the accept loop runs is lost, and join() then waits forever.
  while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(health::probe_tcp({"127.0.0.1", port}, 1s).status, "success");
  srv.stop();
  t.join();
  auto r = health::probe_tcp({"127.0.0.1", port}, 1s);
  EXPECT_EQ(r.status, "failure");
  EXPECT_NE(r.output.find("refused"), std::string::npos) << r.output;
}

TEST(CheckProbe, ScriptExitCodesEnvAndTimeout) {
  jobspec::Check c;
  c.type = "script";
  c.command = "/bin/sh";
  c.args = {"-c", "echo $GREETING from $(pwd); exit ${CODE}"};
  c.timeout = 2s;
  auto r = health::probe_script(c, "/tmp", {{"GREETING", "hi"}, {"CODE", "0"}});
  EXPECT_EQ(r.status, "success");
  EXPECT_EQ(r.output, "hi from /tmp\n");
  EXPECT_EQ(health::probe_script(c, "/tmp", {{"CODE", "1"}}).status, "warning");
  EXPECT_EQ(health::probe_script(c, "/tmp", {{"CODE", "2"}}).status, "failure");
  c.args = {"-c", "sleep 5"};
  c.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  r = health::probe_script(c, "/tmp", {});
  EXPECT_EQ(r.status, "failure");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(CheckProbe, ScriptCommandIsLookedUpInTheChecksPathAndAMissingOneSaysSo) {
  jobspec::Check c;
  c.type = "script";
  c.command = "sh";
  c.args = {"-c", "exit 0"};
  c.timeout = 2s;
  EXPECT_EQ(health::probe_script(c, "/tmp", {{"PATH", "/usr/bin:/bin"}}).status, "success");
  c.command = "drover-no-such-command";
  auto r = health::probe_script(c, "/tmp", {{"PATH", "/usr/bin:/bin"}});
  EXPECT_EQ(r.status, "failure");
  EXPECT_NE(r.output.find("not in PATH"), std::string::npos) << r.output;
  // Killed by a signal: the code a shell would show.
  c.command = "/bin/sh";
  c.args = {"-c", "kill -9 $$"};
  r = health::probe_script(c, "/tmp", {});
  EXPECT_EQ(r.status, "failure");
  EXPECT_EQ(r.status_code, 137);
}
