// Where a template's data functions (nomadVar, nomadVarList, nomadVarExists,
// nomadVarListSafe, nomadService, nomadServices, file) read from. The template hook supplies
// one backed by the agent's variable store, its services and the task dir; tests supply
// fakes. A missing thing is Errc::NotFound, which the functions turn into Nomad's answers
// (nomadVarExists false, an empty list); anything else fails the render with the message.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "drover/common/result.hpp"

namespace drover::tmpl {

class DataSource {
 public:
  virtual ~DataSource() = default;
  // One variable's items: {"key": "value", ...}.
  virtual Result<nlohmann::json> nomad_var(const std::string& path) = 0;
  // The variables under a prefix: [{"Path", "Namespace", "CreateIndex", "ModifyIndex"}, ...].
  virtual Result<nlohmann::json> nomad_var_list(const std::string& prefix) = 0;
  // The instances of one service: [{"ID", "Name", "Address", "Port", "Tags", "AllocID",
  // "JobID", "Datacenter", "Namespace"}, ...].
  virtual Result<nlohmann::json> nomad_service(const std::string& name) = 0;
  // Every service: [{"Name", "Tags"}, ...].
  virtual Result<nlohmann::json> nomad_services() = 0;
  // A file's contents; the path is the template's, relative to the task dir, and must stay
  // beneath it.
  virtual Result<std::string> read_file(const std::string& path) = 0;
};

}  // namespace drover::tmpl
