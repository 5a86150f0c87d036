// The template hook's data source (template_data.hpp).
#include "runner/hooks/template_data.hpp"

#include "runner/hooks/template_files.hpp"

namespace drover::runner {

using nlohmann::json;

bool TaskTemplateData::may_read(const std::string& path) const {
  const std::string jobs = "nomad/jobs";
  return path == jobs || path == jobs + "/" + job_ || path == jobs + "/" + job_ + "/" + group_ ||
         path == jobs + "/" + job_ + "/" + group_ + "/" + task_;
}

Result<json> TaskTemplateData::nomad_var(const std::string& path) {
  if (!variables_) return make_error("no variables store on this agent", Errc::Unsupported);
  if (!may_read(path))
    return make_error("task \"" + task_ + "\" may not read variable \"" + path +
                          "\" (a task reads nomad/jobs/" + job_ + "[/" + group_ + "[/" + task_ +
                          "]] and nomad/jobs)",
                      Errc::Invalid);
  return variables_->get(path);
}

Result<json> TaskTemplateData::nomad_var_list(const std::string& prefix) {
  if (!variables_) return make_error("no variables store on this agent", Errc::Unsupported);
  auto r = variables_->list(prefix);
  if (!r) return r;
  // Only what the task may read, as Nomad filters a workload's list.
  json out = json::array();
  for (const auto& v : *r)
    if (v.contains("Path") && v["Path"].is_string() && may_read(v["Path"].get<std::string>()))
      out.push_back(v);
  return out;
}

// drover keeps no service catalog yet (docs/templates.md, "Services").
Result<json> TaskTemplateData::nomad_service(const std::string&) { return json::array(); }
Result<json> TaskTemplateData::nomad_services() { return json::array(); }

Result<std::string> TaskTemplateData::read_file(const std::string& path) {
  auto rel = task_relative(task_dir_, path);
  if (!rel) return rel.error();
  return read_beneath(task_dir_, *rel);
}

}  // namespace drover::runner
