// Whole fetches without a network: file sources from allowed dirs only, go-getter's modes, a
// checksum checked before unpacking, and git clones of a local repository at a ref.
#include "artifact/fetch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "archive_maker.hpp"
#include "artifact/checksum.hpp"
#include "test_files.hpp"

using namespace drover::artifact;
using drover::artifact::testing::make_archive;
namespace fs = std::filesystem;

using drover::test_support::slurp;

namespace {

class Fetch : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = drover::test_support::scratch_dir("artifact-fetch");
    fs::create_directories(base_ / "task" / "local");
    fs::create_directories(base_ / "served");
    fs::create_directories(base_ / "secret");
    limits_.file_allowed_dirs = {base_ / "served"};
  }
  void TearDown() override { fs::remove_all(base_); }

  Request request(const std::string& source) {
    Request r;
    r.source = source;
    r.root = base_ / "task";
    r.scratch = base_ / "scratch";
    return r;
  }
  int sh(const std::string& cmd) {
    return std::system(("cd " + base_.string() + " && " + cmd).c_str());
  }

  fs::path base_;
  Limits limits_;
};

}  // namespace

TEST_F(Fetch, FileSourceOnlyFromAnAllowedDir) {
  std::ofstream(base_ / "served" / "app.conf") << "port=1";
  std::ofstream(base_ / "secret" / "key") << "s3cr3t";
  ASSERT_TRUE(fetch(request("file://" + (base_ / "served" / "app.conf").string()), limits_));
  EXPECT_EQ(slurp(base_ / "task" / "local" / "app.conf"), "port=1");
  EXPECT_FALSE(fs::exists(base_ / "scratch"));  // the scratch dir is gone afterwards

  auto outside = fetch(request((base_ / "secret" / "key").string()), limits_);
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.message().find("artifact.file_allowed_dirs"), std::string::npos);
  // Nor through a symlink planted in the allowed dir.
  fs::create_symlink(base_ / "secret" / "key", base_ / "served" / "key");
  auto linked = fetch(request((base_ / "served" / "key").string()), limits_);
  ASSERT_FALSE(linked);
  EXPECT_FALSE(fs::exists(base_ / "task" / "local" / "key"));

  Limits none;
  auto off = fetch(request("file://" + (base_ / "served" / "app.conf").string()), none);
  ASSERT_FALSE(off);
  EXPECT_NE(off.message().find("allows no directory"), std::string::npos) << off.message();
}

TEST_F(Fetch, ModesFileAndDir) {
  std::ofstream(base_ / "served" / "plain.txt") << "plain";
  auto r = request((base_ / "served" / "plain.txt").string());
  r.mode = "file";
  r.destination = "local/conf/renamed.txt";
  ASSERT_TRUE(fetch(r, limits_));
  EXPECT_EQ(slurp(base_ / "task" / "local" / "conf" / "renamed.txt"), "plain");
  r.mode = "dir";
  r.destination = "local/d";
  auto dir = fetch(r, limits_);
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.message().find("mode dir"), std::string::npos);

  fs::create_directories(base_ / "served" / "tree" / "sub");
  std::ofstream(base_ / "served" / "tree" / "sub" / "f") << "tree";
  auto t = request((base_ / "served" / "tree").string());
  t.destination = "local/tree";
  ASSERT_TRUE(fetch(t, limits_));
  EXPECT_EQ(slurp(base_ / "task" / "local" / "tree" / "sub" / "f"), "tree");
}

TEST_F(Fetch, ChecksumIsCheckedBeforeAnythingIsUnpacked) {
  const auto archive = base_ / "served" / "app.tar.gz";
  make_archive(archive.string(), "tar", "gzip", {{"app/run", 'f', "run"}});
  const std::string good = "sha256:" + *file_digest(archive, "sha256");
  auto bad = request(archive.string());
  bad.options = {{"checksum", "sha256:" + std::string(64, 'f')}};
  auto st = fetch(bad, limits_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("expected sha256:" + std::string(64, 'f')), std::string::npos);
  EXPECT_NE(st.message().find("got " + good), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(base_ / "task" / "local" / "app"));

  auto ok = request(archive.string() + "?checksum=" + good);
  ASSERT_TRUE(fetch(ok, limits_));
  EXPECT_EQ(slurp(base_ / "task" / "local" / "app" / "run"), "run");
  // archive = false: the tarball itself.
  auto raw = request(archive.string());
  raw.options = {{"archive", "false"}};
  raw.destination = "local/raw";
  ASSERT_TRUE(fetch(raw, limits_));
  EXPECT_EQ(fs::file_size(base_ / "task" / "local" / "raw" / "app.tar.gz"), fs::file_size(archive));
}

TEST_F(Fetch, GitCloneOfALocalRepositoryAtARef) {
  ASSERT_EQ(sh("git init -q repo && cd repo && git config user.email t@t && git config user.name t"
               " && mkdir deploy && echo v1 > deploy/version && git add . && git commit -qm one"
               " && git tag v1 && echo v2 > deploy/version && git commit -qam two"),
            0);
  auto head = request("git::file://" + (base_ / "repo").string());
  head.destination = "local/head";
  auto st = fetch(head, limits_);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(slurp(base_ / "task" / "local" / "head" / "deploy" / "version"), "v2\n");

  auto tagged = request("git::" + (base_ / "repo").string() + "//deploy?ref=v1");
  tagged.destination = "local/v1";
  st = fetch(tagged, limits_);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(slurp(base_ / "task" / "local" / "v1" / "version"), "v1\n");

  auto shallow = request("git::file://" + (base_ / "repo").string());
  shallow.options = {{"ref", "v1"}, {"depth", "1"}};
  shallow.destination = "local/shallow";
  st = fetch(shallow, limits_);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(slurp(base_ / "task" / "local" / "shallow" / "deploy" / "version"), "v1\n");

  auto missing = request("git::file://" + (base_ / "nope").string());
  st = fetch(missing, limits_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("git clone failed"), std::string::npos) << st.message();

  auto keyed = request("git::file://" + (base_ / "repo").string());
  keyed.options = {{"sshkey", "a2V5"}};
  st = fetch(keyed, limits_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("git_allow_sshkey"), std::string::npos) << st.message();
}
