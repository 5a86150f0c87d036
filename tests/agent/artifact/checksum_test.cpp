// Checksums of downloaded files: every type against known digests, and a mismatch that
// gives both sums.
#include "artifact/checksum.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace drover::artifact;

namespace {
std::filesystem::path abc_file() {
  auto p = std::filesystem::temp_directory_path() / ("artifact-sum-" + std::to_string(::getpid()));
  std::ofstream(p) << "abc";
  return p;
}
}  // namespace

TEST(ArtifactChecksum, KnownDigests) {
  auto p = abc_file();
  EXPECT_EQ(*file_digest(p, "md5"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(*file_digest(p, "sha1"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(*file_digest(p, "sha256"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(verify_checksum(
      p,
      *parse_checksum("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")));
  std::filesystem::remove(p);
}

TEST(ArtifactChecksum, MismatchGivesBothSums) {
  auto p = abc_file();
  auto st = verify_checksum(p, *parse_checksum("sha256:" + std::string(64, '0')));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), drover::Errc::Invalid);
  EXPECT_NE(st.message().find("expected sha256:" + std::string(64, '0')), std::string::npos);
  EXPECT_NE(st.message().find(
                "got sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            std::string::npos)
      << st.message();
  std::filesystem::remove(p);
}
