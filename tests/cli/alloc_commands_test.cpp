// `drover alloc ...` against a fake agent: status with task events, logs streamed as they
// arrive, prefixes passed to the agent, and the errors a user can act on.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <streambuf>

#include "cli/cli.hpp"
#include "fake_agent.hpp"

namespace drover::cli::testing {
namespace {

const std::string kAllocId = "abcd1234-0000-1111-2222-333344445555";

nlohmann::json alloc_with_tasks(const std::vector<std::string>& tasks) {
  nlohmann::json alloc = {{"ID", kAllocId},
                          {"Name", "hello.web[0]"},
                          {"JobID", "hello"},
                          {"TaskGroup", "web"},
                          {"ClientStatus", "running"},
                          {"ClientDescription", "Tasks are running"},
                          {"DesiredStatus", "run"},
                          {"CreateTime", 1795719357000000000},
                          {"ModifyTime", 1795719357000000000},
                          {"TaskStates", nlohmann::json::object()}};
  for (const auto& task : tasks) {
    alloc["TaskStates"][task] = {
        {"State", "running"},
        {"Failed", false},
        {"Restarts", 1},
        {"Events",
         {{{"Type", "Received"},
           {"Time", 1795719300000000000},
           {"Message", "Task received by client"}},
          {{"Type", "Terminated"}, {"Time", 1795719310000000000}, {"ExitCode", 137}, {"Signal", 9}},
          {{"Type", "Started"},
           {"Time", 1795719357000000000},
           {"DisplayMessage", "Task started by client"}}}}};
  }
  return alloc;
}

class AllocCommands : public ::testing::Test {
 protected:
  void serve_alloc(const std::vector<std::string>& tasks) {
    agent_.server().Get(R"(/v1/allocation/([^/]+))",
                        [tasks](const httplib::Request& req, httplib::Response& res) {
                          if (kAllocId.rfind(req.matches[1].str(), 0) != 0) {
                            return reply_json(res, R"({"error":"alloc not found"})", 404);
                          }
                          reply_json(res, alloc_with_tasks(tasks).dump());
                        });
  }
  FakeAgent agent_;
};

TEST_F(AllocCommands, StatusByPrefixShowsTheAllocAndNewestEventsFirst) {
  serve_alloc({"server"});
  agent_.server().Get(R"(/v1/client/allocation/.+/stats)",
                      [](const httplib::Request&, httplib::Response& res) {
                        reply_json(res, R"({"error":"not found"})", 404);
                      });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"alloc", "status", "-stats", "abcd"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(agent_.requests().at(0).path, "/v1/allocation/abcd");
  EXPECT_NE(r.out.find("ID                 = " + kAllocId + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Client Description = Tasks are running\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Task \"server\" is \"running\", restarted 1 time\nRecent Events:\n"
                       "Time                  Type        Description\n"
                       "2026-11-26T18:55:57Z  Started     Task started by client\n"
                       "2026-11-26T18:55:10Z  Terminated  Exit Code: 137, Signal: 9\n"
                       "2026-11-26T18:55:00Z  Received    Task received by client\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Stats are not available: not found"), std::string::npos) << r.out;
}

TEST_F(AllocCommands, VerboseStatusShowsThePlacementMetricsAndPreemptionAsNomadPrintsThem) {
  agent_.server().Get(R"(/v1/allocation/([^/]+))", [](const httplib::Request&,
                                                      httplib::Response& res) {
    auto alloc = alloc_with_tasks({});
    alloc["PreemptedAllocations"] = {"1111aaaa-0000-0000-0000-000000000000"};
    alloc["Metrics"] = {
        {"NodesEvaluated", 3},
        {"ConstraintFiltered", {{"missing drivers", 1}}},
        {"DimensionExhausted", nlohmann::json::object()},
        {"ScoreMetaData",
         {{{"NodeID", "node-b"},
           {"Scores", {{"binpack", 0.21875}, {"job-anti-affinity", 0}, {"preemption", 0.99993}}},
           {"NormScore", 0.60934}},
          {{"NodeID", "node-a"},
           {"Scores", {{"binpack", 0.1}, {"job-anti-affinity", -0.5}}},
           {"NormScore", -0.2}}}}};
    reply_json(res, alloc.dump());
  });
  agent_.start();
  auto plain = run_cli_against(agent_.address(), {"alloc", "status", "abcd"});
  EXPECT_EQ(plain.out.find("Placement Metrics"), std::string::npos) << plain.out;
  auto r = run_cli_against(agent_.address(), {"alloc", "status", "-verbose", "abcd"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Preempted Allocations = 1111aaaa-0000-0000-0000-000000000000\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\nPlacement Metrics\n  * Constraint \"missing drivers\": 1 nodes\n"
                       "Node    binpack  job-anti-affinity  preemption  final score\n"
                       "node-b  0.219    0                  1           0.609\n"
                       "node-a  0.1      -0.5               0           -0.2\n"),
            std::string::npos)
      << r.out;
}

TEST_F(AllocCommands, StatusOfAnUnknownAllocSaysSo) {
  serve_alloc({"server"});
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"alloc", "status", "ffff"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error: alloc not found\n");
}

TEST_F(AllocCommands, LogsOfTheOnlyTaskAreWrittenOut) {
  serve_alloc({"server"});
  agent_.server().Get(R"(/v1/client/fs/logs/(.+))",
                      [](const httplib::Request&, httplib::Response& res) {
                        res.set_content("line one\nline two\n", "text/plain");
                      });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"alloc", "logs", "abcd"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "line one\nline two\n");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].path, "/v1/allocation/abcd");
  EXPECT_EQ(reqs[1].path, "/v1/client/fs/logs/" + kAllocId);
  auto param = [&](const char* key) { return reqs[1].params.find(key)->second; };
  EXPECT_EQ(param("task"), "server");
  EXPECT_EQ(param("type"), "stdout");
  EXPECT_EQ(param("follow"), "false");
  EXPECT_EQ(param("origin"), "start");
}

