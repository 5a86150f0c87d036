// What the service API asks of a catalog's list: Nomad's service summary, tag and filter
// selection, and `choose` (a stable rendezvous pick of n instances). Pure functions, so that
// both stores and the API share them and unit tests reach them directly.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/service_registration.hpp"
#include "drover/common/result.hpp"

namespace drover::catalog {

// GET /v1/services: [{"Namespace": ns, "Services": [{"ServiceName", "Tags"}]}], one entry per
// namespace, services by name, each with the union of its instances' tags (sorted).
nlohmann::json services_summary(const std::vector<ServiceRegistration>& all);

// The registrations of one service.
std::vector<ServiceRegistration> of_service(const std::vector<ServiceRegistration>& all,
                                            const std::string& name);

// Keeps the registrations that carry `tag` (empty: all).
std::vector<ServiceRegistration> with_tag(std::vector<ServiceRegistration> list,
                                          const std::string& tag);

// Nomad's `filter` expression, the subset drover reads: clauses joined by `and`, each one of
//   "v" in Tags | "v" not in Tags | Tags contains "v" | Tags not contains "v"
//   <Field> == "v" | <Field> != "v"   (ID, ServiceName, Namespace, NodeID, Datacenter, JobID,
//                                      AllocID, Task, Address; Port with a number)
// Anything else is Errc::Invalid naming what was not understood.
Result<std::vector<ServiceRegistration>> filtered(std::vector<ServiceRegistration> list,
                                                  const std::string& expression);

// Nomad's `choose=<n>|<key>`: every instance ranked by a hash of itself and the key (Nomad's
// ServiceRegistration.HashWith), the first n kept. The same key picks the same instances on
// every node, and one instance more or less moves few picks. A malformed value is
// Errc::Invalid.
Result<std::vector<ServiceRegistration>> choose(const std::vector<ServiceRegistration>& list,
                                                const std::string& spec);

// The hash choose ranks by (hex): md5 of the port as a Go varint, AllocID, ID, Namespace,
// Address, ServiceName, each tag, then the key.
std::string hash_with(const ServiceRegistration& r, const std::string& key);

}  // namespace drover::catalog
