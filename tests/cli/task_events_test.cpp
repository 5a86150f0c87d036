// Task event descriptions, log tails and file sizes read the way a Nomad user expects.
#include "cli/task_events.hpp"

#include <gtest/gtest.h>

#include "cli/alloc_fs.hpp"
#include "cli/alloc_logs.hpp"

namespace drover::cli {
namespace {

TEST(TaskEvents, TerminatedSaysExitCodeSignalAndOom) {
  auto event = nlohmann::json::parse(
      R"({"Type":"Terminated","ExitCode":137,"Signal":9,"Details":{"oom_killed":"true"}})");
  EXPECT_EQ(describe_task_event(event), "Exit Code: 137, Signal: 9, OOM Killed");
}

TEST(TaskEvents, DisplayMessageWinsAndIsNotRepeated) {
  auto event = nlohmann::json::parse(
      R"({"Type":"Terminated","ExitCode":1,"DisplayMessage":"Exit Code: 1","Message":"x"})");
  EXPECT_EQ(describe_task_event(event), "Exit Code: 1");
  auto started = nlohmann::json::parse(
      R"({"Type":"Started","Message":"Task started by client","DisplayMessage":null})");
  EXPECT_EQ(describe_task_event(started), "Task started by client");
}

TEST(LogTail, LastLinesKeepsTheEndOfTheText) {
  EXPECT_EQ(last_lines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(last_lines("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(last_lines("a\nb\n", 5), "a\nb\n");
  EXPECT_EQ(last_lines("a\nb\n", 0), "");
}

// `alloc fs` sizes as `nomad alloc fs` prints them (humanize.IBytes).
TEST(AllocFsSizes, BytesThenOneDecimalInBinaryUnits) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(1024), "1.0 KiB");
  EXPECT_EQ(human_size(4096), "4.0 KiB");
  EXPECT_EQ(human_size(1536 * 1024), "1.5 MiB");
  EXPECT_EQ(human_size(int64_t{5} << 40), "5.0 TiB");
}

}  // namespace
}  // namespace drover::cli
