// Upgrade path of the package: a new drover on an old data dir migrates the state schema
// forward in one transaction, keeps the data, and refuses a schema newer than it knows.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "state/migrations.hpp"
#include "state/state_store.hpp"

using namespace drover;
using namespace drover::state;

namespace {

std::filesystem::path temp_dir() {
  char tmpl[] = "/tmp/drover-upgrade-XXXXXX";
  return mkdtemp(tmpl);
}

// A raw handle on the data dir's database, as an older drover left it.
struct Db {
  explicit Db(const std::filesystem::path& dir) {
    sqlite3_open((dir / "state.db").c_str(), &db);
  }
  ~Db() { sqlite3_close(db); }
  std::string one(const char* sql) {
    sqlite3_stmt* s = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      if (auto p = sqlite3_column_text(s, 0)) out = reinterpret_cast<const char*>(p);
    sqlite3_finalize(s);
    return out;
  }
  sqlite3* db = nullptr;
};

// The first release's schema: only migration 1.
std::vector<Migration> release_one() { return {schema_migrations().front()}; }

Status add_column(sqlite3* db) {
  return sqlite3_exec(db, "ALTER TABLE jobs ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
                      nullptr, nullptr, nullptr) == SQLITE_OK
             ? Status{}
             : make_error(sqlite3_errmsg(db));
}
Status broken_step(sqlite3* db) {
  (void)sqlite3_exec(db, "CREATE TABLE half_done (x)", nullptr, nullptr, nullptr);
  return make_error("disk full (simulated)");
}

}  // namespace

TEST(Upgrade, NewBinaryMigratesAnOldDataDirAndKeepsItsJobs) {
  auto dir = temp_dir();
  {
    Db old(dir);
    ASSERT_TRUE(migrate(old.db, release_one(), "old"));
    ASSERT_EQ(sqlite3_exec(old.db,
                           "INSERT INTO jobs VALUES ('web', '{\"ID\":\"web\"}', 1, 0)", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    ASSERT_EQ(old.one("SELECT value FROM meta WHERE key='schema_version'"), "1");
  }
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store) << store.message();
  ASSERT_EQ((*store)->jobs().size(), 1u);
  EXPECT_EQ((*store)->jobs()[0].id, "web");
  EXPECT_EQ((*store)->meta("schema_version"), std::to_string(StateStore::kSchemaVersion));
  Db after(dir);
  EXPECT_EQ(after.one("SELECT name FROM sqlite_master WHERE name='allocs_by_job'"), "allocs_by_job");
  EXPECT_EQ(after.one("SELECT max(version) FROM schema_migrations"),
            std::to_string(StateStore::kSchemaVersion));
}

// Before version 4 a job was its id alone: its record, its allocs and its periodic launch
// record all land in the "default" namespace, and the same id may then be used elsewhere.
TEST(Upgrade, JobsOfAnOlderSchemaGoToTheDefaultNamespace) {
  auto dir = temp_dir();
  {
    Db old(dir);
    std::vector<Migration> release_three(schema_migrations().begin(), schema_migrations().begin() + 3);
    ASSERT_TRUE(migrate(old.db, release_three, "old"));
    ASSERT_EQ(sqlite3_exec(old.db,
                           "INSERT INTO jobs VALUES ('web', '{\"ID\":\"web\"}', 1, 0);"
                           "INSERT INTO allocs VALUES ('a1', 'web', "
                           "'{\"ID\":\"a1\",\"JobID\":\"web\",\"ClientStatus\":\"complete\"}', 5);"
                           "INSERT INTO meta VALUES ('periodic_launch/web', '{\"Launch\":100}');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store) << store.message();
  auto& s = **store;
  ASSERT_EQ(s.jobs().size(), 1u);
  EXPECT_EQ(s.jobs()[0].ns, "default");
  EXPECT_TRUE(s.job({"default", "web"}));
  EXPECT_EQ(s.periodic_launch({"default", "web"}).value_or(""), R"({"Launch":100})");
  ASSERT_EQ(s.allocs().size(), 1u);
  EXPECT_EQ(s.allocs()[0].namespace_, "default");
  EXPECT_EQ(s.allocs()[0].job_id, "web");
  // The same id in another namespace is another job.
  ASSERT_TRUE(s.put_job({"web", {{"ID", "web"}}, 2, false, "prod"}));
  EXPECT_EQ(s.jobs().size(), 2u);
  EXPECT_FALSE(s.periodic_launch({"prod", "web"}));
  Db after(dir);
  EXPECT_EQ(after.one("SELECT count(*) FROM meta WHERE key='periodic_launch/web'"), "0");
}

TEST(Upgrade, AFreshDataDirGetsTheLatestSchema) {
  auto dir = temp_dir();
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store) << store.message();
  EXPECT_EQ((*store)->meta("schema_version"), std::to_string(StateStore::kSchemaVersion));
}

TEST(Upgrade, ALaterSchemaChangeIsOneFunction) {
  auto dir = temp_dir();
  Db db(dir);
  ASSERT_TRUE(migrate(db.db, schema_migrations(), "db"));
  auto next = schema_migrations();
  next.push_back({next.back().version + 1, "jobs get a version", add_column});
  ASSERT_TRUE(migrate(db.db, next, "db"));
  EXPECT_EQ(db.one("SELECT value FROM meta WHERE key='schema_version'"),
            std::to_string(next.back().version));
  EXPECT_EQ(db.one("SELECT description FROM schema_migrations ORDER BY version DESC LIMIT 1"),
            "jobs get a version");
  // Applying the same list again changes nothing (the step is not run twice).
  EXPECT_TRUE(migrate(db.db, next, "db"));
}

TEST(Upgrade, AFailedStepLeavesTheOldSchemaWhole) {
  auto dir = temp_dir();
  Db db(dir);
  ASSERT_TRUE(migrate(db.db, release_one(), "db"));
  auto next = schema_migrations();
  next.push_back({next.back().version + 1, "a step that fails", broken_step});
  auto st = migrate(db.db, next, "db");
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("a step that fails"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("disk full"), std::string::npos) << st.message();
  // One transaction: version 2 (which succeeded before the failure) is rolled back too.
  EXPECT_EQ(db.one("SELECT value FROM meta WHERE key='schema_version'"), "1");
  EXPECT_EQ(db.one("SELECT name FROM sqlite_master WHERE name='half_done'"), "");
  EXPECT_EQ(db.one("SELECT name FROM sqlite_master WHERE name='allocs_by_job'"), "");
}

TEST(Upgrade, ANewerSchemaIsRefusedNamingBothVersions) {
  auto dir = temp_dir();
  {
    Db db(dir);
    ASSERT_TRUE(migrate(db.db, schema_migrations(), "db"));
    sqlite3_exec(db.db, "UPDATE meta SET value='7' WHERE key='schema_version'", nullptr, nullptr,
                 nullptr);
  }
  auto store = StateStore::open(dir);
  ASSERT_FALSE(store);
  EXPECT_NE(store.message().find("schema version 7"), std::string::npos) << store.message();
  EXPECT_NE(store.message().find("(" + std::to_string(StateStore::kSchemaVersion) + ")"),
            std::string::npos)
      << store.message();
  Db db(dir);
  EXPECT_EQ(db.one("SELECT value FROM meta WHERE key='schema_version'"), "7");
}
