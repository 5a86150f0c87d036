// `drover job ...` against a fake agent: what a user sees on success, on a refused job and
// when the agent is down.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.hpp"
#include "fake_agent.hpp"

namespace drover::cli::testing {
namespace {

const std::string kAlloc1 = "0123abcd-1111-2222-3333-444455556666";
const std::string kAlloc2 = "89efcdab-1111-2222-3333-444455556666";

class JobCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("drover-cli-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write_file(const std::string& name, const std::string& content) {
    auto path = dir_ / name;
    std::ofstream(path) << content;
    return path.string();
  }

  void serve_submit_ok() {
    agent_.server().Post("/v1/jobs", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, R"({"EvalID":"e1","JobID":"hello","AllocIDs":[")" + kAlloc1 + R"(",")" +
                          kAlloc2 + R"("],"Warnings":""})");
    });
  }

  std::filesystem::path dir_;
  FakeAgent agent_;
};

TEST_F(JobCommands, RunDetachPrintsJobAndShortAllocIds) {
  serve_submit_ok();
  agent_.start();
  const std::string yaml = "job:\n  id: hello\n";
  auto r = run_cli_against(agent_.address(), {"job", "run", "-detach", write_file("j.yaml", yaml)});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "==> Job \"hello\" submitted\n    Allocations: 0123abcd, 89efcdab\n");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body, yaml);
  EXPECT_EQ(reqs[0].headers.find("Content-Type")->second, "application/yaml");
}

TEST_F(JobCommands, RunSendsNomadJsonJobsAsJson) {
  serve_submit_ok();
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "run", "-detach",
                                              write_file("j.json", R"({"Job":{"ID":"hello"}})")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(agent_.requests().at(0).headers.find("Content-Type")->second, "application/json");
}

const char* kHclJob = R"(variable "image" {}
variable "count" {
  type    = number
  default = 1
}
job "hello" {
  group "g" {
    count = var.count
    task "t" {
      driver = "docker"
      config {
        image = var.image
        motd  = trimspace(file("motd.txt"))
      }
    }
  }
}
)";

TEST_F(JobCommands, RunSendsAnHclJobAsTheNomadJsonItMeans) {
  serve_submit_ok();
  agent_.start();
  write_file("motd.txt", "hi\n");
  ::setenv("NOMAD_VAR_count", "3", 1);
  auto r =
      run_cli_against(agent_.address(), {"job", "run", "-detach", "-var", "image=redis", "-var",
                                         "image=nginx", write_file("j.nomad", kHclJob)});
  ::unsetenv("NOMAD_VAR_count");
  EXPECT_EQ(r.code, 0) << r.err;
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.find("Content-Type")->second, "application/json");
  auto sent = nlohmann::json::parse(reqs[0].body);
  const auto& group = sent["Job"]["TaskGroups"][0];
  EXPECT_EQ(group["Count"], 3);
  EXPECT_EQ(group["Tasks"][0]["Config"]["image"], "nginx");  // the last -var wins
  EXPECT_EQ(group["Tasks"][0]["Config"]["motd"], "hi");      // read next to the job file
}

TEST_F(JobCommands, RunOutputPrintsTheJobAndContactsNoAgent) {
  agent_.start();
  write_file("motd.txt", "hi");
  auto r = run_cli_against(agent_.address(), {"job", "run", "-output", "-var=image=redis",
                                              write_file("j.hcl", kHclJob)});
  EXPECT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["Job"]["ID"], "hello");
  EXPECT_EQ(doc["Job"]["TaskGroups"][0]["Tasks"][0]["Config"]["image"], "redis");
  EXPECT_TRUE(agent_.requests().empty());
}

TEST_F(JobCommands, HclProblemsPrintFileLineColumnAndACaretAndSendNothing) {
  agent_.start();
  write_file("motd.txt", "hi");
  const std::string path = write_file("j.nomad", kHclJob);
  auto r = run_cli_against(agent_.address(),
                           {"job", "run", "-var", "image=x", "-var", "count=many", path});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("-var \"count\": a number is required, got the string \"many\""),
            std::string::npos)
      << r.err;
  auto bad = run_cli_against(
      agent_.address(), {"job", "validate", write_file("b.nomad", "job \"x\" {\n  a = 1 +\n}\n")});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("b.nomad:3:1: malformed HCL: expected a value, found '}'\n    }\n    ^"),
            std::string::npos)
      << bad.err;
  EXPECT_TRUE(agent_.requests().empty());
}

