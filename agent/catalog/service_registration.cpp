// ServiceRegistration's JSON and ids; see service_registration.hpp.
#include "catalog/service_registration.hpp"

namespace drover::catalog {

namespace {
nlohmann::json checks_json(const std::vector<CheckStatus>& checks) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : checks) out.push_back({{"Name", c.name}, {"Status", c.status}});
  return out;
}
}  // namespace

std::string health_of(const std::vector<CheckStatus>& checks) {
  auto any = [&](const char* status) {
    for (const auto& c : checks)
      if (c.status == status) return true;
    return false;
  };
  if (any("failure")) return "critical";
  if (any("warning")) return "warning";
  for (const auto& c : checks)
    if (c.status != "success") return "pending";
  return "passing";
}

nlohmann::json to_json(const ServiceRegistration& r) {
  return {{"ID", r.id},
          {"ServiceName", r.service_name},
          {"Namespace", r.namespace_},
          {"NodeID", r.node_id},
          {"Datacenter", r.datacenter},
          {"JobID", r.job_id},
          {"AllocID", r.alloc_id},
          {"Task", r.task},
          {"Provider", r.provider},
          {"Tags", r.tags},
          {"Address", r.address},
          {"Port", r.port},
          {"Health", r.health},
          {"Checks", checks_json(r.checks)},
          {"CreateIndex", r.create_index},
          {"ModifyIndex", r.modify_index}};
}

Result<ServiceRegistration> registration_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error("service registration: not a JSON object", Errc::Invalid);
  ServiceRegistration r;
  auto str = [&](const char* key, std::string& out, bool required) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required)
        return make_error(std::string("service registration: ") + key + ": missing", Errc::Invalid);
      return {};
    }
    if (!it->is_string())
      return make_error(std::string("service registration: ") + key + ": not a string",
                        Errc::Invalid);
    out = it->get<std::string>();
    return {};
  };
  for (auto [key, out, required] :
       std::initializer_list<std::tuple<const char*, std::string*, bool>>{
           {"ID", &r.id, true},
           {"ServiceName", &r.service_name, true},
           {"Namespace", &r.namespace_, false},
           {"NodeID", &r.node_id, false},
           {"Datacenter", &r.datacenter, false},
           {"JobID", &r.job_id, false},
           {"AllocID", &r.alloc_id, false},
           {"Task", &r.task, false},
           {"Provider", &r.provider, false},
           {"Address", &r.address, false},
           {"Health", &r.health, false}})
    if (auto st = str(key, *out, required); !st) return st.error();
  if (auto it = j.find("Checks"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return make_error("service registration: Checks: not a list", Errc::Invalid);
    for (const auto& c : *it) {
      if (!c.is_object() || !c.value("Name", nlohmann::json()).is_string() ||
          !c.value("Status", nlohmann::json()).is_string())
        return make_error("service registration: Checks: each needs a Name and a Status",
                          Errc::Invalid);
      r.checks.push_back({c["Name"].get<std::string>(), c["Status"].get<std::string>()});
    }
  }
  if (auto it = j.find("Tags"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return make_error("service registration: Tags: not a list", Errc::Invalid);
    for (const auto& t : *it) {
      if (!t.is_string())
        return make_error("service registration: Tags: not a string", Errc::Invalid);
      r.tags.push_back(t.get<std::string>());
    }
  }
  auto num = [&](const char* key) -> Result<int64_t> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return int64_t{0};
    if (!it->is_number_integer() || it->get<int64_t>() < 0)
      return make_error(std::string("service registration: ") + key + ": not a whole number",
                        Errc::Invalid);
    return it->get<int64_t>();
  };
  auto port = num("Port");
  if (!port) return port.error();
  if (port.value() > 65535)
    return make_error("service registration: Port: above 65535", Errc::Invalid);
  r.port = static_cast<int>(port.value());
  auto ci = num("CreateIndex");
  if (!ci) return ci.error();
  auto mi = num("ModifyIndex");
  if (!mi) return mi.error();
  r.create_index = static_cast<uint64_t>(ci.value());
  r.modify_index = static_cast<uint64_t>(mi.value());
  return r;
}

std::string registration_id(const std::string& alloc_id, const std::string& task,
                            const std::string& group, const std::string& service_name,
                            const std::string& port_label) {
  // Nomad's MakeAllocServiceID: group services carry "group-<name>" where a task name goes.
  std::string owner = group.empty() ? task : "group-" + group;
  return "_nomad-task-" + alloc_id + "-" + owner + "-" + service_name + "-" + port_label;
}

}  // namespace drover::catalog
