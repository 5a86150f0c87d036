// Files in unit tests: a file's whole content, and a scratch dir of the test's own. Header-only
// (the drover_test_files target), so unit tests need not link the agent's test support.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace drover::test_support {

// The bytes of `p`; "" when it cannot be read.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// An empty dir under the temp dir named after `prefix`, this process and the running test,
// so that parallel test processes never share one. The caller removes it.
inline std::filesystem::path scratch_dir(const std::string& prefix) {
  const auto dir = std::filesystem::temp_directory_path() /
                   (prefix + "-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace drover::test_support
