// The state store's schema history: one function per schema version, applied in order, all
// pending ones in a single transaction, so that a new binary on an old data dir either
// migrates fully or leaves the file exactly as it was.
#pragma once

#include <string>
#include <vector>

#include "drover/common/result.hpp"

struct sqlite3;

namespace drover::state {

struct Migration {
  int version;               // the schema version this step produces (1, 2, 3, ...)
  const char* description;   // recorded in schema_migrations and named in errors
  Status (*apply)(sqlite3* db);
};

// drover's migrations, oldest first. A schema change is one new entry at the end; the last
// entry's version is StateStore::kSchemaVersion.
const std::vector<Migration>& schema_migrations();

// The schema version recorded in `db` (0 for a new, empty database).
Result<int> schema_version(sqlite3* db);

// Brings `db` from its recorded version to the last of `migrations` in one transaction,
// recording each step in the schema_migrations table. Refuses a database whose version is
// newer than the last migration (naming both versions) and rolls back everything when a step
// fails (naming the step). `where` names the file in messages.
Status migrate(sqlite3* db, const std::vector<Migration>& migrations, const std::string& where);

}  // namespace drover::state
