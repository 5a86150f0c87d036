// JSON to text without throwing: a string that is not UTF-8 (from a task, a runtime, a file
// name) is written with U+FFFD in its place, since nlohmann's dump() throws on it and a throw
// on a runner thread or in the store takes the agent down (docs/security.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace drover {

inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace drover
