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

// The bytes of `p`; "" when it cannot be read. A /proc/PID file whose process is reaped
// between open and read fails the read with ESRCH, and libstdc++'s filebuf throws on a read
// error: that is "cannot be read" too, not a test failure.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  try {
    return std::string(std::istreambuf_iterator<char>(in), {});
  } catch (const std::ios_base::failure&) {
    return {};
  }
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
