// Prepared statements kept per connection (state/statement_cache.hpp): each use starts from a
// reset, unbound statement, and a text in use twice at once gets two statements.
#include <gtest/gtest.h>

#include "state/statement_cache.hpp"

namespace {

using drover::state::StatementCache;
using drover::state::Stmt;

struct Db {
  sqlite3* db = nullptr;
  Db() {
    sqlite3_open(":memory:", &db);
    sqlite3_exec(db, "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT);"
                     "INSERT INTO t VALUES ('a', '1'), ('b', '2');",
                 nullptr, nullptr, nullptr);
  }
  ~Db() { sqlite3_close(db); }
};

TEST(StatementCache, AStatementLeftMidReadIsResetAndUnboundForItsNextUse) {
  Db db;
  StatementCache cache(db.db);
  const char* sql = "SELECT v FROM t WHERE k >= ? ORDER BY k";
  {
    Stmt st(cache, sql);
    st.bind(1, std::string("a"));
    ASSERT_EQ(st.step(), SQLITE_ROW);
    EXPECT_EQ(st.text(0), "1");  // left after its first row
  }
  {
    Stmt st(cache, sql);
    st.bind(1, std::string("b"));
    ASSERT_EQ(st.step(), SQLITE_ROW);
    EXPECT_EQ(st.text(0), "2");
    EXPECT_EQ(st.step(), SQLITE_DONE);
  }
  {
    Stmt st(cache, sql);  // unbound: NULL matches nothing
    EXPECT_EQ(st.step(), SQLITE_DONE);
  }
  cache.clear();
}

TEST(StatementCache, OneTextInUseTwiceAtOnceGetsTwoStatementsAndAWriteIsSeenByTheNextRead) {
  Db db;
  StatementCache cache(db.db);
  const char* read = "SELECT v FROM t WHERE k = ?";
  {
    Stmt outer(cache, read), inner(cache, read);
    outer.bind(1, std::string("a"));
    inner.bind(1, std::string("b"));
    ASSERT_EQ(outer.step(), SQLITE_ROW);
    ASSERT_EQ(inner.step(), SQLITE_ROW);
    EXPECT_EQ(outer.text(0), "1");
    EXPECT_EQ(inner.text(0), "2");
  }
  {
    Stmt write(cache, "UPDATE t SET v = ? WHERE k = ?");
    write.bind(1, std::string("3")).bind(2, std::string("a"));
    EXPECT_EQ(write.step(), SQLITE_DONE);
  }
  Stmt again(cache, read);
  again.bind(1, std::string("a"));
  ASSERT_EQ(again.step(), SQLITE_ROW);
  EXPECT_EQ(again.text(0), "3");
}

TEST(StatementCache, ATextSqliteRefusesIsNoStatementAndSaysWhy) {
  Db db;
  StatementCache cache(db.db);
  Stmt st(cache, "SELEKT nothing");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error().find("syntax error"), std::string::npos) << st.error();
}

}  // namespace
