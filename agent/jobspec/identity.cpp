// Workload identity names and extra claims (jobspec/identity.hpp).
#include "jobspec/identity.hpp"

#include <array>

namespace drover::jobspec {

std::string identity_env_var(const Identity& id) {
  return id.name.empty() ? "NOMAD_TOKEN" : "NOMAD_TOKEN_" + id.name;
}

std::string identity_default_file(const Identity& id) {
  return id.name.empty() ? "secrets/nomad_token" : "secrets/nomad_" + id.name + ".jwt";
}

Result<std::string> interpolate_claim(std::string_view value, const ClaimVariables& v) {
  const std::array<std::pair<std::string_view, const std::string*>, 6> known = {{
      {"job.id", &v.job_id},
      {"job.namespace", &v.ns},
      {"job.region", &v.region},
      {"job.node_pool", &v.node_pool},
      {"group.name", &v.group},
      {"task.name", &v.task},
  }};
  std::string out;
  for (std::size_t i = 0; i < value.size();) {
    if (value.substr(i, 2) != "${") {
      out += value[i++];
      continue;
    }
    const auto end = value.find('}', i);
    if (end == std::string_view::npos) return make_error("an unclosed ${ at offset " + std::to_string(i));
    const auto name = value.substr(i + 2, end - i - 2);
    const std::string* found = nullptr;
    for (const auto& [k, val] : known)
      if (k == name) found = val;
    if (!found)
      return make_error("${" + std::string(name) +
                        "} is not a claim variable (${job.id}, ${job.namespace}, ${job.region}, "
                        "${job.node_pool}, ${group.name}, ${task.name})");
    out += *found;
    i = end + 1;
  }
  return out;
}

bool reserved_claim(std::string_view name) {
  for (std::string_view r : {"aud", "exp", "iat", "iss", "jti", "nbf", "sub"})
    if (name == r) return true;
  return name.starts_with("nomad_");
}

}  // namespace drover::jobspec
