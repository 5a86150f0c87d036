// The template hook's data source (template_data.hpp).
#include "runner/hooks/template_data.hpp"

#include <map>
#include <set>

#include "catalog/catalog.hpp"
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

// consul-template's Nomad service fields: .Name, .Address, .Port, .Tags, .ID, .Namespace,
// .NodeID, .Datacenter, .JobID, .AllocID (docs/templates.md, "Services").
Result<json> TaskTemplateData::nomad_service(const std::string& name) {
  if (!catalog_) return json::array();
  auto all = catalog_->list();
  if (!all) return all.error();
  json out = json::array();
  for (const auto& r : *all) {
    if (r.service_name != name) continue;
    json j = catalog::to_json(r);
    j["Name"] = r.service_name;
    out.push_back(std::move(j));
  }
  return out;
}

// Each service once, with the union of its instances' tags: .Name, .Tags.
Result<json> TaskTemplateData::nomad_services() {
  if (!catalog_) return json::array();
  auto all = catalog_->list();
  if (!all) return all.error();
  std::map<std::string, std::set<std::string>> tags;
  for (const auto& r : *all) tags[r.service_name].insert(r.tags.begin(), r.tags.end());
  json out = json::array();
  for (const auto& [name, t] : tags)
    out.push_back({{"Name", name}, {"Tags", std::vector<std::string>(t.begin(), t.end())}});
  return out;
}

Result<std::string> TaskTemplateData::read_file(const std::string& path) {
  auto rel = task_relative(task_dir_, path);
  if (!rel) return rel.error();
  return read_beneath(task_dir_, *rel);
}

}  // namespace drover::runner
