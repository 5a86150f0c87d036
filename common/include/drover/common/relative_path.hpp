// Where a path written relative to a dir lands, worked out from its text alone: the one rule
// behind "escapes the task dir" for templates, artifacts and the job validator. What is on
// disk (links) is the opener's business (agent/fs/beneath.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/split.hpp"

namespace drover {

// `rel` normalized lexically ("a/./b//../c" is "a/c"; "" is the dir itself), or nullopt when
// a ".." climbs above the dir. A leading '/' is read as an empty first part: callers refuse
// absolute paths before asking.
inline std::optional<std::string> lexically_beneath(std::string_view rel) {
  std::vector<std::string_view> parts;
  for (auto part : split(rel, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else {
      parts.push_back(part);
    }
  }
  std::string out;
  for (auto part : parts) (out += out.empty() ? "" : "/") += part;
  return out;
}

}  // namespace drover
