// The service catalog: where each running task's services are registered, and where the API
// (and templates) read them. Two stores implement it: LocalCatalog (standalone, in the state
// store) and EtcdCatalog (cluster mode: every node's services under <prefix>/services/).
//
// The interface, for readers such as template rendering:
//   - list() returns every registration the catalog holds (every node's, in cluster mode),
//     ordered by service name, then id.
//   - index() is a change index: it grows whenever a registration is added, changed or removed
//     (in cluster mode also when another node's change is seen). Equal indexes mean nothing
//     changed in between; the numbers themselves mean nothing else.
//   - wait_for_change(after, timeout) blocks until index() > after (or the timeout) and returns
//     index(): a blocking query in the manner of Nomad's ?index=.
//   - subscribe(fn) calls fn (on the thread that saw the change, with no catalog lock held) after
//     each change; keep fn short and non-blocking. unsubscribe(id) returns once no call of fn is
//     running.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/service_registration.hpp"
#include "drover/common/result.hpp"

namespace drover::catalog {

class Catalog {
 public:
  virtual ~Catalog() = default;

  // Adds a registration, or replaces the one with the same id (its create_index is kept).
  virtual Status upsert(ServiceRegistration r) = 0;
  // Removes one registration; Errc::NotFound when there is none with that id.
  virtual Status remove(const std::string& id) = 0;
  virtual Result<std::vector<ServiceRegistration>> list() = 0;
  // Sets the checks' statuses (and so the health) of this node's registration `id`: the health
  // watcher's, as results come in. Errc::NotFound when this node holds none with that id
  // (not registered yet, or gone); nothing changes when they are the same.
  virtual Status set_checks(const std::string& id, const std::vector<CheckStatus>& checks) = 0;
  // Cluster mode: the node registered (again) under this etcd lease; registrations are held by
  // it. The standalone store ignores it.
  virtual void node_registered(int64_t /*lease*/) {}

  uint64_t index() const;
  uint64_t wait_for_change(uint64_t after, std::chrono::milliseconds timeout) const;
  uint64_t subscribe(std::function<void()> fn);
  void unsubscribe(uint64_t id);

 protected:
  // Stores call this after each change they make or see.
  void changed();

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t index_ = 1;
  uint64_t next_sub_ = 1;
  std::map<uint64_t, std::function<void()>> subs_;
  std::mutex call_mu_;  // held while subscribers run: unsubscribe waits on it
};

// Sorted as list() promises.
void sort_registrations(std::vector<ServiceRegistration>& list);

}  // namespace drover::catalog
