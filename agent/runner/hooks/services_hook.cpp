// The services hook: a task's services in the catalog while it runs (docs/networking.md,
// "Services and the catalog"). Nomad's order on stop is kept: deregister, wait the
// shutdown_delay, then the kill signal.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "catalog/catalog.hpp"
#include "catalog/service_registration.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"
#include "runner/task_env.hpp"

namespace drover::runner {

namespace {

constexpr const char* kConsulNotUsed = "Consul Not Used";
constexpr const char* kServiceNotRegistered = "Service Not Registered";

// The group's main task carries the group's services (as it carries their checks: its
// leader, else the first task without a lifecycle hook).
bool is_main_task(const jobspec::TaskGroup& group, const jobspec::Task& task) {
  for (const auto& t : group.tasks)
    if (t.leader) return t.name == task.name;
  for (const auto& t : group.tasks)
    if (t.lifecycle.hook.empty()) return t.name == task.name;
  return false;
}

// Where the task can be reached, besides the host's published ports: the alloc's own
// address (bridge mode) and the driver's (a container's own IP: the handle's DriverNetwork).
struct Reach {
  std::string alloc_ip;
  std::string driver_ip;
  bool driver_advertises = false;  // address_mode auto takes the driver's address
};

// The address and port a service's `port` and `address` name, as its address_mode says (Nomad's
// rules, docs/networking.md): a port label of the alloc's networks is its host IP and host
// port (host), the alloc's address and the port's `to` (alloc), or the driver's address and
// `to` (driver; auto is driver when the driver advertises its address, else host). A number
// or "host:port" is taken as written. "" when the mode has no address to give.
std::string resolve(const std::string& port, const std::string& address, std::string mode,
                    const Reach& reach, const std::vector<state::AllocatedNetwork>& networks,
                    const std::string& task, catalog::ServiceRegistration& r) {
  if (mode == "auto") mode = reach.driver_advertises && !reach.driver_ip.empty() ? "driver" : "host";
  if (mode == "alloc" && reach.alloc_ip.empty())
    return "address_mode \"alloc\": the alloc has no address of its own (network mode bridge or cni/<network> gives one)";
  if (mode == "driver" && reach.driver_ip.empty())
    return "address_mode \"driver\": the task's driver reports no address of its own";
  std::string host;
  bool found = false;
  for (const auto& n : networks)
    if (n.task.empty() || n.task == task)
      for (const auto& p : n.ports)
        if (!found && p.label == port) {
          host = mode == "host" ? p.host_ip : mode == "alloc" ? reach.alloc_ip : reach.driver_ip;
          r.port = mode == "host" || p.to <= 0 ? p.value : p.to;
          found = true;
        }
  if (!found && !port.empty()) {
    auto colon = port.rfind(':');
    std::string num = colon == std::string::npos ? port : port.substr(colon + 1);
    if (colon != std::string::npos) host = port.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    try {
      r.port = std::stoi(num);
    } catch (const std::exception&) {
      r.port = 0;
    }
  }
  if (host.empty() && mode != "host") host = mode == "alloc" ? reach.alloc_ip : reach.driver_ip;
  if (host.empty())
    for (const auto& n : networks)
      if (host.empty() && (n.task.empty() || n.task == task)) host = n.ip;
  r.address = !address.empty() ? address : !host.empty() ? host : "127.0.0.1";
  return "";
}

Reach reach_of(TaskHookContext& c, const nlohmann::json& handle) {
  Reach out;
  out.alloc_ip = c.alloc.alloc_ip();
  // A driver that gives its task an address of its own says so in the handle (docker on a
  // network of its own: plugins.md, "DriverNetwork").
  if (handle.is_object() && handle.contains("DriverNetwork") && handle["DriverNetwork"].is_object()) {
    const auto& dn = handle["DriverNetwork"];
    out.driver_ip = dn.value("IP", "");
    out.driver_advertises = dn.value("AutoAdvertise", false);
  }
  return out;
}

}  // namespace

void ServicesHook::register_all(TaskHookContext& c, const nlohmann::json& handle) {
  auto* cat = c.alloc.ctx().catalog;
  if (!cat) return;
  const auto& group = c.alloc.group();
  std::vector<std::pair<const jobspec::Service*, bool>> services;  // (service, is a group's)
  for (const auto& s : c.task.services) services.emplace_back(&s, false);
  if (is_main_task(group, c.task))
    for (const auto& s : group.services) services.emplace_back(&s, true);
  if (services.empty()) return;

  auto snap = c.alloc.snapshot();
  auto dir = c.alloc.dir();
  TaskEnvInput in;
  in.job = &c.alloc.job();
  in.group = &group;
  in.task = &c.task;
  in.alloc_id = c.alloc.id();
  in.alloc_name = snap.name;
  in.alloc_index = snap.index;
  in.alloc_dir = dir.shared_dir().string();
  in.task_dir = dir.local_dir(c.task.name).string();
  in.secrets_dir = dir.secrets_dir(c.task.name).string();
  in.node = &c.alloc.ctx().node;
  in.networks = &c.alloc.networks();
  TaskEnv env(in);

  const Reach reach = reach_of(c, handle);
  std::vector<std::string> consul;
  std::lock_guard lock(mu_);
  for (const auto& [svc, of_group] : services) {
    catalog::ServiceRegistration r;
    r.service_name = env.interpolate(svc->name);
    r.id = catalog::registration_id(c.alloc.id(), c.task.name, of_group ? group.name : "",
                                    r.service_name, svc->port);
    r.node_id = c.alloc.ctx().node.id;
    r.datacenter = c.alloc.ctx().node.datacenter;
    r.job_id = c.alloc.job_id();
    r.namespace_ = c.alloc.job_key().ns;
    r.alloc_id = c.alloc.id();
    r.task = c.task.name;
    r.provider = svc->provider.empty() ? "nomad" : svc->provider;
    for (const auto& t : svc->tags) r.tags.push_back(env.interpolate(t));
    // Its checks' results come from the health watcher (Catalog::set_checks); until then a
    // service with checks is pending.
    if (!svc->checks.empty()) r.health = "pending";
    if (auto why = resolve(env.interpolate(svc->port), env.interpolate(svc->address),
                           svc->address_mode, reach, c.alloc.networks(), c.task.name, r);
        !why.empty()) {
      spdlog::warn("alloc {} task {}: service {} not registered: {}", c.alloc.id(), c.task.name,
                   r.service_name, why);
      c.record({kServiceNotRegistered, 0, "service " + r.service_name + " not registered: " + why});
      continue;
    }
    if (r.provider == "consul") consul.push_back(r.service_name);
    auto id = r.id;
    // Kept as registered even when the write failed: the etcd store writes it once etcd
    // answers, and it must be deregistered all the same.
    if (auto st = cat->upsert(std::move(r)); !st)
      spdlog::warn("alloc {} task {}: registering service {}: {}", c.alloc.id(), c.task.name, id,
                   st.message());
    if (std::find(registered_.begin(), registered_.end(), id) == registered_.end())
      registered_.push_back(id);
  }
  if (!consul.empty() && !consul_said_) {
    consul_said_ = true;
    std::string names;
    for (const auto& n : consul) names += (names.empty() ? "" : ", ") + n;
    c.record({kConsulNotUsed, 0,
              "drover does not talk to Consul: service " + names +
                  " (provider \"consul\") is registered in drover's own catalog (GET "
                  "/v1/service/<name>), not in Consul"});
  }
}

void ServicesHook::deregister_all(TaskHookContext& c) {
  auto* cat = c.alloc.ctx().catalog;
  if (!cat) return;
  std::lock_guard lock(mu_);
  // Also what an earlier agent registered for this task (it ran, then ended while no agent
  // was there to see it): found by alloc and task.
  auto ids = registered_;
  if (auto all = cat->list())
    for (const auto& r : all.value())
      if (r.alloc_id == c.alloc.id() && r.task == c.task.name &&
          std::find(ids.begin(), ids.end(), r.id) == ids.end())
        ids.push_back(r.id);
  for (const auto& id : ids)
    if (auto st = cat->remove(id); !st && st.code() != Errc::NotFound)
      spdlog::warn("alloc {} task {}: deregistering service {}: {}", c.alloc.id(), c.task.name, id,
                   st.message());
  registered_.clear();
}

void ServicesHook::poststart(TaskHookContext& c, const nlohmann::json& handle) {
  register_all(c, handle);
}
void ServicesHook::recovered(TaskHookContext& c, const nlohmann::json& handle) {
  register_all(c, handle);
}
void ServicesHook::prekill(TaskHookContext& c) { deregister_all(c); }
void ServicesHook::exited(TaskHookContext& c) { deregister_all(c); }

}  // namespace drover::runner
