// Prepared statements kept per connection; see statement_cache.hpp.
#include "state/statement_cache.hpp"

namespace drover::state {

sqlite3_stmt* StatementCache::take(std::string_view sql) {
  if (auto it = idle_.find(std::string(sql)); it != idle_.end() && it->second) {
    sqlite3_stmt* s = it->second;
    it->second = nullptr;  // in use until given back
    return s;
  }
  sqlite3_stmt* s = nullptr;
  // PERSISTENT: SQLite allocates it for a long life instead of from its lookaside pool.
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    sqlite3_finalize(s);
    return nullptr;
  }
  return s;
}

void StatementCache::give_back(std::string_view sql, sqlite3_stmt* s) {
  sqlite3_reset(s);  // ends a step left half way (a SELECT read for its first row)
  sqlite3_clear_bindings(s);
  auto& slot = idle_[std::string(sql)];
  if (slot) {
    sqlite3_finalize(s);
    return;
  }
  slot = s;
}

void StatementCache::clear() {
  for (auto& [sql, s] : idle_) sqlite3_finalize(s);
  idle_.clear();
}

}  // namespace drover::state
