// Which device group (Nomad's NodeDeviceResource: {Vendor, Type, Name, Attributes, Instances})
// a task's device request may use: its name as type, vendor/type or vendor/type/model, and its
// attribute constraints. Pure, so that the agent's device manager and the server's placement
// decide alike.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "jobspec/job.hpp"

namespace drover::runner {

bool device_group_matches(const jobspec::DeviceRequest& request, const nlohmann::json& group);

// How well a group suits a request's affinities, as Nomad's device allocator scores it: the
// weights of the affinities the group satisfies, summed, and the sum of every affinity's
// absolute weight (0 when the request has none). matched / total is the group's score.
struct DeviceAffinityScore {
  double matched = 0;
  double total = 0;
  double score() const { return total > 0 ? matched / total : 0; }
};
DeviceAffinityScore device_affinity_score(const jobspec::DeviceRequest& request,
                                          const nlohmann::json& group);

// Compares a device attribute {Value, Unit} with a constraint's value text ("40 GiB", "300",
// "NVIDIA H100"), converting units of the same kind (bytes, watts, hertz, bytes/s).
bool device_attribute_matches(const nlohmann::json& attr, const std::string& op,
                              const std::string& value);

}  // namespace drover::runner
