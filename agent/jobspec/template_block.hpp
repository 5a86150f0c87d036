// The task's `template` blocks in the canonical job JSON (Nomad's Templates shape), apart from
// job.cpp so that the template fields live in one place.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "jobspec/job.hpp"

namespace drover::jobspec {

nlohmann::json templates_to_json(const std::vector<Template>& templates);
// Reads what templates_to_json wrote; a key of the wrong type throws nlohmann::json::exception.
std::vector<Template> templates_from_json(const nlohmann::json& j);

}  // namespace drover::jobspec
