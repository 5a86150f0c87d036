// StoreTemplateVariables (template_variables.hpp): the variable store behind nomadVar.
#include "runner/hooks/template_variables.hpp"

#include "vars/variable_store.hpp"

namespace drover::runner {

Result<nlohmann::json> StoreTemplateVariables::get(const std::string& path) {
  auto v = store_.get(ns_, path);
  if (!v) return v.error();
  return nlohmann::json(v->items);
}

Result<nlohmann::json> StoreTemplateVariables::list(const std::string& prefix) {
  auto l = store_.list(ns_, prefix);
  if (!l) return l.error();
  auto out = nlohmann::json::array();
  for (const auto& m : *l) out.push_back(vars::to_json(m));
  return out;
}

uint64_t StoreTemplateVariables::wait_for_change(const std::string& prefix, uint64_t after,
                                                 std::chrono::milliseconds timeout) {
  return store_.wait_for_change(ns_, prefix, after, timeout);
}

}  // namespace drover::runner
