// The standalone catalog: registrations kept in the state store's meta table (key
// "service/<id>", the registration's JSON), with a copy in memory for reads. Entries outlive an
// agent restart with their tasks (recovered tasks register again); those of allocs that no
// longer run are removed at start (prune).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "catalog/catalog.hpp"

namespace drover::state {
class StateStore;
}

namespace drover::catalog {

class LocalCatalog final : public Catalog {
 public:
  // Reads the stored registrations; one that cannot be read is dropped with a warning.
  static Result<std::unique_ptr<LocalCatalog>> open(state::StateStore& store);

  Status upsert(ServiceRegistration r) override;
  Status remove(const std::string& id) override;
  Result<std::vector<ServiceRegistration>> list() override;
  Status set_checks(const std::string& id, const std::vector<CheckStatus>& checks) override;
  // Removes every registration `keep` returns false for; returns how many went.
  int prune(const std::function<bool(const ServiceRegistration&)>& keep);

 private:
  explicit LocalCatalog(state::StateStore& store) : store_(store) {}
  // Gives `r` the next modify index (and keeps the create index of the one it replaces) and
  // writes it to the store (mu_ held); regs_ is the caller's to update.
  Status write_locked(ServiceRegistration& r);

  state::StateStore& store_;
  std::mutex mu_;
  std::map<std::string, ServiceRegistration> regs_;
  uint64_t last_index_ = 0;  // CreateIndex/ModifyIndex: persisted as meta "service_index"
};

}  // namespace drover::catalog
