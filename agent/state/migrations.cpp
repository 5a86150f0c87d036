// drover's state schema versions and the runner that applies them (see migrations.hpp).
#include "state/migrations.hpp"

#include <sqlite3.h>

#include <chrono>

namespace drover::state {
namespace {

Status exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return make_error(msg);
  }
  return {};
}

// Version 1: the tables of the first release.
Status v1_base_tables(sqlite3* db) {
  return exec(db, R"sql(
    CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, json TEXT NOT NULL,
      submit_time INTEGER NOT NULL, stopped INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS allocs (id TEXT PRIMARY KEY, job_id TEXT NOT NULL,
      json TEXT NOT NULL, create_time INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS task_states (alloc_id TEXT NOT NULL, task TEXT NOT NULL,
      json TEXT NOT NULL, handle TEXT, PRIMARY KEY (alloc_id, task));
  )sql");
}

// Version 2: a job's allocs are found without scanning every alloc ever kept.
Status v2_allocs_by_job(sqlite3* db) {
  return exec(db, "CREATE INDEX IF NOT EXISTS allocs_by_job ON allocs (job_id, create_time);");
}

// Version 3: Nomad Variables, sealed (docs/variables.md); only metadata is in clear.
Status v3_variables(sqlite3* db) {
  return exec(db, R"sql(
    CREATE TABLE IF NOT EXISTS variables (namespace TEXT NOT NULL, path TEXT NOT NULL,
      create_index INTEGER NOT NULL, modify_index INTEGER NOT NULL,
      create_time INTEGER NOT NULL, modify_time INTEGER NOT NULL,
      key_id TEXT NOT NULL, sealed TEXT NOT NULL, PRIMARY KEY (namespace, path));
  )sql");
}

// Version 4: jobs are keyed by (namespace, id), as in Nomad; every job, alloc and periodic
// launch record of an older version goes to the "default" namespace, so an agent upgraded in
// place keeps its jobs. SQLite cannot change a primary key: the jobs table is copied.
Status v4_job_namespaces(sqlite3* db) {
  return exec(db, R"sql(
    CREATE TABLE jobs_by_namespace (namespace TEXT NOT NULL, id TEXT NOT NULL,
      json TEXT NOT NULL, submit_time INTEGER NOT NULL, stopped INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (namespace, id));
    INSERT INTO jobs_by_namespace (namespace, id, json, submit_time, stopped)
      SELECT 'default', id, json, submit_time, stopped FROM jobs;
    DROP TABLE jobs;
    ALTER TABLE jobs_by_namespace RENAME TO jobs;
    ALTER TABLE allocs ADD COLUMN namespace TEXT NOT NULL DEFAULT 'default';
    DROP INDEX IF EXISTS allocs_by_job;
    CREATE INDEX allocs_by_job ON allocs (namespace, job_id, create_time);
    UPDATE meta SET key = 'periodic_launch/default/' || substr(key, 17)
      WHERE substr(key, 1, 16) = 'periodic_launch/';
  )sql");
}

// Version 5: a variable's lock (Nomad's variable locks, docs/variables.md "Locks"), in clear
// beside the sealed items, as Nomad keeps it in the variable's metadata.
Status v5_variable_locks(sqlite3* db) {
  return exec(db, "ALTER TABLE variables ADD COLUMN lock TEXT NOT NULL DEFAULT '';");
}

}  // namespace

const std::vector<Migration>& schema_migrations() {
  static const std::vector<Migration> list = {
      {1, "base tables: jobs, allocs, task_states", v1_base_tables},
      {2, "index allocs by job", v2_allocs_by_job},
      {3, "nomad variables, sealed", v3_variables},
      {4, "jobs keyed by namespace and id", v4_job_namespaces},
      {5, "variable locks", v5_variable_locks},
  };
  return list;
}

Result<int> schema_version(sqlite3* db) {
  if (auto st = exec(db, "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"); !st)
    return st.error();
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &s,
                         nullptr) != SQLITE_OK)
    return make_error(sqlite3_errmsg(db));
  int version = 0;
  std::string text;
  if (sqlite3_step(s) == SQLITE_ROW) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    text = p ? p : "";
    version = -1;
  }
  sqlite3_finalize(s);
  if (version == 0) return 0;
  try {
    std::size_t used = 0;
    version = std::stoi(text, &used);
    if (used != text.size() || version < 0) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    return make_error("schema_version \"" + text + "\" is not a version number");
  }
  return version;
}

Status migrate(sqlite3* db, const std::vector<Migration>& migrations, const std::string& where) {
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  // IMMEDIATE: take the write lock before reading the version, so two processes cannot both
  // decide to migrate (the data dir lock already prevents that; this is belt and braces).
  if (auto st = exec(db, "BEGIN IMMEDIATE"); !st)
    return make_error("state store " + where + ": cannot start the schema transaction: " + st.message());
  auto fail = [&](const std::string& msg) {
    (void)exec(db, "ROLLBACK");
    return make_error("state store " + where + ": " + msg);
  };
  auto current = schema_version(db);
  if (!current) return fail(current.message());
  if (*current > latest)
    return fail("has schema version " + std::to_string(*current) +
                ", newer than this drover knows (" + std::to_string(latest) +
                "); refusing to start (the file was left as it is)");
  if (auto st = exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                         "KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL);");
      !st)
    return fail(st.message());
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const auto& m : migrations) {
    if (m.version <= *current) continue;
    if (auto st = m.apply(db); !st)
      return fail("migrating the schema from version " + std::to_string(*current) + " to " +
                  std::to_string(latest) + " failed at step " + std::to_string(m.version) +
                  " (" + m.description + "): " + st.message() +
                  "; nothing was changed");
    char* record = sqlite3_mprintf("INSERT OR REPLACE INTO schema_migrations VALUES (%d, %Q, %lld);",
                                   m.version, m.description, static_cast<long long>(now_ns));
    auto st = exec(db, record);
    sqlite3_free(record);
    if (!st) return fail(st.message());
  }
  if (*current != latest || *current == 0) {
    auto put = "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '" +
               std::to_string(latest) + "');";
    if (auto st = exec(db, put); !st) return fail(st.message());
  }
  if (auto st = exec(db, "COMMIT"); !st) return fail("committing the schema: " + st.message());
  return {};
}

}  // namespace drover::state
