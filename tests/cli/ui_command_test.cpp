// `drover ui`: the web UI's URL at -address, on the page of the job, alloc or node an id (or
// a unique prefix) names; only printed where no desktop session is.
#include <gtest/gtest.h>

#include <cstdlib>

#include "fake_agent.hpp"

namespace drover::cli::testing {
namespace {

class UiCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    auto& s = agent_.server();
    s.Get("/v1/job/web", [](const httplib::Request&, httplib::Response& res) { reply_json(res, R"({"ID":"web"})"); });
    s.Get(R"(/v1/job/(.+))", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, R"({"error":"job not found"})", 404);
    });
    s.Get("/v1/jobs", [](const httplib::Request& req, httplib::Response& res) {
      reply_json(res, req.get_param_value("prefix") == "batch-n" ? R"([{"ID":"batch-nightly"}])" : "[]");
    });
    s.Get("/v1/allocation/3f2a", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, R"({"ID":"3f2a9c10-0000-4000-8000-000000000001"})");
    });
    s.Get(R"(/v1/allocation/(.+))", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, R"({"error":"alloc not found"})", 404);
    });
    s.Get(R"(/v1/node/(.+))", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, R"({"error":"not found"})", 404);
    });
    s.Get("/v1/node", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, R"({"ID":"9c1e0000-0000-4000-8000-0000000000aa"})");
    });
    agent_.start();
  }
  FakeAgent agent_;
};

TEST_F(UiCommand, TheUrlOfTheJobAllocOrNodeAnIdOrAPrefixNames) {
  const std::string ui = agent_.address() + "/ui/";
  auto url = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"ui", "-show-url"});
    auto r = run_cli_against(agent_.address(), args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  };
  EXPECT_EQ(url({}), "URL for web UI: " + ui + "\n");
  EXPECT_EQ(url({"web"}), "URL for web UI: " + ui + "#/job/web\n");
  EXPECT_EQ(url({"batch-n"}), "URL for web UI: " + ui + "#/job/batch-nightly\n");
  EXPECT_EQ(url({"3f2a"}), "URL for web UI: " + ui + "#/alloc/3f2a9c10-0000-4000-8000-000000000001\n");
  EXPECT_EQ(url({"9c1e"}), "URL for web UI: " + ui + "#/node/9c1e0000-0000-4000-8000-0000000000aa\n");
  auto ns = run_cli_against(agent_.address(), {"-namespace", "prod", "ui", "-show-url", "web"});
  EXPECT_NE(ns.out.find("#/job/web?namespace=prod"), std::string::npos) << ns.out;
}

TEST_F(UiCommand, NothingMatchingIsAnErrorAndWithoutADesktopTheUrlIsPrinted) {
  auto none = run_cli_against(agent_.address(), {"ui", "nothing"});
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("no job, alloc or node matches \"nothing\""), std::string::npos) << none.err;
  auto r = run_cli_against(agent_.address(), {"ui", "web"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Opening URL \"" + agent_.address() + "/ui/#/job/web\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("No desktop session here"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace drover::cli::testing
