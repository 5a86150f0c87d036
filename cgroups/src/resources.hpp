// The mapping from a task's Limits to control-file writes, in one place for v1 and v2
// (docs/cgroups.md, "Resource mapping"; docs/nomad-compat.md, "cgroups"). v1.cpp and v2.cpp
// apply the plans.
#pragma once

#include <string>
#include <vector>

#include "drover/cgroups/cgroups.hpp"

namespace drover::cgroups {

struct Setting {
  std::string controller;  // v1 hierarchy ("cpu", "memory", ...); on v2 the file's prefix
  std::string file;        // e.g. "memory.limit_in_bytes"
  std::string value;
  bool optional = false;  // written only where the file exists; a refusal is not an error
};

// In write order (v1: memory.limit_in_bytes before memory.memsw.limit_in_bytes, which the
// kernel requires to be >= the former). Unset limits produce no write.
std::vector<Setting> plan_v1(const Limits& limits);
std::vector<Setting> plan_v2(const Limits& limits);

}  // namespace drover::cgroups
