// The variables keyring: AES-256-GCM round trips, tampered or misplaced data refused, the key
// file's mode, rotation keeping old keys.
#include "vars/keyring.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace drover::vars;

namespace {
std::filesystem::path temp_dir() {
  char tmpl[] = "/tmp/drover-vars-XXXXXX";
  return mkdtemp(tmpl);
}
}  // namespace

TEST(Keyring, SealedTextOpensOnlyWithItsPathAndIsNotPlain) {
  auto dir = temp_dir();
  auto k = Keyring::open_local(dir / "keyring");
  ASSERT_TRUE(k) << k.message();
  const std::string here("default\0a/b", 11), there("default\0a/c", 11);
  auto sealed = (*k)->seal("hunter2-secret", here);
  ASSERT_TRUE(sealed) << sealed.message();
  EXPECT_EQ(sealed->data.find("hunter2"), std::string::npos);
  EXPECT_EQ(sealed->key_id, (*k)->active_id());
  auto back = (*k)->open(*sealed, here);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(*back, "hunter2-secret");
  // The same bytes claimed for another path do not open.
  EXPECT_FALSE((*k)->open(*sealed, there));
  // Two seals of one text differ (a fresh nonce each time).
  EXPECT_NE((*k)->seal("x", "p")->data, (*k)->seal("x", "p")->data);
}

TEST(Keyring, TamperedCiphertextIsRefused) {
  auto dir = temp_dir();
  auto k = Keyring::open_local(dir / "keyring");
  ASSERT_TRUE(k);
  auto sealed = (*k)->seal("the value", "ctx");
  ASSERT_TRUE(sealed);
  for (std::size_t i = 0; i < sealed->data.size(); ++i) {
    Sealed bad = *sealed;
    bad.data[i] ^= 0x01;
    auto r = (*k)->open(bad, "ctx");
    EXPECT_FALSE(r) << "byte " << i << " flipped and still opened";
  }
  Sealed cut = *sealed;
  cut.data.resize(cut.data.size() - 1);
  EXPECT_FALSE((*k)->open(cut, "ctx"));
}

TEST(Keyring, FileIsOwnerOnlyAndKeysSurviveReopening) {
  auto dir = temp_dir();
  std::string id;
  Sealed sealed;
  {
    auto k = Keyring::open_local(dir / "keyring");
    ASSERT_TRUE(k);
    id = (*k)->active_id();
    sealed = *(*k)->seal("v", "c");
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir / "keyring").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto k = Keyring::open_local(dir / "keyring");
  ASSERT_TRUE(k);
  EXPECT_EQ((*k)->active_id(), id);
  EXPECT_EQ(*(*k)->open(sealed, "c"), "v");
}

TEST(Keyring, RotateMakesANewActiveKeyAndOldValuesStillOpen) {
  auto dir = temp_dir();
  auto k = Keyring::open_local(dir / "keyring");
  ASSERT_TRUE(k);
  auto old_id = (*k)->active_id();
  auto old = *(*k)->seal("old value", "c");
  auto rotated = (*k)->rotate();
  ASSERT_TRUE(rotated) << rotated.message();
  EXPECT_NE(rotated->id, old_id);
  EXPECT_EQ((*k)->active_id(), rotated->id);
  EXPECT_EQ((*k)->keys().size(), 2u);
  EXPECT_EQ(*(*k)->open(old, "c"), "old value");
  EXPECT_EQ((*k)->seal("new", "c")->key_id, rotated->id);
  // And after a restart of the agent.
  auto again = Keyring::open_local(dir / "keyring");
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->active_id(), rotated->id);
  EXPECT_EQ(*(*again)->open(old, "c"), "old value");
}

TEST(Keyring, SharedFileMustBeOwnerOnlyAndCannotRotate) {
  auto dir = temp_dir();
  auto file = dir / "cluster.key";
  {
    std::ofstream(file) << "# the cluster's variables key\n"
                        << "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=\n";
  }
  ::chmod(file.c_str(), 0644);
  auto open = Keyring::open_shared(file);
  ASSERT_FALSE(open);
  EXPECT_NE(open.message().find("chmod 600"), std::string::npos) << open.message();
  ::chmod(file.c_str(), 0600);
  auto k = Keyring::open_shared(file);
  ASSERT_TRUE(k) << k.message();
  auto other = Keyring::open_shared(file);
  // Two nodes reading the same file name the same key and open each other's values.
  EXPECT_EQ((*k)->active_id(), (*other)->active_id());
  EXPECT_EQ(*(*other)->open(*(*k)->seal("v", "c"), "c"), "v");
  auto r = (*k)->rotate();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), drover::Errc::Unsupported);
  std::ofstream(file) << "not a key\n";
  auto bad = Keyring::open_shared(file);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find(":1:"), std::string::npos) << bad.message();
}
