// Reading numeric and boolean query parameters the same way on every endpoint: a bad one is a 400 that
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

// `name` as a boolean, the spellings Nomad's (Go's strconv.ParseBool) takes: 1, t, true, 0, f,
// false (and TRUE, True, ...); `absent` when the request has none.
inline Result<bool> bool_param(const httplib::Request& req, const char* name, bool absent) {
  if (!req.has_param(name)) return absent;
  const std::string v = req.get_param_value(name);
  for (const char* yes : {"1", "t", "T", "true", "TRUE", "True"})
    if (v == yes) return true;
  for (const char* no : {"0", "f", "F", "false", "FALSE", "False"})
    if (v == no) return false;
  return make_error(std::string(name) + ": must be true or false (got \"" + v.substr(0, 32) + "\")",
                    Errc::Invalid);
}

}  // namespace drover::api
