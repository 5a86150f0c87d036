// The unpacker against honest and hostile archives: what an honest one gives (tar.gz, zip,
// tar.xz, plain .gz, links inside), and what a hostile one is refused for (zip-slip `../`,
// absolute names, symlinks out, symlink-then-file, device files, fifos, bombs), with nothing
// written outside the destination.
#include "artifact/unpack.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "archive_maker.hpp"
#include "test_files.hpp"

using namespace drover::artifact;
using drover::artifact::testing::Entry;
using drover::artifact::testing::make_archive;
namespace fs = std::filesystem;

using drover::test_support::slurp;

namespace {

class Unpack : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = drover::test_support::scratch_dir("artifact-unpack");
    fs::create_directories(base_ / "alloc" / "task" / "local");
    fs::create_directories(base_ / "alloc" / "outside");
    task_ = base_ / "alloc" / "task";
  }
  void TearDown() override { fs::remove_all(base_); }

  drover::Status run(const std::string& format, const std::string& filter,
                     const std::vector<Entry>& entries, ArchiveKind kind,
                     const std::string& single = "file") {
    const auto archive = base_ / "archive";
    make_archive(archive.string(), format, filter, entries);
    auto w = EntryWriter::open(task_, "local", limits_);
    if (!w) return w.error();
    return unpack(archive, kind, single, *w);
  }
  // Whatever the archive did, nothing appeared beside the task dir.
  void expect_nothing_outside() {
    EXPECT_TRUE(fs::is_empty(base_ / "alloc" / "outside"));
    for (auto& e : fs::directory_iterator(base_ / "alloc"))
      EXPECT_TRUE(e.path().filename() == "task" || e.path().filename() == "outside") << e.path();
    for (auto& e : fs::directory_iterator(base_))
      EXPECT_TRUE(e.path().filename() == "alloc" || e.path().filename() == "archive") << e.path();
  }

  fs::path base_, task_;
  Limits limits_;
};

}  // namespace

