// One service instance in the catalog: Nomad's ServiceRegistration (its JSON field names), plus
// the task that registered it. Written by the services hook (runner/hooks/services_hook.cpp),
// read by the API (/v1/services, /v1/service/:name) and, later, by templates.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::catalog {

// One check of a registered service and its last result (the health watcher's: success,
// warning, failure, pending).
struct CheckStatus {
  std::string name;
  std::string status;
  bool operator==(const CheckStatus&) const = default;
};

struct ServiceRegistration {
  std::string id;  // Nomad's: _nomad-task-<alloc>-<task>-<service>-<port label>
  std::string service_name;
  std::string namespace_ = "default";
  std::string node_id;
  std::string datacenter;
  std::string job_id;
  std::string alloc_id;
  std::string task;      // drover's addition: the task it runs with ("" : none known)
  std::string provider;  // "nomad" | "consul" (a consul service lands here too: docs/networking.md)
  std::vector<std::string> tags;
  std::string address;
  int port = 0;
  // drover's addition (docs/networking.md): the health of its checks, "passing" (all succeed,
  // or it has none), "warning", "critical" (one fails) or "pending" (not all probed yet),
  // and each check's status.
  std::string health = "passing";
  std::vector<CheckStatus> checks;
  // The catalog's change index when the registration was first made and last changed.
  uint64_t create_index = 0;
  uint64_t modify_index = 0;
  bool operator==(const ServiceRegistration&) const = default;
};

// Nomad's JSON: {ID, ServiceName, Namespace, NodeID, Datacenter, JobID, AllocID, Tags, Address,
// Port, CreateIndex, ModifyIndex}, with drover's Task, Provider, Health and Checks
// ([{Name, Status}]).
nlohmann::json to_json(const ServiceRegistration& r);
// Reads what to_json wrote (from the state store or etcd); an error names the bad field.
Result<ServiceRegistration> registration_from_json(const nlohmann::json& j);

// The health of a service from its checks' statuses: critical when one fails, else warning
// when one warns, else pending when one has no result yet, else passing (none: passing).
std::string health_of(const std::vector<CheckStatus>& checks);

// Nomad's registration id for a task's service (`group` empty) or a group's service.
std::string registration_id(const std::string& alloc_id, const std::string& task,
                            const std::string& group, const std::string& service_name,
                            const std::string& port_label);

}  // namespace drover::catalog
