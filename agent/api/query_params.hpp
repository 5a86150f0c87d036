// Reading numeric query parameters the same way on every endpoint: a bad one is a 400 that
// names it and quotes what came.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>

#include "drover/common/result.hpp"

namespace drover::api {

// `name` as a non-negative integer; nullopt when the request has none.
inline Result<std::optional<int64_t>> non_negative_param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::optional<int64_t>();
  const std::string v = req.get_param_value(name);
  try {
    std::size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used == v.size() && n >= 0) return std::optional<int64_t>(n);
  } catch (...) {
  }
  return make_error(std::string(name) + ": must be a non-negative integer (got \"" + v.substr(0, 32) + "\")",
                    Errc::Invalid);
}

}  // namespace drover::api
