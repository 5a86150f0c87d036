// The state store: SQLite (WAL) in the data dir. Jobs, allocs, task states with events and
// driver handles are written here before the agent acts on them, so that an agent killed at
// any step finds them again on start (docs/design.md, "State").
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drover/common/names.hpp"
#include "drover/common/result.hpp"
#include "state/alloc.hpp"
#include "state/job_key.hpp"
#include "state/statement_cache.hpp"


namespace drover::state {

// One Nomad Variable as stored: metadata in clear, items only sealed (vars/keyring.hpp); the
// store never sees a plain value (docs/variables.md).
struct VariableRow {
  std::string ns, path;
  int64_t create_index = 0, modify_index = 0, create_time_ns = 0, modify_time_ns = 0;
  std::string key_id;
  std::string sealed_b64;  // nonce || ciphertext || tag, base64
  std::string lock;        // vars::lock_text: the lock held over it, in clear; "" none
};

// The outcome of a variable write with an optional check-and-set index.
struct VariableWrite {
  bool conflict = false;               // the cas index did not match; nothing was written
  std::optional<VariableRow> current;  // on conflict: what is stored (none: absent)
  std::optional<VariableRow> written;  // on success of a put: the row with its indexes
};

struct JobRecord {
  std::string id;
  nlohmann::json job;  // canonical job JSON
  int64_t submit_time_ns = 0;
  bool stopped = false;
  std::string ns = kDefaultNamespace;
  JobKey key() const { return {ns, id}; }
};

class StateStore {
 public:
  // The last entry of schema_migrations() (state/migrations.cpp); bump both together.
  static constexpr int kSchemaVersion = 5;

  // Opens (or creates) <data_dir>/state.db. Refuses a file it cannot read or a schema newer
  // than this binary knows, with a message naming the file; never deletes anything.
  static Result<std::unique_ptr<StateStore>> open(const std::filesystem::path& data_dir);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  Status put_job(const JobRecord& job);
  // Every job of every namespace, by namespace then id.
  std::vector<JobRecord> jobs();
  std::optional<JobRecord> job(const JobKey& key);
  // Removes the job's record (and its periodic launch record) only; its allocs are removed one
  // by one (delete_alloc).
  Status delete_job(const JobKey& key);

  // Writes the alloc and all its task states in one transaction.
  Status put_alloc(const Alloc& alloc);
  // A placement in one transaction: the job (when given), each new alloc with its task states,
  // and the rows of the allocs it replaces, already marked stop. A crash never leaves a job
  // without its allocs, nor a replacement beside allocs still meant to run. `starting`: the
  // Starting handles stored with the new allocs' task states, by alloc id then task
  // (runner/alloc_runner.hpp, starting_handles_ahead).
  using StartingHandles = std::map<std::string, std::map<std::string, nlohmann::json>>;
  Status put_placement(const JobRecord* job, const std::vector<Alloc>& allocs,
                       const std::vector<Alloc>& stopped, const StartingHandles& starting = {});
  // Writes the alloc row alone (status, description, desired status, times).
  Status put_alloc_status(const Alloc& alloc);
  Status put_task_state(const std::string& alloc_id, const std::string& task, const TaskState& s);
  // One transaction: the task's state, its driver handle when `handle` is given (a null one
  // clears it: the task has ended; a handle is stored: it has started; its state and its
  // handle change together, or neither does), and the alloc row when given.
  Status put_task_update(const std::string& alloc_id, const std::string& task, const TaskState& s,
                         const nlohmann::json* handle, const Alloc* alloc_row);
  // The driver handle of a task; a null handle clears it.
  Status put_handle(const std::string& alloc_id, const std::string& task,
                    const nlohmann::json& handle);
  std::vector<Alloc> allocs();
  nlohmann::json handle(const std::string& alloc_id, const std::string& task);
  Status delete_alloc(const std::string& alloc_id);

  std::optional<std::string> meta(const std::string& key);
  Status put_meta(const std::string& key, const std::string& value);
  // Every meta key that starts with `prefix`, with its value, in key order; and one key's
  // removal (none is not an error). The service catalog keeps its entries so
  // (catalog/local_catalog.hpp).
  Result<std::vector<std::pair<std::string, std::string>>> meta_with_prefix(const std::string& prefix);
  Status delete_meta(const std::string& key);

  // Meta keys kept beside a job, "<kind>/<namespace>/<id>", removed with the job (delete_job,
  // whether a purge or the job GC removes it): its submitted source
  // (api/submission_endpoint.hpp) and its scaling events (api/scaling_endpoint.hpp).
  static constexpr const char* kJobSubmission = "job_submission";
  static constexpr const char* kJobScalingEvents = "job_scaling_events";
  static std::string job_meta_key(const char* kind, const JobKey& job);
  // A periodic job's last launch (runner/periodic_launcher.hpp), as JSON text; kept in the
  // meta table and removed with the job (delete_job).
  std::optional<std::string> periodic_launch(const JobKey& job);
  Status put_periodic_launch(const JobKey& job, const std::string& value);

  // Nomad Variables (vars/sqlite_backend.cpp). Every write takes the next value of one
  // counter (meta `vars_index`) as its index, in the same transaction. `cas`: the write
  // happens only if the stored ModifyIndex equals it (0: only if absent).
  std::optional<VariableRow> variable(const std::string& ns, const std::string& path);
  std::vector<VariableRow> variables(const std::string& ns, const std::string& prefix);
  Result<VariableWrite> put_variable(VariableRow row, std::optional<int64_t> cas);
  Result<VariableWrite> delete_variable(const std::string& ns, const std::string& path,
                                        std::optional<int64_t> cas);
  int64_t variables_index();

  const std::filesystem::path& path() const { return path_; }

 private:
  StateStore(sqlite3* db, std::filesystem::path path)
      : db_(db), stmts_(db), path_(std::move(path)) {}
  Status exec(const char* sql);
  Status write_task_state(const std::string& alloc_id, const std::string& task, const TaskState& s,
                          const nlohmann::json* handle);
  // The rows alone, inside a caller's transaction; mu_ held.
  Status write_job(const JobRecord& job);
  // With the handles of its tasks that have one in `handles` (none when null).
  Status write_alloc(const Alloc& alloc, const std::map<std::string, nlohmann::json>* handles = nullptr);

  std::mutex mu_;
  sqlite3* db_;
  StatementCache stmts_;  // under mu_
  std::filesystem::path path_;
};

}  // namespace drover::state