TEST_F(Unpack, TarGzWithDirsFilesAndLinksInside) {
  auto st = run("tar", "gzip",
                {{"./app/", 'd'},
                 {"./app/bin/run.sh", 'f', "#!/bin/sh\necho hi\n", 0755},
                 {"./app/conf", 'f', "x=1\n"},
                 {"./app/current", 'l', "bin/run.sh"},
                 {"./app/conf.bak", 'h', "./app/conf"},
                 {"./app/up", 'l', "../app/conf"}},
                ArchiveKind::Tar);
  ASSERT_TRUE(st) << st.message();
  const auto app = task_ / "local" / "app";
  EXPECT_EQ(slurp(app / "bin" / "run.sh"), "#!/bin/sh\necho hi\n");
  EXPECT_TRUE((fs::status(app / "bin" / "run.sh").permissions() & fs::perms::owner_exec) !=
              fs::perms::none);
  EXPECT_EQ(fs::read_symlink(app / "current"), "bin/run.sh");
  EXPECT_EQ(slurp(app / "current"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(slurp(app / "conf.bak"), "x=1\n");
  EXPECT_EQ(slurp(app / "up"), "x=1\n");
}

TEST_F(Unpack, ZipTarXzTarBz2AndPlainGz) {
  ASSERT_TRUE(run("zip", "", {{"z/a.txt", 'f', "zip"}}, ArchiveKind::Zip));
  EXPECT_EQ(slurp(task_ / "local" / "z" / "a.txt"), "zip");
  ASSERT_TRUE(run("tar", "xz", {{"x.txt", 'f', "xz"}}, ArchiveKind::Tar));
  EXPECT_EQ(slurp(task_ / "local" / "x.txt"), "xz");
  ASSERT_TRUE(run("tar", "bzip2", {{"b.txt", 'f', "bz"}}, ArchiveKind::Tar));
  EXPECT_EQ(slurp(task_ / "local" / "b.txt"), "bz");
  ASSERT_TRUE(run("raw", "gzip", {{"data", 'f', "plain gz"}}, ArchiveKind::Gzip, "notes.txt"));
  EXPECT_EQ(slurp(task_ / "local" / "notes.txt"), "plain gz");
}

TEST_F(Unpack, RefusesZipSlip) {
  for (const char* format : {"tar", "zip"}) {
    auto st = run(format, "", {{"ok.txt", 'f', "ok"}, {"../../outside/evil", 'f', "pwned"}},
                  std::string(format) == "zip" ? ArchiveKind::Zip : ArchiveKind::Tar);
    ASSERT_FALSE(st) << format;
    EXPECT_EQ(st.code(), drover::Errc::Invalid);
    EXPECT_NE(st.message().find("\"../../outside/evil\": refused"), std::string::npos)
        << st.message();
    expect_nothing_outside();
  }
}

TEST_F(Unpack, RefusesAbsolutePaths) {
  const auto target = base_ / "alloc" / "outside" / "abs";
  auto st = run("tar", "", {{target.string(), 'f', "pwned"}}, ArchiveKind::Tar);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("an absolute path"), std::string::npos) << st.message();
  expect_nothing_outside();
}

TEST_F(Unpack, RefusesSymlinksPointingOut) {
  auto up = run("tar", "", {{"link", 'l', "../../outside"}}, ArchiveKind::Tar);
  ASSERT_FALSE(up);
  EXPECT_NE(up.message().find("points out of the destination"), std::string::npos) << up.message();
  auto abs = run("tar", "", {{"etc", 'l', "/etc"}}, ArchiveKind::Tar);
  ASSERT_FALSE(abs);
  EXPECT_NE(abs.message().find("absolute path \"/etc\""), std::string::npos) << abs.message();
  // Each link alone stays inside; through the first, the second climbs out.
  auto chain = run("tar", "", {{"here", 'l', "."}, {"sneak", 'l', "here/../.."}}, ArchiveKind::Tar);
  ASSERT_FALSE(chain);
  EXPECT_NE(chain.message().find("\"sneak\": refused"), std::string::npos) << chain.message();
  expect_nothing_outside();
  EXPECT_FALSE(fs::is_symlink(task_ / "local" / "here"));
}

TEST_F(Unpack, RefusesAFileWrittenThroughASymlink) {
  // Symlink-then-file: a link to a dir inside, then a file "through" it. The link would be
  // harmless, but writing through any symlink is refused.
  auto st = run("tar", "", {{"sub/", 'd'}, {"via", 'l', "sub"}, {"via/x", 'f', "through"}},
                ArchiveKind::Tar);
  ASSERT_FALSE(st);
  expect_nothing_outside();
}

TEST_F(Unpack, RefusesDeviceFilesAndFifos) {
  auto dev = run("tar", "", {{"null", 'c'}}, ArchiveKind::Tar);
  ASSERT_FALSE(dev);
  EXPECT_NE(dev.message().find("\"null\": refused: a device file"), std::string::npos)
      << dev.message();
  auto fifo = run("tar", "", {{"pipe", 'p'}}, ArchiveKind::Tar);
  ASSERT_FALSE(fifo);
  EXPECT_NE(fifo.message().find("a fifo"), std::string::npos);
  EXPECT_FALSE(fs::exists(task_ / "local" / "null"));
}

TEST_F(Unpack, BombStopsAtTheSizeCap) {
  limits_.decompression_size_limit = 1 << 20;
  // 8 MiB of zeros compress to a few KiB.
  auto st = run("tar", "gzip", {{"zeros", 'f', std::string(8 << 20, '\0')}}, ArchiveKind::Tar);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("decompression_size_limit"), std::string::npos) << st.message();
  EXPECT_LE(fs::file_size(task_ / "local" / "zeros"), (1u << 20) + (1u << 16));
}

TEST_F(Unpack, BombStopsAtTheEntryCap) {
  limits_.decompression_file_count_limit = 100;
  std::vector<Entry> many;
  for (int i = 0; i < 1000; ++i) many.push_back({"f" + std::to_string(i), 'f', ""});
  auto st = run("tar", "gzip", many, ArchiveKind::Tar);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("more than 100 entries"), std::string::npos) << st.message();
  std::size_t n = 0;
  for (auto& e : fs::directory_iterator(task_ / "local")) n += e.is_regular_file();
  EXPECT_EQ(n, 100u);
}

TEST_F(Unpack, NotAnArchiveSaysSo) {
  std::ofstream(base_ / "archive") << "this is not a tarball";
  auto w = EntryWriter::open(task_, "local", limits_);
  ASSERT_TRUE(w);
  auto st = unpack(base_ / "archive", ArchiveKind::Zip, "x", *w);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("zip"), std::string::npos) << st.message();
}
