// Where sealed variables live: the agent's state store (standalone) or etcd under
// `<prefix>/vars/` (cluster mode). A backend only stores rows whose items are already sealed
// (vars/keyring.hpp); VariableStore seals and opens them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "state/state_store.hpp"
#include "upstream/upstream_config.hpp"

namespace drover::vars {

using state::VariableRow;
using state::VariableWrite;

class VariableBackend {
 public:
  virtual ~VariableBackend() = default;
  virtual Result<std::optional<VariableRow>> get(const std::string& ns,
                                                 const std::string& path) = 0;
  // Every row of namespace `ns` ("": every namespace) whose path starts with `prefix`.
  virtual Result<std::vector<VariableRow>> list(const std::string& ns,
                                                const std::string& prefix) = 0;
  // Writes `row` (the backend assigns CreateIndex/ModifyIndex); with `cas`, only if the stored
  // ModifyIndex equals it (0: only if absent), and the caller, who read the row, carries its
  // CreateTime; without, over the row as the backend reads it, keeping its CreateTime. A write
  // that lost to another is a conflict, never retried here.
  virtual Result<VariableWrite> put(VariableRow row, std::optional<int64_t> cas) = 0;
  virtual Result<VariableWrite> remove(const std::string& ns, const std::string& path,
                                       std::optional<int64_t> cas) = 0;
  // Changes made elsewhere (another node, through etcd) are reported to `fn` (namespace,
  // path) until stop(); a local-only backend never calls it.
  virtual void start_watch(std::function<void(const std::string&, const std::string&)> fn) {
    (void)fn;
  }
  virtual void stop() {}
};

// The state store's `variables` table.
std::unique_ptr<VariableBackend> make_state_store_backend(state::StateStore& store);
// etcd, keys `<prefix>/vars/<namespace>/<path>`; ModifyIndex and CreateIndex are etcd's
// mod and create revisions, and check-and-set is an etcd transaction on the mod revision.
std::unique_ptr<VariableBackend> make_etcd_backend(const upstream::EtcdConfig& cfg);
// Refuses every call with `reason` (Errc::Unsupported, a 501): a cluster agent without the
// cluster's keyring_file keeps running its allocs, but keeps no variables.
std::unique_ptr<VariableBackend> make_unavailable_backend(std::string reason);

}  // namespace drover::vars
