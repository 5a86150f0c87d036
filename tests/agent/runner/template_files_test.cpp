// The template hook's files: paths kept beneath the task dir, atomic writes that refuse links,
// and env templates' KEY=value lines.
#include "runner/hooks/template_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include "test_files.hpp"

namespace drover::runner {

using drover::test_support::slurp;

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/drover-tpl-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

TEST(TemplateFiles, PathsStayBeneathTheTaskDir) {
  const fs::path dir = "/data/alloc/a1/web";
  EXPECT_EQ(*task_relative(dir, "local/app.conf"), "local/app.conf");
  EXPECT_EQ(*task_relative(dir, "/data/alloc/a1/web/secrets/x"), "secrets/x");
  EXPECT_EQ(*task_relative(dir, "/secrets/x"), "secrets/x");  // as Nomad joins it
  EXPECT_EQ(*task_relative(dir, "local/./a/../b"), "local/b");
  auto up = task_relative(dir, "local/../../x");
  ASSERT_FALSE(up);
  EXPECT_EQ(up.message(), "\"local/../../x\" escapes the task dir");
  EXPECT_FALSE(task_relative(dir, "local/.."));
}

TEST(TemplateFiles, WritesAtomicallyWithPermsAndMakesParents) {
  TempDir d;
  ASSERT_TRUE(write_beneath_atomically(d.path, "local/deep/app.conf", "one", 0600, {}, {}));
  EXPECT_EQ(slurp(d.path / "local/deep/app.conf"), "one");
  struct stat st {};
  ASSERT_EQ(::stat((d.path / "local/deep/app.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_TRUE(write_beneath_atomically(d.path, "local/deep/app.conf", "two", 0640, {}, {}));
  EXPECT_EQ(slurp(d.path / "local/deep/app.conf"), "two");
  // No temp file is left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(d.path / "local/deep")) (void)e, ++files;
  EXPECT_EQ(files, 1);
}

TEST(TemplateFiles, RefusesADestinationThatIsASymlink) {
  TempDir d;
  fs::create_directories(d.path / "local");
  const fs::path target = d.path / "outside";
  std::ofstream(target) << "keep";
  fs::create_symlink(target, d.path / "local/app.conf");
  auto st = write_beneath_atomically(d.path, "local/app.conf", "evil", 0644, {}, {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), "destination local/app.conf is a symlink; refusing to write through it");
  EXPECT_EQ(slurp(target), "keep");
}

TEST(TemplateFiles, RefusesAParentDirThatIsASymlink) {
  TempDir d;
  fs::create_directories(d.path / "elsewhere");
  fs::create_symlink(d.path / "elsewhere", d.path / "local");
  EXPECT_FALSE(write_beneath_atomically(d.path, "local/app.conf", "x", 0644, {}, {}));
  EXPECT_FALSE(fs::exists(d.path / "elsewhere/app.conf"));
}

TEST(TemplateFiles, EnvLinesAsNomadReadsThem) {
  auto v = parse_env_lines(
      "# comment\n\nA=1\nexport B=two words # trailing\nC=\"quoted \\\"x\\\"\\n\"\nD='single "
      "$X'\nE=\n");
  ASSERT_TRUE(v) << v.message();
  EXPECT_EQ(v->at("A"), "1");
  EXPECT_EQ(v->at("B"), "two words");
  EXPECT_EQ(v->at("C"), "quoted \"x\"\n");
  EXPECT_EQ(v->at("D"), "single $X");
  EXPECT_EQ(v->at("E"), "");
  auto bad = parse_env_lines("A=1\nnot a pair\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.message(), "line 2: expected KEY=value");
}

}  // namespace
}  // namespace drover::runner
