// The agent's variable store (vars/variable_store.hpp) as templates read it
// (TemplateVariables, runner/hooks/template_data.hpp): the task's job's namespace, as Nomad's
// templates read theirs; items as a JSON map, list entries in Nomad's metadata shape.
#pragma once

#include <string>

#include "runner/hooks/template_data.hpp"

namespace drover::vars {
class VariableStore;
}

namespace drover::runner {

class StoreTemplateVariables final : public TemplateVariables {
 public:
  StoreTemplateVariables(vars::VariableStore& store, std::string ns)
      : store_(store), ns_(std::move(ns)) {}
  Result<nlohmann::json> get(const std::string& path) override;
  Result<nlohmann::json> list(const std::string& prefix) override;
  uint64_t wait_for_change(const std::string& prefix, uint64_t after,
                           std::chrono::milliseconds timeout) override;

 private:
  vars::VariableStore& store_;
  const std::string ns_;
};

}  // namespace drover::runner
