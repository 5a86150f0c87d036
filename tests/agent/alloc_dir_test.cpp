// The alloc dir's layout and modes (runner/alloc_dir.hpp), made fresh and made again over
// what is there, and a symlink planted where a dir should be refused.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "runner/alloc_dir.hpp"

namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

struct AllocDirTest : ::testing::Test {
  fs::path data = fs::temp_directory_path() / ("drover-alloc-dir-test-" + std::to_string(::getpid()));
  void SetUp() override { fs::create_directories(data); }
  void TearDown() override { fs::remove_all(data); }
};

TEST_F(AllocDirTest, DirsHaveTheirModesWhenMadeAndWhenMadeAgainOverLooserOnes) {
  auto dir = drover::runner::alloc_dir_for(data, "a1");
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(dir.build().ok());
    ASSERT_TRUE(dir.build_task("t", "").ok());
    EXPECT_EQ(mode_of(dir.root), 0755u);
    EXPECT_EQ(mode_of(dir.shared_dir() / "data"), 0755u);
    EXPECT_EQ(mode_of(dir.logs_dir()), 0755u);
    EXPECT_EQ(mode_of(dir.shared_dir() / "tmp"), 01777u);  // the umask takes o+w off mkdir's
    EXPECT_EQ(mode_of(dir.task_dir("t")), 0755u);
    EXPECT_EQ(mode_of(dir.local_dir("t")), 0755u);
    EXPECT_EQ(mode_of(dir.secrets_dir("t")), 0700u);
    EXPECT_EQ(mode_of(dir.task_dir("t") / "tmp"), 01777u);
    // Loosened by someone between two builds: the next build puts the modes back.
    fs::permissions(dir.secrets_dir("t"), fs::perms::all);
    ASSERT_TRUE(dir.build_task("t", "").ok());
    EXPECT_EQ(mode_of(dir.secrets_dir("t")), 0700u);
  }
}

TEST_F(AllocDirTest, ASymlinkWhereADirShouldBeIsRefusedNamingThePath) {
  auto dir = drover::runner::alloc_dir_for(data, "a2");
  ASSERT_TRUE(dir.build().ok());
  fs::create_directories(dir.task_dir("t"));
  fs::create_directory_symlink("/etc", dir.secrets_dir("t"));
  auto st = dir.build_task("t", "");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(dir.secrets_dir("t").string()), std::string::npos) << st.message();
  EXPECT_EQ(mode_of("/etc"), 0755u);  // untouched
}

}  // namespace
