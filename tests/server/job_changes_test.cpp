// `job scale` and `job revert` make the next version from the stored job (jobspec/scaling.hpp,
// server/job_changes.hpp).
#include "server/job_changes.hpp"
#include "jobspec/scaling.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using drover::jobspec::scaled_job;
using nlohmann::json;

namespace {

json two_groups() {
  json j = drover::jobspec::to_json(job(web(2)));
  json second = j["TaskGroups"][0];
  second["Name"] = "h";
  j["TaskGroups"].push_back(second);
  return j;
}

TEST(ScaledJob, SetsTheNamedGroupsCountAndOnlyThat) {
  auto out = scaled_job(two_groups(), "h", 5);
  ASSERT_TRUE(out) << out.message();
  EXPECT_EQ(out.value()["TaskGroups"][0]["Count"], 2);
  EXPECT_EQ(out.value()["TaskGroups"][1]["Count"], 5);
  auto one = scaled_job(drover::jobspec::to_json(job(web(2))), "", 0);
  ASSERT_TRUE(one) << one.message();
  EXPECT_EQ(one.value()["TaskGroups"][0]["Count"], 0) << "scaling to zero is allowed";
}

TEST(ScaledJob, RefusesWhatCannotBeScaledNamingTheField) {
  auto unnamed = scaled_job(two_groups(), "", 3);
  ASSERT_FALSE(unnamed);
  EXPECT_NE(unnamed.message().find("Target.Group"), std::string::npos) << unnamed.message();
  auto unknown = scaled_job(two_groups(), "nope", 3);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, drover::Errc::NotFound);
  auto negative = scaled_job(two_groups(), "h", -1);
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.message().find("Count"), std::string::npos);
  json system = drover::jobspec::to_json(job(web(1)));
  system["Type"] = "system";
  auto sys = scaled_job(system, "g", 3);
  ASSERT_FALSE(sys);
  EXPECT_NE(sys.message().find("system job"), std::string::npos) << sys.message();
}

TEST(RevertedJob, GivesTheEarlierSpecAndRefusesTheCurrentAnUnknownOrAStalePrior) {
  std::map<int, json> versions;
  versions[0] = {{"Version", 0}, {"Job", drover::jobspec::to_json(job(web(2)))}};
  versions[1] = {{"Version", 1}, {"Job", drover::jobspec::to_json(job(web(4)))}};
  auto back = reverted_job(versions, 1, 0, std::nullopt);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back.value()["TaskGroups"][0]["Count"], 2);
  EXPECT_FALSE(reverted_job(versions, 1, 1, std::nullopt)) << "the current version";
  auto unknown = reverted_job(versions, 1, 7, std::nullopt);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, drover::Errc::NotFound);
  auto stale = reverted_job(versions, 1, 0, 0);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, drover::Errc::Conflict);
  EXPECT_TRUE(reverted_job(versions, 1, 0, 1));
}

}  // namespace