TEST_F(JobCommands, ValidateChecksWithoutSubmittingAndVarIsForHclOnly) {
  agent_.start();
  write_file("motd.txt", "hi");
  auto ok = run_cli_against(agent_.address(),
                            {"job", "validate", "-var", "image=x", write_file("j.nomad", kHclJob)});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out, "Job validation successful\n");
  auto yaml = run_cli_against(
      agent_.address(), {"job", "run", "-var", "a=b", write_file("j.yaml", "job:\n  id: hello\n")});
  EXPECT_EQ(yaml.code, 1);
  EXPECT_NE(yaml.err.find("-var and -var-file apply to HCL job files only"), std::string::npos)
      << yaml.err;
  EXPECT_TRUE(agent_.requests().empty());
}

TEST_F(JobCommands, RunWaitsUntilAllocsRunThenExitsZero) {
  serve_submit_ok();
  std::atomic<int> polls{0};
  agent_.server().Get(
      R"(/v1/allocation/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
        const bool running = ++polls > 3;  // pending for the first few polls
        reply_json(res, nlohmann::json{{"ID", req.matches[1].str()},
                                       {"TaskGroup", "web"},
                                       {"ClientStatus", running ? "running" : "pending"}}
                            .dump());
      });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "run", write_file("j.yaml", "job: {}\n")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Allocation \"0123abcd\" (group \"web\") is \"running\""), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Allocation \"89efcdab\" (group \"web\") is \"running\""), std::string::npos)
      << r.out;
  EXPECT_GT(polls.load(), 3);
}

// A server answers a register with its evaluation only (Nomad's API): `job run` follows the
// evaluation until the leader has placed the job, then the allocs it placed; -detach names
// the evaluation instead of waiting.
TEST_F(JobCommands, RunAgainstAServerFollowsTheEvaluationToTheAllocsItPlaced) {
  agent_.server().Post("/v1/jobs", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"EvalID":"ev123456-0000-0000-0000-000000000000","JobID":"hello","Warnings":""})");
  });
  std::atomic<int> eval_polls{0};
  agent_.server().Get(R"(/v1/evaluation/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    const bool done = ++eval_polls > 2;  // pending at first: the leader has not got to it
    reply_json(res, nlohmann::json{{"ID", req.matches[1].str()},
                                   {"Status", done ? "complete" : "pending"},
                                   {"PlacedAllocs", done ? nlohmann::json{kAlloc1} : nlohmann::json::array()}}
                        .dump());
  });
  agent_.server().Get(R"(/v1/allocation/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    reply_json(res, nlohmann::json{{"ID", req.matches[1].str()}, {"TaskGroup", "web"}, {"ClientStatus", "running"}}
                        .dump());
  });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "run", write_file("j.yaml", "job: {}\n")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Allocations: 0123abcd\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Allocation \"0123abcd\" (group \"web\") is \"running\""), std::string::npos)
      << r.out;
  EXPECT_GT(eval_polls.load(), 2);

  const int before = eval_polls.load();
  auto detached =
      run_cli_against(agent_.address(), {"job", "run", "-detach", write_file("j.yaml", "job: {}\n")});
  EXPECT_EQ(detached.code, 0) << detached.err;
  EXPECT_EQ(detached.out,
            "==> Job \"hello\" submitted\n    Evaluation ID: ev123456-0000-0000-0000-000000000000\n");
  EXPECT_EQ(eval_polls.load(), before) << "-detach does not wait";
}

TEST_F(JobCommands, RunAgainstAServerSaysWhyItsEvaluationIsBlockedAndExitsTwo) {
  agent_.server().Post("/v1/jobs", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"EvalID":"ev999999-0000-0000-0000-000000000000","JobID":"huge","Warnings":""})");
  });
  agent_.server().Get(R"(/v1/evaluation/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    reply_json(res, nlohmann::json{{"ID", req.matches[1].str()},
                                   {"Status", "blocked"},
                                   {"StatusDescription",
                                    "placement failed: g: dimension \"memory\" exhausted on 1 node"},
                                   {"PlacedAllocs", nlohmann::json::array()}}
                        .dump());
  });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "run", write_file("j.yaml", "job: {}\n")});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("==> Evaluation \"ev999999\" is blocked, waiting for capacity: placement "
                       "failed: g: dimension \"memory\" exhausted on 1 node"),
            std::string::npos)
      << r.out;
}

