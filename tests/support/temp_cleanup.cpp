#include "temp_cleanup.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

namespace drover::testing {
namespace {

std::mutex mu;
std::vector<std::string> paths;

// A netns bind-mounted in an alloc dir, say, left by a test that was killed mid-way: never
// walk into a mount (remove_all would delete what it shows).
bool mount_below(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    if (point == path || point.rfind(path + "/", 0) == 0) return true;
  }
  return false;
}

class Cleaner : public ::testing::EmptyTestEventListener {
  void OnTestProgramEnd(const ::testing::UnitTest& run) override {
    if (run.Failed()) return;
    std::lock_guard lock(mu);
    for (const auto& p : paths) {
      if (mount_below(p)) continue;
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
    paths.clear();
  }
};

}  // namespace

void remove_after_passing_run(const std::string& path) {
  static std::once_flag registered;
  std::call_once(registered, [] {
    ::testing::UnitTest::GetInstance()->listeners().Append(new Cleaner);
  });
  std::lock_guard lock(mu);
  paths.push_back(path);
}

}  // namespace drover::testing
