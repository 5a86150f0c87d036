// What a task's templates read (template/data_source.hpp), from the agent: files beneath the
// task dir, Nomad Variables through TemplateVariables (with Nomad's workload access: a task
// reads nomad/jobs, nomad/jobs/<job>, .../<group> and .../<group>/<task>, nothing else), and
// services from the service catalog (catalog/catalog.hpp: every node's, in cluster mode).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "drover/common/result.hpp"
#include "template/data_source.hpp"

namespace drover::catalog {
class Catalog;
}

namespace drover::runner {

// Nomad Variables as templates read them; the agent's variable store stands behind it
// (RunnerContext::variables, through template_variables.hpp), in the job's namespace.
class TemplateVariables {
 public:
  virtual ~TemplateVariables() = default;
  // The items {"k": "v"}; NotFound when there is no such variable.
  virtual Result<nlohmann::json> get(const std::string& path) = 0;
  // [{"Path", "Namespace", "CreateIndex", "ModifyIndex", ...}] under the prefix.
  virtual Result<nlohmann::json> list(const std::string& prefix) = 0;
  // Blocks until a variable under `prefix` changed after `after` (a value it returned before,
  // 0 at first) or `timeout` passed; returns the change index now.
  virtual uint64_t wait_for_change(const std::string& prefix, uint64_t after,
                                   std::chrono::milliseconds timeout) = 0;
};

class TaskTemplateData final : public tmpl::DataSource {
 public:
  TaskTemplateData(std::filesystem::path task_dir, std::string job, std::string group,
                   std::string task, TemplateVariables* variables,
                   catalog::Catalog* catalog = nullptr)
      : task_dir_(std::move(task_dir)),
        job_(std::move(job)),
        group_(std::move(group)),
        task_(std::move(task)),
        variables_(variables),
        catalog_(catalog) {}

  Result<nlohmann::json> nomad_var(const std::string& path) override;
  Result<nlohmann::json> nomad_var_list(const std::string& prefix) override;
  Result<nlohmann::json> nomad_service(const std::string& name) override;
  Result<nlohmann::json> nomad_services() override;
  Result<std::string> read_file(const std::string& path) override;

  // Nomad's workload rule: may this task read the variable at `path`?
  bool may_read(const std::string& path) const;

 private:
  std::filesystem::path task_dir_;
  std::string job_, group_, task_;
  TemplateVariables* variables_;
  catalog::Catalog* catalog_;  // null: no services
};

}  // namespace drover::runner