TEST_F(JobCommands, RunExitsTwoAndSaysWhyWhenAnAllocFails) {
  serve_submit_ok();
  agent_.server().Get(
      R"(/v1/allocation/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
        const bool fail = req.matches[1].str() == kAlloc2;
        auto alloc = nlohmann::json{{"ID", req.matches[1].str()},
                                    {"TaskGroup", "web"},
                                    {"ClientStatus", fail ? "failed" : "running"},
                                    {"ClientDescription", fail ? "Failed tasks" : ""}};
        if (fail) {
          alloc["TaskStates"]["server"] = {
              {"State", "dead"},
              {"Failed", true},
              {"Events", {{{"Type", "Terminated"}, {"ExitCode", 3}, {"Time", 1}}}}};
        }
        reply_json(res, alloc.dump());
      });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "run", write_file("j.yaml", "job: {}\n")});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("Allocation \"89efcdab\" (group \"web\") is \"failed\": Failed tasks"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Task \"server\" failed: Exit Code: 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 of 2 allocations failed"), std::string::npos) << r.out;
}

TEST_F(JobCommands, RefusedJobPrintsEveryProblemAndExitsOne) {
  agent_.server().Post("/v1/jobs", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"error":"job is invalid","problems":[
      {"path":"Job.TaskGroups[0].Tasks[0].Driver","message":"unknown driver \"rawexec\""},
      {"path":"Job.TaskGroups[0].Tasks[0].Resources.MemoryMB","message":"must be at least 10"}]})",
               400);
  });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "run", write_file("j.yaml", "job: {}\n")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "Error: job is invalid\n"
            "    * Job.TaskGroups[0].Tasks[0].Driver: unknown driver \"rawexec\"\n"
            "    * Job.TaskGroups[0].Tasks[0].Resources.MemoryMB: must be at least 10\n");
}

TEST_F(JobCommands, MissingJobFileIsAClearError) {
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "run", (dir_ / "nope.yaml").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot read job file"), std::string::npos) << r.err;
  EXPECT_TRUE(agent_.requests().empty());
}

TEST(JobCommandsNoAgent, ConnectionRefusedIsOneClearLine) {
  std::string address;
  {
    FakeAgent gone;  // take a free port, then close it
    gone.start();
    address = gone.address();
  }
  auto r = run_cli_against(address, {"job", "status"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "Error: cannot reach the drover agent at " + address + ": connection refused\n");
}

TEST_F(JobCommands, StatusListsJobsInATable) {
  agent_.server().Get("/v1/jobs", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"([
      {"ID":"hello","Name":"hello","Type":"service","Priority":50,"Status":"running",
       "SubmitTime":1795719357000000000},
      {"ID":"nightly-backup","Name":"nightly-backup","Type":"batch","Priority":70,
       "Status":"dead","SubmitTime":1795719300000000000}])");
  });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID              Type     Priority  Status   Submit Date\n"
            "hello           service  50        running  2026-11-26T18:55:57Z\n"
            "nightly-backup  batch    70        dead     2026-11-26T18:55:00Z\n");
}

TEST_F(JobCommands, StatusOfOneJobShowsSummaryAndAllocations) {
  agent_.server().Get("/v1/job/hello", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"ID":"hello","Name":"hello","Type":"service","Priority":50,
      "Datacenters":["dc1","dc2"],"Status":"running","SubmitTime":0,"TaskGroups":[]})");
  });
  agent_.server().Get("/v1/job/hello/allocations",
                      [](const httplib::Request&, httplib::Response& res) {
                        reply_json(res, R"([{"ID":")" + kAlloc1 + R"(","TaskGroup":"web",
        "DesiredStatus":"run","ClientStatus":"running","CreateTime":1,"ModifyTime":1}])");
                      });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "status", "hello"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ID          = hello\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Datacenters = dc1,dc2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ID        Task Group  Desired  Status   Created"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("0123abcd  web         run      running  "), std::string::npos) << r.out;
}

TEST_F(JobCommands, JsonFlagPrintsTheApiAnswer) {
  const std::string jobs = R"([{"ID":"hello","Type":"batch","Priority":50}])";
  agent_.server().Get(
      "/v1/jobs", [&](const httplib::Request&, httplib::Response& res) { reply_json(res, jobs); });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "status", "-json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse(jobs));
}

TEST_F(JobCommands, StopDeletesTheJobAndSendsTheToken) {
  agent_.server().Delete("/v1/job/hello", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"EvalID":"e2"})");
  });
  agent_.start();
  ::setenv("DROVER_TOKEN", "s3cret", 1);
  auto r = run_cli_against(agent_.address(), {"job", "stop", "hello"});
  ::unsetenv("DROVER_TOKEN");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "==> Job \"hello\" stopped\n");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "DELETE");
  EXPECT_EQ(reqs[0].headers.find("X-Nomad-Token")->second, "s3cret");
}

