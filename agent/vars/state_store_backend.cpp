// Variables in the agent's SQLite state store (vars/backend.hpp): the table and its index
// counter are the state store's (state/state_store.hpp, "Nomad Variables").
#include "vars/backend.hpp"

namespace drover::vars {
namespace {

class StateStoreBackend final : public VariableBackend {
 public:
  explicit StateStoreBackend(state::StateStore& store) : store_(store) {}
  Result<std::optional<VariableRow>> get(const std::string& ns, const std::string& path) override {
    return store_.variable(ns, path);
  }
  Result<std::vector<VariableRow>> list(const std::string& ns, const std::string& prefix) override {
    return store_.variables(ns, prefix);
  }
  Result<VariableWrite> put(VariableRow row, std::optional<int64_t> cas) override {
    return store_.put_variable(std::move(row), cas);
  }
  Result<VariableWrite> remove(const std::string& ns, const std::string& path,
                               std::optional<int64_t> cas) override {
    return store_.delete_variable(ns, path, cas);
  }

 private:
  state::StateStore& store_;
};

class UnavailableBackend final : public VariableBackend {
 public:
  explicit UnavailableBackend(std::string reason) : reason_(std::move(reason)) {}
  Result<std::optional<VariableRow>> get(const std::string&, const std::string&) override {
    return refuse();
  }
  Result<std::vector<VariableRow>> list(const std::string&, const std::string&) override {
    return refuse();
  }
  Result<VariableWrite> put(VariableRow, std::optional<int64_t>) override { return refuse(); }
  Result<VariableWrite> remove(const std::string&, const std::string&,
                               std::optional<int64_t>) override {
    return refuse();
  }

 private:
  Error refuse() const { return make_error(reason_, Errc::Unsupported); }
  std::string reason_;
};

}  // namespace

std::unique_ptr<VariableBackend> make_unavailable_backend(std::string reason) {
  return std::make_unique<UnavailableBackend>(std::move(reason));
}

std::unique_ptr<VariableBackend> make_state_store_backend(state::StateStore& store) {
  return std::make_unique<StateStoreBackend>(store);
}

}  // namespace drover::vars
