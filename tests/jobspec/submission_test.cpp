// The submitted source kept beside a job (jobspec/submission.hpp): an HCL body is its own
// source, Nomad's {"Job", "Submission"} body gives it, YAML and JSON keep none.
#include <gtest/gtest.h>

#include "jobspec/submission.hpp"

using namespace drover::jobspec;
using nlohmann::json;

namespace {

TEST(Submission, AnHclBodyIsItsOwnSource) {
  const std::string hcl = "job \"web\" {\n  group \"g\" {}\n}\n";
  auto s = split_submission(hcl);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(s->body, hcl) << "read as it came";
  EXPECT_EQ(s->submission["Source"], hcl);
  EXPECT_EQ(s->submission["Format"], "hcl2");
}

TEST(Submission, NomadsRegisterBodyGivesItsSubmissionAndLosesIt) {
  json body = {{"Job", {{"ID", "web"}}},
               {"EnforceIndex", true},
               {"Submission", {{"Source", "job \"web\" {}"}, {"Format", "hcl2"},
                               {"VariableFlags", {{"image", "redis"}}}}}};
  auto s = split_submission(body.dump());
  ASSERT_TRUE(s) << s.message();
  json rest = json::parse(s->body);
  EXPECT_FALSE(rest.contains("Submission"));
  EXPECT_EQ(rest["EnforceIndex"], true) << "the rest of the request stays";
  EXPECT_EQ(s->submission, json({{"Source", "job \"web\" {}"}, {"Format", "hcl2"},
                                 {"Variables", ""}, {"VariableFlags", {{"image", "redis"}}}}));
  EXPECT_EQ(submission_reply(s->submission, "prod", "web", 3)["Namespace"], "prod");
}

TEST(Submission, YamlAndJsonJobsKeepNoneAndABadOneIsRefusedByField) {
  auto yaml = split_submission("job:\n  id: web\n");
  ASSERT_TRUE(yaml);
  EXPECT_TRUE(yaml->submission.is_null());
  auto plain = split_submission(R"({"Job": {"ID": "web"}})");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->submission.is_null());
  auto bad = split_submission(R"({"Job": {"ID": "web"}, "Submission": {"Source": 7, "Format": "hcl2"}})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("Submission.Source"), std::string::npos) << bad.message();
  EXPECT_EQ(bad.code(), drover::Errc::Invalid);
}

}  // namespace