TEST_F(JobCommands, StopWithPurgeAsksTheAgentToPurge) {
  agent_.server().Delete("/v1/job/hello", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"EvalID":"e3"})");
  });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "stop", "-purge", "hello"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "==> Job \"hello\" stopped and purged\n");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].params.find("purge")->second, "true");
}

TEST_F(JobCommands, AddressComesFromDroverAddrOrTheFlagBeforeTheSubcommand) {
  agent_.server().Get(
      "/v1/jobs", [](const httplib::Request&, httplib::Response& res) { reply_json(res, "[]"); });
  agent_.start();
  std::ostringstream out, err;
  ::setenv("DROVER_ADDR", agent_.address().c_str(), 1);
  const int from_env = run_cli({"job", "status"}, out, err);
  ::unsetenv("DROVER_ADDR");
  EXPECT_EQ(from_env, 0) << err.str();
  EXPECT_EQ(run_cli({"-address", agent_.address(), "job", "status"}, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), "No running jobs\nNo running jobs\n");
  EXPECT_EQ(agent_.requests().size(), 2u);
}

TEST_F(JobCommands, UnknownJobShowsTheAgentsError) {
  agent_.server().Get("/v1/job/nope", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, R"({"error":"job \"nope\" not found"})", 404);
  });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "status", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error: job \"nope\" not found\n");
}

TEST_F(JobCommands, DispatchSendsEveryMetaAndThePayloadFileAsNomadsCliDoes) {
  agent_.server().Post(
      R"(/v1/job/(.+)/dispatch)", [](const httplib::Request&, httplib::Response& res) {
        reply_json(
            res, R"({"DispatchedJobID":"report/dispatch-1-0a1b2c3d","EvalID":"e1","AllocIDs":[]})");
      });
  agent_.start();
  auto payload = write_file("in.txt", "hello\n");
  auto r = run_cli_against(agent_.address(), {"job", "dispatch", "-meta", "customer=acme", "-meta",
                                              "format=a=b", "-detach", "report", payload});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Dispatched Job ID = report/dispatch-1-0a1b2c3d\nEvaluation ID     = e1\n");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/v1/job/report/dispatch");
  auto body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["Payload"], "aGVsbG8K");
  EXPECT_EQ(body["Meta"], (nlohmann::json{{"customer", "acme"}, {"format", "a=b"}}));
  // -payload names the same file; both at once is one too many.
  auto both = run_cli_against(agent_.address(),
                              {"job", "dispatch", "-payload", payload, "report", payload});
  EXPECT_EQ(both.code, 1);
  EXPECT_NE(both.err.find("give the payload once"), std::string::npos) << both.err;
  auto bad = run_cli_against(agent_.address(), {"job", "dispatch", "-meta", "novalue", "report"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("-meta \"novalue\": must be key=value"), std::string::npos) << bad.err;
}

TEST_F(JobCommands, PeriodicForcePrintsTheLaunchedChild) {
  agent_.server().Post(R"(/v1/job/(.+)/periodic/force)",
                       [](const httplib::Request&, httplib::Response& res) {
                         reply_json(res, R"({"EvalID":"e1","JobID":"tick/periodic-1700000000"})");
                       });
  agent_.start();
  auto r = run_cli_against(agent_.address(), {"job", "periodic", "force", "tick"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "==> Job \"tick/periodic-1700000000\" launched\n");
  EXPECT_EQ(agent_.requests().at(0).path, "/v1/job/tick/periodic/force");
}

}  // namespace
}  // namespace drover::cli::testing

