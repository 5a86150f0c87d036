// The upstream: where desired allocs come from and where alloc status and health go.
// Backends: standalone (the local API is the source; nothing to send) and etcd (cluster mode).
// The agent drives a backend through UpstreamService, which owns the reconnect logic.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::upstream {

// One change of a desired alloc, in store order.
struct DesiredAllocEvent {
  enum class Kind { Put, Delete };
  Kind kind = Kind::Put;
  std::string alloc_id;
  std::string value;  // Put: the Allocation JSON as written by the scheduler
  int64_t revision = 0;
};

// Every desired alloc of the node at one revision (a full resync).
struct DesiredAllocs {
  int64_t revision = 0;
  std::map<std::string, std::string> allocs;  // alloc id -> Allocation JSON
};

// What the node reports about one alloc: {ID, JobID, TaskGroup, ClientStatus,
// ClientDescription, DesiredStatus, TaskStates, DeploymentStatus, ModifyTime}.
struct AllocUpdate {
  std::string alloc_id;
  nlohmann::json status;
};

class Upstream {
 public:
  virtual ~Upstream() = default;
  virtual std::string name() const = 0;
  // Registers the node (Nomad's Node JSON); it stays registered while heartbeats succeed.
  virtual Status register_node(const nlohmann::json& node) = 0;
  // Keeps the registration alive. An error means the registration is gone or unreachable:
  // register again.
  virtual Status heartbeat() = 0;
  virtual Result<DesiredAllocs> list_allocs() = 0;
  // Delivers each change after `after_revision`, blocking until interrupt() or a failure.
  // An error of kind Errc::Gone means the revision was compacted away: list again.
  virtual Status watch_allocs(int64_t after_revision,
                              const std::function<void(const DesiredAllocEvent&)>& fn) = 0;
  // Writes a batch of alloc updates in one write.
  virtual Status report(const std::vector<AllocUpdate>& updates) = 0;
  // Wakes a blocked watch_allocs (shutdown, or a lost registration).
  virtual void interrupt() = 0;
  // Whether the backend has a source of allocs to watch (standalone has none).
  virtual bool clustered() const = 0;
};

// The status document of an alloc, from its API JSON (state::to_json without the job).
nlohmann::json alloc_status(const nlohmann::json& alloc_json);

}  // namespace drover::upstream
