// `drover operator api` against a fake agent (the CLI's token, namespace and address on any
// path, the body from stdin, a refusal's exit code) and `drover job init`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli.hpp"
#include "fake_agent.hpp"

namespace drover::cli::testing {
namespace {

TEST(OperatorApi, SendsTheTokenAndNamespaceAndPrintsTheAnswerAsItCame) {
  FakeAgent agent;
  agent.server().Get("/v1/jobs", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"([{"ID":"web"}])", "application/json");
  });
  agent.start();
  auto r = run_cli_against(agent.address(), {"operator", "api", "-token", "s3cret", "-namespace",
                                             "prod", "/v1/jobs?prefix=w"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "[{\"ID\":\"web\"}]\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/v1/jobs");
  EXPECT_EQ(reqs[0].params.find("prefix")->second, "w");
  EXPECT_EQ(reqs[0].params.find("namespace")->second, "prod");
  EXPECT_EQ(reqs[0].headers.find("X-Nomad-Token")->second, "s3cret");
}

TEST(OperatorApi, PutSendsStdinAndARefusalExitsOneWithItsBodyOnStderr) {
  FakeAgent agent;
  agent.server().Put("/v1/client/metadata", [](const httplib::Request& req, httplib::Response& res) {
    res.status = req.body.find("\"Meta\"") == std::string::npos ? 400 : 200;
    res.set_content(res.status == 200 ? "{}" : R"({"error":"Meta: required"})", "application/json");
  });
  agent.start();
  std::istringstream in(R"({"Meta": {"rack": "r1"}})");
  auto* saved = std::cin.rdbuf(in.rdbuf());
  auto ok = run_cli_against(agent.address(), {"operator", "api", "-X", "PUT", "/v1/client/metadata"});
  std::istringstream empty("{}");
  std::cin.rdbuf(empty.rdbuf());
  auto refused = run_cli_against(agent.address(), {"operator", "api", "-X=put", "/v1/client/metadata"});
  std::cin.rdbuf(saved);
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err, "{\"error\":\"Meta: required\"}\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, R"({"Meta": {"rack": "r1"}})");
  auto not_api = run_cli_against(agent.address(), {"operator", "api", "/etc/passwd"});
  EXPECT_EQ(not_api.code, 1);
  EXPECT_NE(not_api.err.find("is not an API path"), std::string::npos) << not_api.err;
}

TEST(JobInit, WritesTheExampleOnceAndNeverOverAFile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("drover-job-init-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "example.nomad.hcl").string();
  auto first = run_cli_against("http://127.0.0.1:1", {"job", "init", file});
  EXPECT_EQ(first.code, 0) << first.err;
  std::ifstream written(file), example(std::string(DROVER_SOURCE_DIR) + "/examples/counter-service.nomad.hcl");
  std::stringstream a, b;
  a << written.rdbuf();
  b << example.rdbuf();
  EXPECT_EQ(a.str(), b.str());
  EXPECT_FALSE(a.str().empty());
  std::ofstream(file) << "mine";
  auto again = run_cli_against("http://127.0.0.1:1", {"job", "init", file});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  std::ifstream kept(file);
  std::stringstream c;
  c << kept.rdbuf();
  EXPECT_EQ(c.str(), "mine");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace drover::cli::testing
