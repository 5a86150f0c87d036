// Hostile job documents (docs/threat-model.md, "The API": parsing must not burn CPU or
// crash): oversize, deep nesting in JSON and YAML, alias bombs. Each is refused with one clear
// problem.
#include <gtest/gtest.h>

#include <chrono>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using testing::has_line;
using testing::problems_of;

std::string only_problem(const std::string& text) {
  ParseResult r = parse_job(text);
  EXPECT_FALSE(r.job.has_value());
  EXPECT_EQ(r.problems.size(), 1u) << format_problems(r.problems);
  return r.problems.empty() ? "" : r.problems[0].message;
}

TEST(Hostile, OversizeDocumentRefusedBeforeParsing) {
  std::string text =
      "job:\n  id: x\n  meta:\n    big: \"" + std::string(kMaxJobDocumentBytes, 'a') + "\"\n";
  EXPECT_NE(only_problem(text).find("the limit is 1048576 (1 MiB)"), std::string::npos);
}

TEST(Hostile, DeepJsonRefused) {
  std::string deep =
      "{\"Job\": {\"ID\": \"x\", \"TaskGroups\": [{\"Name\": \"g\", \"Tasks\": "
      "[{\"Name\": \"t\", \"Driver\": \"raw_exec\", \"Config\": {\"a\": " +
      std::string(200000, '[') + std::string(200000, ']') + "}}]}]}}";
  EXPECT_EQ(only_problem(deep), "job document is nested more than 64 levels deep");
}

TEST(Hostile, DeepYamlFlowRefused) {
  std::string deep =
      "job:\n  id: x\n  meta: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  EXPECT_EQ(only_problem(deep), "job document is nested more than 64 levels deep");
}

TEST(Hostile, DeepYamlBlockRefused) {
  std::string deep =
      "job:\n  id: x\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
      "          driver: raw_exec\n          config:\n";
  std::string indent = "            ";
  for (int i = 0; i < 80; ++i) {
    deep += indent + "k:\n";
    indent += "  ";
  }
  deep += indent + "k: v\n";
  EXPECT_EQ(only_problem(deep), "job document is nested more than 64 levels deep");
}

TEST(Hostile, NestingWithinTheLimitIsFine) {
  std::string config = std::string(40, '[') + std::string(40, ']');
  testing::must_parse(
      "job:\n  id: x\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec, "
      "config: {a: " +
      config + "}}]}]\n");
}

TEST(Hostile, YamlAliasBombRefusedQuickly) {
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int k = 0; k < 9; ++k) bomb += ", " + prev;
    bomb += "]\n";
  }
  bomb +=
      "job:\n  id: x\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {b: "
      "*a11}}]}]\n";
  auto start = std::chrono::steady_clock::now();
  std::string message = only_problem(bomb);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(message.find("nodes once aliases are expanded"), std::string::npos) << message;
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(Hostile, HugeKeysDoNotSlowDidYouMean) {
  std::string key(1000, 'k');  // yaml-cpp refuses simple keys over 1024 bytes itself
  std::string p = problems_of("job:\n  id: x\n  " + key +
                              ": 1\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]\n");
  EXPECT_TRUE(has_line(p, key + ": unknown key"));
}

TEST(Hostile, ThousandsOfProblemsAreCapped) {
  std::string text = "job:\n  id: x\n";
  for (int i = 0; i < 5000; ++i) text += "  k" + std::to_string(i) + ": 1\n";
  ParseResult r = parse_job(text);
  ASSERT_EQ(r.problems.size(), kMaxReportedProblems + 1);
  EXPECT_EQ(r.problems.back().message, "... and 4901 more problems");
}

TEST(Hostile, LongNamesRefused) {
  std::string p = problems_of("job:\n  id: " + std::string(200, 'x') +
                              "\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]\n");
  EXPECT_NE(p.find("id: must be at most 128 characters (got 200)"), std::string::npos) << p;
}

TEST(Hostile, BinaryGarbageIsAProblemNotACrash) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) % 256);
  ParseResult r = parse_job(garbage);
  EXPECT_FALSE(r.job.has_value());
  EXPECT_FALSE(r.problems.empty());
}

}  // namespace
}  // namespace drover::jobspec
