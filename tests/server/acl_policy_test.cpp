// The policy table (api/acl.hpp) on the paths only `drover server` serves: what a token needs
// to drain a node, promote a deployment or change the scheduler (docs/security.md).
#include <gtest/gtest.h>

#include "api/acl.hpp"

using drover::api::Policy;
using drover::api::required_policy;

TEST(ServerAclPolicy, ReadsNeedReadAndWritesTheirOwnPolicy) {
  EXPECT_EQ(required_policy("GET", "/v1/nodes"), Policy::read);
  EXPECT_EQ(required_policy("GET", "/v1/evaluations"), Policy::read);
  EXPECT_EQ(required_policy("GET", "/v1/status/leader"), Policy::read);
  EXPECT_EQ(required_policy("PUT", "/v1/jobs"), Policy::submit);
  EXPECT_EQ(required_policy("POST", "/v1/job/web/plan"), Policy::submit);
  EXPECT_EQ(required_policy("POST", "/v1/job/web/scale"), Policy::submit);
  EXPECT_EQ(required_policy("POST", "/v1/deployment/promote/abc"), Policy::submit);
  EXPECT_EQ(required_policy("POST", "/v1/node/abc/drain"), Policy::operate);
  EXPECT_EQ(required_policy("POST", "/v1/node/abc/eligibility"), Policy::operate);
  EXPECT_EQ(required_policy("PUT", "/v1/node/abc/purge"), Policy::operate);
  EXPECT_EQ(required_policy("PUT", "/v1/allocation/abc/stop"), Policy::submit);
  EXPECT_EQ(required_policy("POST", "/v1/client/allocation/abc/stop"), Policy::submit);
  EXPECT_EQ(required_policy("PUT", "/v1/operator/scheduler/configuration"), Policy::operate);
  EXPECT_EQ(required_policy("GET", "/v1/operator/scheduler/configuration"), Policy::read);
  EXPECT_EQ(required_policy("POST", "/v1/acl/token"), Policy::management);
  EXPECT_FALSE(required_policy("GET", "/v1/agent/health"));
}

// An alloc's files hold what its templates rendered from variables: reading them takes what
// reading a variable's items takes (submit), where its logs stay a read.
TEST(ServerAclPolicy, AnAllocsFilesNeedSubmitItsLogsRead) {
  for (const char* op : {"ls", "stat", "cat", "readat"})
    EXPECT_EQ(required_policy("GET", std::string("/v1/client/fs/") + op + "/abc"), Policy::submit) << op;
  EXPECT_EQ(required_policy("GET", "/v1/client/fs/logs/abc"), Policy::read);
}

// A job's action is a command run in a task: exec's policy (operate), though it is a GET; the
// list of a job's actions stays a read.
TEST(ServerAclPolicy, RunningAJobsActionNeedsOperateListingThemRead) {
  EXPECT_EQ(required_policy("GET", "/v1/job/web/action"), Policy::operate);
  EXPECT_EQ(required_policy("GET", "/v1/job/batch/periodic-1/action"), Policy::operate);
  EXPECT_EQ(required_policy("GET", "/v1/job/web/actions"), Policy::read);
  EXPECT_EQ(required_policy("GET", "/v1/client/allocation/abc/exec"), Policy::operate);
}
