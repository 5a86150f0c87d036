// Group commit of the API's guarded writes (a job's registration: its record, version and
// evaluation, written only if the job key is still as it was read): writes that arrive while
// one transaction is in flight go together in the next, up to etcd's limits. Each transaction
// is a raft proposal and a WAL fsync of etcd's: 8 clients registering jobs at once cost etcd
// about a third of the CPU they cost one request each (measured through etcd's JSON gateway,
// bench/cluster_scale).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "drover/common/result.hpp"
#include "upstream/upstream_config.hpp"

namespace drover::server {

struct GuardedWrite {
  std::string key;           // written only if this key's mod revision
  int64_t mod_revision = 0;  // is still this (0: the key is absent)
  std::vector<std::pair<std::string, std::string>> puts;
};

struct GuardedOutcome {
  bool written = false;
  int64_t revision = 0;                // written: the revision of the transaction
  std::optional<std::string> current;  // not written: the key as it is (nullopt: absent)
  int64_t current_mod = 0;             //   and its mod revision
};

class GuardedWriteBatcher {
 public:
  explicit GuardedWriteBatcher(upstream::EtcdConfig cfg) : cfg_(std::move(cfg)) {}
  // Blocks until `w` is written or refused (its key moved on); an error when etcd did not
  // answer. One write is never refused for another's stale key in the same transaction.
  Result<GuardedOutcome> write(GuardedWrite w);

 private:
  struct Pending {
    GuardedWrite w;
    std::optional<Result<GuardedOutcome>> out;
  };
  std::vector<Pending*> take_batch();  // under mu_
  void commit(const std::vector<Pending*>& batch);

  upstream::EtcdConfig cfg_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending*> queue_;
  bool busy_ = false;  // a caller is writing a batch
};

}  // namespace drover::server
