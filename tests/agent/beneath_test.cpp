#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fs/beneath.hpp"

using drover::fs::open_beneath;

TEST(Beneath, RefusesSymlinksAndDotDotOutOfTheRoot) {
  char tmpl[] = "/tmp/drover-beneath-XXXXXX";
  std::filesystem::path root = mkdtemp(tmpl);
  std::filesystem::create_directories(root / "logs");
  std::ofstream(root / "logs" / "ok") << "fine";
  std::filesystem::create_symlink("/etc/passwd", root / "logs" / "evil");
  std::filesystem::create_symlink("/etc", root / "etc-link");
  EXPECT_TRUE(open_beneath(root, "logs/ok", O_RDONLY));
  auto r = open_beneath(root, "logs/evil", O_RDONLY);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("refused"), std::string::npos) << r.message();
  EXPECT_FALSE(open_beneath(root, "../../etc/passwd", O_RDONLY));
  EXPECT_FALSE(open_beneath(root, "etc-link/passwd", O_RDONLY));
  EXPECT_FALSE(open_beneath(root, "/etc/passwd", O_RDONLY));
}
