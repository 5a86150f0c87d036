#include "state/state_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "state/migrations.hpp"
#include "state/statement_cache.hpp"
#include "drover/common/json_text.hpp"

namespace drover::state {
namespace {

Status run(Stmt& st, const std::string& what) {
  if (!st.ok()) return make_error("state store: preparing " + what + ": " + st.error());
  int rc = st.step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return make_error("state store: " + what + ": " + st.error());
  return {};
}

// BEGIN IMMEDIATE for a scope: rolled back unless committed, whatever leaves the scope (an
// error or a throw), so that no failed write leaves the connection inside a transaction.
class Transaction {
 public:
  explicit Transaction(StatementCache& stmts) : stmts_(stmts) {
    Stmt begin(stmts_, "BEGIN IMMEDIATE");
    begun_ = begin.ok() && begin.step() == SQLITE_DONE;
  }
  ~Transaction() {
    if (!begun_) return;
    Stmt rollback(stmts_, "ROLLBACK");
    if (rollback.ok()) rollback.step();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status begun() const {
    if (!begun_) return make_error(std::string("state store: cannot begin a transaction: ") + sqlite3_errmsg(stmts_.db()));
    return {};
  }
  Status commit() {
    Stmt commit(stmts_, "COMMIT");
    if (!commit.ok() || commit.step() != SQLITE_DONE)
      return make_error(std::string("state store: commit: ") + sqlite3_errmsg(stmts_.db()));
    begun_ = false;
    return {};
  }

 private:
  StatementCache& stmts_;
  bool begun_ = false;
};

nlohmann::json parse_or_null(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json() : j;
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::open(const std::filesystem::path& data_dir) {
  auto path = data_dir / "state.db";
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return make_error("cannot open state store " + path.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<StateStore> store(new StateStore(db, path));
  // A file that is not a database fails on the first read: say so, and touch nothing.
  if (auto st = store->exec("SELECT count(*) FROM sqlite_master"); !st)
    return make_error("state store " + path.string() +
                      " cannot be read (refusing to start; the file was left as it is): " +
                      st.message());
  if (auto st = store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !st)
    return make_error("state store " + path.string() + ": " + st.message());
  // The schema is the list of migrations (state/migrations.cpp): a new binary on an old data
  // dir moves it forward in one transaction; a newer schema than this binary knows is refused.
  static_assert(kSchemaVersion > 0);
  if (schema_migrations().back().version != kSchemaVersion)
    return make_error("state store: internal error: the last migration is not version " +
                      std::to_string(kSchemaVersion));
  if (auto st = migrate(db, schema_migrations(), path.string()); !st) return st.error();
  return store;
}

StateStore::~StateStore() {
  stmts_.clear();  // a connection with statements left does not close
  sqlite3_close(db_);
}

Status StateStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return make_error(msg);
  }
  return {};
}

Status StateStore::put_job(const JobRecord& job) {
  std::lock_guard lock(mu_);
  return write_job(job);
}

Status StateStore::write_job(const JobRecord& job) {
  Stmt st(stmts_, "INSERT OR REPLACE INTO jobs (namespace, id, json, submit_time, stopped) "
               "VALUES (?,?,?,?,?)");
  st.bind(1, job.ns).bind(2, job.id).bind(3, json_text(job.job)).bind(4, job.submit_time_ns);
  st.bind(5, int64_t{job.stopped});
  return run(st, "writing " + describe(job.key()));
}

static JobRecord job_row(Stmt& st) {
  return {st.text(1), parse_or_null(st.text(2)), st.int64(3), st.int64(4) != 0, st.text(0)};
}

std::vector<JobRecord> StateStore::jobs() {
  std::lock_guard lock(mu_);
  std::vector<JobRecord> out;
  Stmt st(stmts_, "SELECT namespace, id, json, submit_time, stopped FROM jobs ORDER BY namespace, id");
  while (st.ok() && st.step() == SQLITE_ROW) out.push_back(job_row(st));
  return out;
}

std::optional<JobRecord> StateStore::job(const JobKey& key) {
  std::lock_guard lock(mu_);
  Stmt st(stmts_, "SELECT namespace, id, json, submit_time, stopped FROM jobs "
               "WHERE namespace = ? AND id = ?");
  st.bind(1, key.ns).bind(2, key.id);
  if (st.ok() && st.step() == SQLITE_ROW) return job_row(st);
  return std::nullopt;
}

static nlohmann::json alloc_row_json(const Alloc& a) { return to_row_json(a); }

// An existing alloc's row, rewritten: its status, times and desired status, except that a
// stored desired "stop" stays. A runner writes its whole row from memory, and between the
// write that stops it (put_placement, stop) and the runner's own stop() its memory still says
// "run"; no alloc goes from stop back to run (a new one is placed instead), so the store keeps
// the stop whatever the row's writer last saw (docs/design.md, "State").
static constexpr const char* kUpdateAllocRow =
    "UPDATE allocs SET json = CASE WHEN json_extract(json, '$.DesiredStatus') = 'stop' "
    "THEN json_set(?1, '$.DesiredStatus', 'stop') ELSE ?1 END WHERE id = ?2";

Status StateStore::put_alloc(const Alloc& alloc) {
  std::lock_guard lock(mu_);
  Transaction tx(stmts_);
  if (auto st = tx.begun(); !st) return st;
  if (auto r = write_alloc(alloc); !r) return r;
  return tx.commit();
}

Status StateStore::put_placement(const JobRecord* job, const std::vector<Alloc>& allocs,
                                 const std::vector<Alloc>& stopped, const StartingHandles& starting) {
  std::lock_guard lock(mu_);
  Transaction tx(stmts_);
  if (auto st = tx.begun(); !st) return st;
  if (job)
    if (auto r = write_job(*job); !r) return r;
  for (const auto& a : allocs) {
    auto handles = starting.find(a.id);
    if (auto r = write_alloc(a, handles == starting.end() ? nullptr : &handles->second); !r) return r;
  }
  for (const auto& a : stopped) {
    Stmt st(stmts_, kUpdateAllocRow);
    st.bind(1, json_text(alloc_row_json(a))).bind(2, a.id);
    if (auto r = run(st, "writing alloc status"); !r) return r;
  }
  return tx.commit();
}

Status StateStore::write_alloc(const Alloc& alloc, const std::map<std::string, nlohmann::json>* handles) {
  {
    Stmt st(stmts_, "INSERT OR REPLACE INTO allocs (id, namespace, job_id, json, create_time) "
                 "VALUES (?,?,?,?,?)");
    st.bind(1, alloc.id).bind(2, alloc.namespace_).bind(3, alloc.job_id);
    st.bind(4, json_text(alloc_row_json(alloc))).bind(5, alloc.create_time_ns);
    if (auto r = run(st, "writing alloc"); !r) return r;
  }
  for (const auto& [task, s] : alloc.tasks) {
    const nlohmann::json* handle = nullptr;
    if (handles)
      if (auto h = handles->find(task); h != handles->end()) handle = &h->second;
    if (auto r = write_task_state(alloc.id, task, s, handle); !r) return r;
  }
  return {};
}

Status StateStore::write_task_state(const std::string& alloc_id, const std::string& task,
                                    const TaskState& s, const nlohmann::json* handle) {
  if (!handle) {
    Stmt st(stmts_, "INSERT INTO task_states (alloc_id, task, json) VALUES (?,?,?) "
                    "ON CONFLICT(alloc_id, task) DO UPDATE SET json = excluded.json");
    st.bind(1, alloc_id).bind(2, task).bind(3, json_text(to_json(s)));
    return run(st, "writing task state");
  }
  // A null handle clears the column (SQL NULL), as an ended task's always did.
  Stmt st(stmts_, "INSERT INTO task_states (alloc_id, task, json, handle) "
                  "VALUES (?,?,?,NULLIF(?,'')) "
                  "ON CONFLICT(alloc_id, task) DO UPDATE SET json = excluded.json, "
                  "handle = excluded.handle");
  st.bind(1, alloc_id).bind(2, task).bind(3, json_text(to_json(s)));
  st.bind(4, handle->is_null() ? std::string() : json_text(*handle));
  return run(st, "writing task state");
}

Status StateStore::put_task_update(const std::string& alloc_id, const std::string& task,
                                   const TaskState& s, const nlohmann::json* handle,
                                   const Alloc* alloc_row) {
  std::lock_guard lock(mu_);
  Transaction tx(stmts_);
  if (auto st = tx.begun(); !st) return st;
  if (auto r = write_task_state(alloc_id, task, s, handle); !r) return r;
  if (alloc_row) {
    Stmt st(stmts_, kUpdateAllocRow);
    st.bind(1, json_text(alloc_row_json(*alloc_row))).bind(2, alloc_row->id);
    if (auto r = run(st, "writing alloc status"); !r) return r;
  }
  return tx.commit();
}

Status StateStore::put_alloc_status(const Alloc& alloc) {
  std::lock_guard lock(mu_);
  Stmt st(stmts_, kUpdateAllocRow);
  st.bind(1, json_text(alloc_row_json(alloc))).bind(2, alloc.id);
  return run(st, "writing alloc status");
}

Status StateStore::put_task_state(const std::string& alloc_id, const std::string& task,
                                  const TaskState& s) {
  std::lock_guard lock(mu_);
  return write_task_state(alloc_id, task, s, nullptr);
}

Status StateStore::put_handle(const std::string& alloc_id, const std::string& task,
                              const nlohmann::json& handle) {
  std::lock_guard lock(mu_);
  Stmt st(stmts_, "UPDATE task_states SET handle = ? WHERE alloc_id = ? AND task = ?");
  st.bind(1, handle.is_null() ? std::string() : json_text(handle)).bind(2, alloc_id).bind(3, task);
  return run(st, "writing driver handle");
}

nlohmann::json StateStore::handle(const std::string& alloc_id, const std::string& task) {
  std::lock_guard lock(mu_);
  Stmt st(stmts_, "SELECT handle FROM task_states WHERE alloc_id = ? AND task = ?");
  st.bind(1, alloc_id).bind(2, task);
  if (st.ok() && st.step() == SQLITE_ROW) {
    auto text = st.text(0);
    if (!text.empty()) return parse_or_null(text);
  }
  return nullptr;
}

std::vector<Alloc> StateStore::allocs() {
  std::lock_guard lock(mu_);
  std::vector<Alloc> out;
  {
    Stmt st(stmts_, "SELECT json FROM allocs ORDER BY create_time, id");
    while (st.ok() && st.step() == SQLITE_ROW) {
      auto j = parse_or_null(st.text(0));
      if (!j.is_object()) continue;
      Alloc a;
      a.id = j.value("ID", "");
      a.name = j.value("Name", "");
      a.job_id = j.value("JobID", "");
      a.namespace_ = j.value("Namespace", std::string(kDefaultNamespace));
      a.group = j.value("TaskGroup", "");
      a.index = j.value("Index", 0);
      a.client_status = j.value("ClientStatus", "pending");
      a.client_description = j.value("ClientDescription", "");
      a.desired_status = j.value("DesiredStatus", "run");
      a.create_time_ns = j.value("CreateTime", int64_t{0});
      a.modify_time_ns = j.value("ModifyTime", int64_t{0});
      // Allocs of one job version share one copy of it, as they did before the restart.
      auto job = j.value("Job", nlohmann::json());
      auto same = std::find_if(out.rbegin(), out.rend(), [&](const Alloc& o) {
        return o.job_id == a.job_id && o.namespace_ == a.namespace_ && o.job && *o.job == job;
      });
      a.job = same != out.rend() ? same->job : std::make_shared<const nlohmann::json>(std::move(job));
      a.deployment_status = j.value("DeploymentStatus", nlohmann::json());
      a.previous_alloc = j.value("PreviousAllocation", "");
      a.network_status = j.value("NetworkStatus", nlohmann::json());
      if (j.contains("AllocatedResources")) {
        a.networks = state::allocated_networks_from_json(j["AllocatedResources"]);
        a.reserved_cores = state::reserved_cores_from_json(j["AllocatedResources"]);
      }
      out.push_back(std::move(a));
    }
  }
  for (auto& a : out) {
    Stmt st(stmts_, "SELECT task, json FROM task_states WHERE alloc_id = ?");
    st.bind(1, a.id);
    while (st.ok() && st.step() == SQLITE_ROW)
      a.tasks[st.text(0)] = task_state_from_json(parse_or_null(st.text(1)));
  }
  return out;
}

Status StateStore::delete_alloc(const std::string& alloc_id) {
  std::lock_guard lock(mu_);
  Transaction tx(stmts_);
  if (auto st = tx.begun(); !st) return st;
  {
    Stmt a(stmts_, "DELETE FROM task_states WHERE alloc_id = ?");
    a.bind(1, alloc_id);
    if (auto r = run(a, "deleting task states"); !r) return r;
  }
  Stmt b(stmts_, "DELETE FROM allocs WHERE id = ?");
  b.bind(1, alloc_id);
  if (auto r = run(b, "deleting alloc"); !r) return r;
  return tx.commit();
}

// "periodic_launch/<namespace>/<id>" (a namespace holds no '/'; migration 4 moved the keys
// of older versions, "periodic_launch/<id>", into the default namespace).
static std::string periodic_launch_key(const JobKey& job) {
  return "periodic_launch/" + job.ns + "/" + job.id;
}

std::string StateStore::job_meta_key(const char* kind, const JobKey& job) {
  return std::string(kind) + "/" + job.ns + "/" + job.id;
}

Status StateStore::delete_job(const JobKey& key) {
  std::lock_guard lock(mu_);
  Transaction tx(stmts_);
  if (auto st = tx.begun(); !st) return st;
  {
    Stmt st(stmts_, "DELETE FROM jobs WHERE namespace = ? AND id = ?");
    st.bind(1, key.ns).bind(2, key.id);
    if (auto r = run(st, "deleting " + describe(key)); !r) return r;
  }
  for (const std::string& meta_key :
       {periodic_launch_key(key), job_meta_key(kJobSubmission, key),
        job_meta_key(kJobScalingEvents, key)}) {
    Stmt st(stmts_, "DELETE FROM meta WHERE key = ?");
    st.bind(1, meta_key);
    if (auto r = run(st, "deleting " + meta_key); !r) return r;
  }
  return tx.commit();
}

std::optional<std::string> StateStore::meta(const std::string& key) {
  // Under mu_ like every other statement: on the one connection, a write outside the lock
  // would land inside another thread's open transaction.
  std::lock_guard lock(mu_);
  Stmt st(stmts_, "SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  if (st.ok() && st.step() == SQLITE_ROW) return st.text(0);
  return std::nullopt;
}

Status StateStore::put_meta(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  Stmt st(stmts_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)");
  st.bind(1, key).bind(2, value);
  return run(st, "writing meta");
}

Result<std::vector<std::pair<std::string, std::string>>> StateStore::meta_with_prefix(
    const std::string& prefix) {
  std::lock_guard lock(mu_);
  // substr, not LIKE: a prefix may hold '%' or '_'.
  Stmt st(stmts_, "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ? ORDER BY key");
  if (!st.ok()) return make_error("state store: reading meta: " + st.error());
  st.bind(1, static_cast<int64_t>(prefix.size())).bind(2, prefix);
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) out.emplace_back(st.text(0), st.text(1));
  if (rc != SQLITE_DONE) return make_error("state store: reading meta: " + st.error());
  return out;
}

Status StateStore::delete_meta(const std::string& key) {
  std::lock_guard lock(mu_);
  Stmt st(stmts_, "DELETE FROM meta WHERE key = ?");
  st.bind(1, key);
  return run(st, "deleting meta " + key);
}

std::optional<std::string> StateStore::periodic_launch(const JobKey& job) {
  return meta(periodic_launch_key(job));
}

Status StateStore::put_periodic_launch(const JobKey& job, const std::string& value) {
  return put_meta(periodic_launch_key(job), value);
}

// Nomad Variables: sealed rows, one index counter, check-and-set in one transaction.
namespace {

constexpr const char* kVarColumns =
    "namespace, path, create_index, modify_index, create_time, modify_time, key_id, sealed, lock";

VariableRow variable_row(Stmt& st) {
  return {st.text(0),  st.text(1),  st.int64(2), st.int64(3), st.int64(4),
          st.int64(5), st.text(6),  st.text(7),  st.text(8)};
}

std::optional<VariableRow> variable_locked(StatementCache& stmts, const std::string& ns,
                                           const std::string& path) {
  Stmt st(stmts, (std::string("SELECT ") + kVarColumns +
               " FROM variables WHERE namespace = ? AND path = ?")
                  .c_str());
  st.bind(1, ns).bind(2, path);
  if (st.ok() && st.step() == SQLITE_ROW) return variable_row(st);
  return std::nullopt;
}

int64_t variables_index_locked(StatementCache& stmts) {
  Stmt st(stmts, "SELECT value FROM meta WHERE key = 'vars_index'");
  if (st.ok() && st.step() == SQLITE_ROW) {
    try {
      return std::stoll(st.text(0));
    } catch (...) {
    }
  }
  return 0;
}

Status bump_variables_index_locked(StatementCache& stmts, int64_t index) {
  Stmt st(stmts, "INSERT OR REPLACE INTO meta (key, value) VALUES ('vars_index', ?)");
  st.bind(1, std::to_string(index));
  return run(st, "writing the variables index");
}

}  // namespace

std::optional<VariableRow> StateStore::variable(const std::string& ns, const std::string& path) {
  std::lock_guard lock(mu_);
  return variable_locked(stmts_, ns, path);
}

std::vector<VariableRow> StateStore::variables(const std::string& ns, const std::string& prefix) {
  std::lock_guard lock(mu_);
  // substr instead of LIKE: a prefix's _ and % are plain characters here.
  Stmt st(stmts_, (std::string("SELECT ") + kVarColumns +
                " FROM variables WHERE (? = '' OR namespace = ?) AND substr(path, 1, ?) = ? "
                "ORDER BY namespace, path")
                   .c_str());
  st.bind(1, ns).bind(2, ns).bind(3, static_cast<int64_t>(prefix.size())).bind(4, prefix);
  std::vector<VariableRow> out;
  while (st.ok() && st.step() == SQLITE_ROW) out.push_back(variable_row(st));
  return out;
}

Result<VariableWrite> StateStore::put_variable(VariableRow row, std::optional<int64_t> cas) {
  std::lock_guard lock(mu_);
  Transaction tx(stmts_);
  if (auto st = tx.begun(); !st) return st.error();
  auto current = variable_locked(stmts_, row.ns, row.path);
  if (cas && *cas != (current ? current->modify_index : 0))
    return VariableWrite{true, current, std::nullopt};
  const int64_t index = variables_index_locked(stmts_) + 1;
  row.modify_index = index;
  row.create_index = current ? current->create_index : index;
  if (current) row.create_time_ns = current->create_time_ns;
  Stmt st(stmts_, (std::string("INSERT OR REPLACE INTO variables (") + kVarColumns +
                ") VALUES (?,?,?,?,?,?,?,?,?)")
                   .c_str());
  st.bind(1, row.ns).bind(2, row.path).bind(3, row.create_index).bind(4, row.modify_index);
  st.bind(5, row.create_time_ns).bind(6, row.modify_time_ns).bind(7, row.key_id);
  st.bind(8, row.sealed_b64).bind(9, row.lock);
  if (auto r = run(st, "writing variable " + row.path); !r) return r.error();
  if (auto r = bump_variables_index_locked(stmts_, index); !r) return r.error();
  if (auto r = tx.commit(); !r) return r.error();
  return VariableWrite{false, std::nullopt, row};
}

Result<VariableWrite> StateStore::delete_variable(const std::string& ns, const std::string& path,
                                                  std::optional<int64_t> cas) {
  std::lock_guard lock(mu_);
  Transaction tx(stmts_);
  if (auto st = tx.begun(); !st) return st.error();
  auto current = variable_locked(stmts_, ns, path);
  if (cas && *cas != (current ? current->modify_index : 0))
    return VariableWrite{true, current, std::nullopt};
  if (!current) return VariableWrite{};
  Stmt st(stmts_, "DELETE FROM variables WHERE namespace = ? AND path = ?");
  st.bind(1, ns).bind(2, path);
  if (auto r = run(st, "deleting variable " + path); !r) return r.error();
  if (auto r = bump_variables_index_locked(stmts_, variables_index_locked(stmts_) + 1); !r)
    return r.error();
  if (auto r = tx.commit(); !r) return r.error();
  return VariableWrite{};
}

int64_t StateStore::variables_index() {
  std::lock_guard lock(mu_);
  return variables_index_locked(stmts_);
}

}  // namespace drover::state