TEST_F(AllocCommands, LogsWithoutTaskOnATwoTaskAllocListsTheTasks) {
  serve_alloc({"web", "api"});
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"alloc", "logs", "abcd"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("has 2 tasks (api, web)"), std::string::npos) << r.err;
}

TEST_F(AllocCommands, LogsOfAnUnknownTaskListsTheTasks) {
  serve_alloc({"web", "api"});
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"alloc", "logs", "abcd", "db"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("task \"db\" is not in allocation \"abcd1234\"; its tasks: api, web"),
            std::string::npos)
      << r.err;
}

TEST_F(AllocCommands, LogsTailOfStderrPrintsTheLastLines) {
  serve_alloc({"web", "api"});
  agent_.server().Get(R"(/v1/client/fs/logs/(.+))",
                      [](const httplib::Request&, httplib::Response& res) {
                        res.set_content("1\n2\n3\n4\n", "text/plain");
                      });
  agent_.start();
  auto r = run_cli_against(agent_.address(),
                           {"alloc", "logs", "-stderr", "-tail", "-n", "2", "abcd", "api"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "3\n4\n");
  auto logs = agent_.requests().at(1);
  EXPECT_EQ(logs.params.find("type")->second, "stderr");
  EXPECT_EQ(logs.params.find("origin")->second, "end");
  EXPECT_EQ(logs.params.find("task")->second, "api");
}

// An ostream buffer that lets another thread wait until given text has been written.
class WatchedBuf : public std::streambuf {
 public:
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return data_.find(text) != std::string::npos; });
  }
  std::string data() {
    std::lock_guard lock(mu_);
    return data_;
  }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard lock(mu_);
    data_.append(s, static_cast<std::size_t>(n));
    cv_.notify_all();
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      char ch = static_cast<char>(c);
      xsputn(&ch, 1);
    }
    return c;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string data_;
};

TEST_F(AllocCommands, FollowedLogsAreStreamedAsTheyArrive) {
  serve_alloc({"server"});
  WatchedBuf out_buf;
  std::atomic<bool> first_seen_before_second_sent{false};
  agent_.server().Get(
      R"(/v1/client/fs/logs/(.+))", [&](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
          sink.write("first\n", 6);
          // The second chunk only goes once the CLI has printed the first: a CLI that waited
          // for the whole body would leave this wait to time out.
          first_seen_before_second_sent = out_buf.wait_for("first\n", std::chrono::seconds(5));
          sink.write("second\n", 7);
          sink.done();
          return true;
        });
      });
  agent_.start();
  std::ostream out(&out_buf);
  std::ostringstream err;
  int code = run_cli({"alloc", "logs", "-f", "abcd", "-address=" + agent_.address()}, out, err);
  EXPECT_EQ(code, 0) << err.str();
  EXPECT_TRUE(first_seen_before_second_sent);
  EXPECT_EQ(out_buf.data(), "first\nsecond\n");
  EXPECT_EQ(agent_.requests().at(1).params.find("follow")->second, "true");
}

TEST_F(AllocCommands, StopPostsToTheAllocsStopEndpoint) {
  agent_.server().Post(R"(/v1/client/allocation/(.+)/stop)",
                       [](const httplib::Request&, httplib::Response& res) {
                         reply_json(res, R"({"EvalID":"e3"})");
                       });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"alloc", "stop", "abcd"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "==> Allocation \"abcd\" stopped\n");
  EXPECT_EQ(agent_.requests().at(0).path, "/v1/client/allocation/abcd/stop");
}

}  // namespace
}  // namespace drover::cli::testing
