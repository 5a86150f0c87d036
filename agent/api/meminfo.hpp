// The host's /proc/meminfo, for GET /v1/client/stats (api/stats_endpoint.hpp) and the node's
// memory in /v1/metrics (api/metrics_endpoint.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace drover::api {

// Each figure by its name without the colon ("MemTotal", "MemAvailable"), in bytes (the file
// says kB); empty when the file cannot be read.
std::map<std::string, uint64_t> meminfo_bytes();

}  // namespace drover::api