namespace drover::cli::testing {
namespace {

// `job restart`'s prompts (docs/nomad-compat.md, "job restart"): a fake agent whose restart of
// the first alloc fails; -on-error=ask asks whether to go on, and the answer decides; fail and
// no answer end at once; -batch-wait=ask asks before each next batch; -yes answers for the user.
class JobRestartPrompts : public ::testing::Test {
 protected:
  void SetUp() override {
    agent_.server().Get("/v1/job/web", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, R"({"ID":"web","TaskGroups":[{"Name":"g","Tasks":[{"Name":"t"}]}]})");
    });
    agent_.server().Get("/v1/job/web/allocations", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, nlohmann::json::array({alloc_json(kAlloc1, 0), alloc_json(kAlloc2, 0)}).dump());
    });
    agent_.server().Get(R"(/v1/allocation/([0-9a-f-]+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      reply_json(res, alloc_json(req.matches[1], restarts_[req.matches[1]]).dump());
    });
    agent_.server().Post(R"(/v1/client/allocation/([0-9a-f-]+)/restart)",
                         [this](const httplib::Request& req, httplib::Response& res) {
                           if (req.matches[1] == fail_) {
                             reply_json(res, R"({"error":"task t is not running"})", 409);
                             return;
                           }
                           std::lock_guard lock(mu_);
                           ++restarts_[req.matches[1]];
                           reply_json(res, "{}");
                         });
    agent_.start();
  }
  static nlohmann::json alloc_json(const std::string& id, int restarts) {
    return {{"ID", id}, {"TaskGroup", "g"}, {"ClientStatus", "running"},
            {"TaskStates", {{"t", {{"State", "running"}, {"Restarts", restarts}}}}}};
  }
  int restarts(const std::string& id) {
    std::lock_guard lock(mu_);
    return restarts_[id];
  }
  std::string fail_ = kAlloc1;
  std::mutex mu_;
  std::map<std::string, int> restarts_;
  FakeAgent agent_;
};

TEST_F(JobRestartPrompts, AFailedBatchAsksWhetherToGoOnAndTheAnswerDecides) {
  // Yes: the second batch runs, and the command still ends non-zero, counting the failure.
  auto yes = run_cli_against(agent_.address(), {"job", "restart", "web"}, "y\n");
  EXPECT_EQ(yes.code, 1);
  EXPECT_NE(yes.err.find("Error: restarting allocation \"0123abcd\": "), std::string::npos) << yes.err;
  EXPECT_NE(yes.out.find("==> Batch 1 failed. Go on with the next batch? [y/N] "), std::string::npos)
      << yes.out;
  EXPECT_NE(yes.out.find("Restarting batch 2 of 2"), std::string::npos) << yes.out;
  EXPECT_NE(yes.err.find("Error: job restart finished with 1 failed batch"), std::string::npos) << yes.err;
  EXPECT_EQ(restarts(kAlloc2), 1);

  // No answer (stdin at its end, as in a script): it stops before batch 2.
  auto none = run_cli_against(agent_.address(), {"job", "restart", "web"});
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("job restart stopped after batch 1 of 2 failed"), std::string::npos) << none.err;
  EXPECT_EQ(none.out.find("Restarting batch 2"), std::string::npos) << none.out;
  EXPECT_EQ(restarts(kAlloc2), 1);

  // -on-error=fail: no prompt at all.
  auto fail = run_cli_against(agent_.address(), {"job", "restart", "-on-error=fail", "web"}, "y\n");
  EXPECT_EQ(fail.code, 1);
  EXPECT_EQ(fail.out.find("Go on"), std::string::npos) << fail.out;
  EXPECT_EQ(restarts(kAlloc2), 1);

  // -yes: on past the failure without asking.
  auto forced = run_cli_against(agent_.address(), {"job", "restart", "-yes", "web"});
  EXPECT_EQ(forced.code, 1);
  EXPECT_NE(forced.out.find("Going on with the next batch (-yes)"), std::string::npos) << forced.out;
  EXPECT_EQ(restarts(kAlloc2), 2);

  auto bad = run_cli_against(agent_.address(), {"job", "restart", "-on-error=maybe", "web"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("-on-error: must be \"ask\" or \"fail\" (got \"maybe\")"), std::string::npos);
}

TEST_F(JobRestartPrompts, BatchWaitAskAsksBeforeEachNextBatch) {
  fail_.clear();
  auto no = run_cli_against(agent_.address(), {"job", "restart", "-batch-wait=ask", "web"}, "n\n");
  EXPECT_EQ(no.code, 1);
  EXPECT_NE(no.out.find("==> Go on with batch 2 of 2? [Y/n] "), std::string::npos) << no.out;
  EXPECT_NE(no.err.find("job restart canceled after batch 1 of 2"), std::string::npos) << no.err;
  EXPECT_EQ(restarts(kAlloc1), 1);
  EXPECT_EQ(restarts(kAlloc2), 0);
  // An empty line takes the default, yes.
  auto go = run_cli_against(agent_.address(), {"job", "restart", "-batch-wait=ask", "web"}, "\n");
  EXPECT_EQ(go.code, 0) << go.err;
  EXPECT_NE(go.out.find("Job restart finished"), std::string::npos) << go.out;
  EXPECT_EQ(restarts(kAlloc2), 1);
}

}  // namespace
}  // namespace drover::cli::testing
