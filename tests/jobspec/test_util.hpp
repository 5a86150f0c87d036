// Helpers shared by the jobspec tests: parse and look up problems by path.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "jobspec/parse.hpp"

namespace drover::jobspec::testing {

// The job from text that must parse; fails the test with every problem otherwise.
inline Job must_parse(std::string_view text) {
  ParseResult r = parse_job(text);
  EXPECT_TRUE(r.problems.empty()) << format_problems(r.problems);
  EXPECT_TRUE(r.job.has_value());
  return r.job.value_or(Job{});
}

// The "path: message" lines of a job that must not parse.
inline std::string problems_of(std::string_view text) {
  ParseResult r = parse_job(text);
  EXPECT_FALSE(r.job.has_value()) << "the job parsed but should not have";
  EXPECT_FALSE(r.problems.empty());
  return format_problems(r.problems);
}

inline bool has_line(const std::string& problems, const std::string& line) {
  return ("\n" + problems).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace drover::jobspec::testing
