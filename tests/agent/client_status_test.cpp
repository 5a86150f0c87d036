#include <gtest/gtest.h>

#include "runner/alloc_runner.hpp"

using drover::runner::client_status_of;
using drover::state::TaskState;

namespace {
TaskState st(const char* state, bool failed = false) {
  TaskState s;
  s.state = drover::state::task_phase_from_string(state);
  s.failed = failed;
  return s;
}
}  // namespace

TEST(ClientStatus, FollowsNomadsPrecedence) {
  EXPECT_EQ(client_status_of({{"a", st("pending")}}).first, "pending");
  EXPECT_EQ(client_status_of({{"a", st("running")}, {"b", st("pending")}}).first, "running");
  EXPECT_EQ(client_status_of({{"a", st("dead")}, {"b", st("dead")}}).first, "complete");
  EXPECT_EQ(client_status_of({{"a", st("running")}, {"b", st("dead", true)}}).first, "failed");
}
