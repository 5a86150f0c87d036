// The artifact block read as go-getter reads it, before anything is fetched: getters,
// go-getter's query arguments, checksums, modes, destinations and headers.
#include "artifact/source.hpp"

#include <gtest/gtest.h>

using namespace drover::artifact;

TEST(ArtifactSource, HttpUrlKeepsItsQueryButNotGoGettersArguments) {
  auto s = parse_source(
      "https://example.com/dl/app.tar.gz?token=abc&checksum=sha256:" + std::string(64, 'a'), {});
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(s->getter, Getter::Http);
  EXPECT_EQ(s->url, "https://example.com/dl/app.tar.gz?token=abc");
  EXPECT_EQ(s->filename, "app.tar.gz");
  EXPECT_EQ(s->archive, ArchiveKind::Tar);
  ASSERT_TRUE(s->checksum);
  EXPECT_EQ(s->checksum->text(), "sha256:" + std::string(64, 'a'));
}

TEST(ArtifactSource, GitForcedWithRefDepthAndSubdir) {
  auto s = parse_source("git::https://example.com/repo.git//deploy?ref=v1.2", {{"depth", "1"}});
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(s->getter, Getter::Git);
  EXPECT_EQ(s->url, "https://example.com/repo.git");
  EXPECT_EQ(s->subdir, "deploy");
  EXPECT_EQ(s->ref, "v1.2");
  EXPECT_EQ(s->depth, 1);
  auto local = parse_source("git::file:///srv/repo", {});
  ASSERT_TRUE(local) << local.message();
  EXPECT_EQ(local->url, "file:///srv/repo");
  auto gh = parse_source("github.com/hashicorp/example", {});
  ASSERT_TRUE(gh) << gh.message();
  EXPECT_EQ(gh->getter, Getter::Git);
  EXPECT_EQ(gh->url, "https://github.com/hashicorp/example");
}

TEST(ArtifactSource, RefusesS3GcsAndHgNamingTheScheme) {
  for (auto [src, scheme] : std::vector<std::pair<std::string, std::string>>{
           {"s3::https://s3.amazonaws.com/bucket/x", "s3"},
           {"s3://bucket/x", "s3"},
           {"bucket.s3.amazonaws.com/x.zip", "s3"},
           {"gcs::https://www.googleapis.com/storage/v1/b/x", "gcs"},
           {"gs://bucket/x", "gcs"},
           {"hg::https://example.com/repo", "hg"}}) {
    auto s = parse_source(src, {});
    ASSERT_FALSE(s) << src;
    EXPECT_EQ(s.code(), drover::Errc::Invalid);
    EXPECT_NE(s.message().find("the " + scheme + " getter is not supported"), std::string::npos)
        << s.message();
  }
  auto ftp = parse_source("ftp://example.com/x", {});
  ASSERT_FALSE(ftp);
  EXPECT_NE(ftp.message().find("\"ftp://\""), std::string::npos) << ftp.message();
}

TEST(ArtifactSource, ChecksumNeedsAKnownTypeAndItsHexLength) {
  EXPECT_TRUE(parse_checksum("md5:" + std::string(32, '0')));
  EXPECT_TRUE(parse_checksum("sha1:" + std::string(40, 'F')));
  EXPECT_TRUE(parse_checksum("sha512:" + std::string(128, 'b')));
  auto short_sum = parse_checksum("sha256:abcd");
  ASSERT_FALSE(short_sum);
  EXPECT_NE(short_sum.message().find("64 hex digits"), std::string::npos) << short_sum.message();
  EXPECT_FALSE(parse_checksum("sha256:" + std::string(64, 'g')));
  auto typeless = parse_checksum(std::string(64, 'a'));
  ASSERT_FALSE(typeless);
  EXPECT_NE(typeless.message().find("type:hex"), std::string::npos);
  auto crc = parse_checksum("crc32:00000000");
  ASSERT_FALSE(crc);
  EXPECT_NE(crc.message().find("crc32"), std::string::npos);
  auto opt = parse_source("https://x/y.zip", {{"checksum", "sha256:12"}});
  ASSERT_FALSE(opt);
  EXPECT_EQ(opt.message().rfind("options.checksum: ", 0), 0u) << opt.message();
}

TEST(ArtifactSource, OptionsAreCheckedByName) {
  auto unknown = parse_source("https://x/y", {{"chksum", "x"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.message().rfind("options.chksum: unknown option", 0), 0u);
  auto ref = parse_source("https://x/y", {{"ref", "main"}});
  ASSERT_FALSE(ref);
  EXPECT_EQ(ref.message().rfind("options.ref: only a git source", 0), 0u);
  auto dash = parse_source("git::https://x/y", {{"ref", "--upload-pack=evil"}});
  ASSERT_FALSE(dash);
  EXPECT_EQ(dash.message().rfind("options.ref:", 0), 0u);
  auto depth = parse_source("git::https://x/y", {{"depth", "0"}});
  ASSERT_FALSE(depth);
  auto ext = parse_source("git::ext::sh -c touch% /tmp/pwned", {});
  ASSERT_FALSE(ext);
  auto off = parse_source("https://x/app.tar.gz", {{"archive", "false"}});
  ASSERT_TRUE(off);
  EXPECT_EQ(off->archive, ArchiveKind::None);
  auto forced = parse_source("https://x/download", {{"archive", "tgz"}});
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->archive, ArchiveKind::Tar);
}

TEST(ArtifactSource, DestinationStaysInTheTaskDir) {
  EXPECT_EQ(*normalize_destination(""), "local");
  EXPECT_EQ(*normalize_destination("local/"), "local");
  EXPECT_EQ(*normalize_destination("./local/app/../bin"), "local/bin");
  EXPECT_EQ(*normalize_destination("."), ".");
  auto up = normalize_destination("local/../../other");
  ASSERT_FALSE(up);
  EXPECT_NE(up.message().find("escapes the task dir"), std::string::npos);
  auto abs = normalize_destination("/etc");
  ASSERT_FALSE(abs);
  EXPECT_NE(abs.message().find("absolute"), std::string::npos);
}

TEST(ArtifactSource, ModesAndHeaders) {
  EXPECT_TRUE(check_mode("any"));
  EXPECT_TRUE(check_mode("dir"));
  EXPECT_FALSE(check_mode("folder"));
  EXPECT_TRUE(check_header("Authorization", "Bearer x"));
  EXPECT_FALSE(check_header("X Bad", "v"));
  EXPECT_FALSE(check_header("X-Ok", "a\r\nInjected: 1"));
}
