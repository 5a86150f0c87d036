// Prepared statements kept for the life of a connection. Preparing is most of what a small
// statement costs SQLite (the parser and planner: 5.6 % of the agent's CPU over a run of task
// starts, bench/results/2026-12-04-start-path-cpu.md), and the state store runs the same dozen
// statements for every task; so each is prepared once and reset between uses.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <unordered_map>

namespace drover::state {

// Not thread-safe: its owner serialises every use (StateStore holds its mutex).
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() { clear(); }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  sqlite3* db() const { return db_; }
  // The statement for `sql`, idle and unbound: the kept one, or a new one when it is in use
  // (a statement run while another of the same text steps) or was never prepared. nullptr
  // when SQLite refuses it (sqlite3_errmsg says why).
  sqlite3_stmt* take(std::string_view sql);
  // Reset and unbound, it is kept for the next `take`; a second copy is finalized.
  void give_back(std::string_view sql, sqlite3_stmt* s);
  // Finalizes every kept statement (before the connection closes).
  void clear();

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> idle_;
};

// One use of a cached statement, given back when it leaves the scope; binds by position,
// text and int64 only.
class Stmt {
 public:
  Stmt(StatementCache& cache, std::string_view sql) : cache_(cache), sql_(sql) {
    s_ = cache_.take(sql_);
  }
  ~Stmt() {
    if (s_) cache_.give_back(sql_, s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return s_ != nullptr; }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  std::string text(int col) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, sqlite3_column_bytes(s_, col)) : std::string();
  }
  int64_t int64(int col) { return sqlite3_column_int64(s_, col); }
  std::string error() const { return sqlite3_errmsg(cache_.db()); }

 private:
  StatementCache& cache_;
  std::string sql_;
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace drover::state
