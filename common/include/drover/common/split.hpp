// Splitting text at a separator, as Go's strings.Split does: n separators give n+1 parts,
// empty ones included (a job's cron fields, a path's segments, a JWT's three parts).
#pragma once

#include <string_view>
#include <vector>

namespace drover {

inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto at = s.find(sep, start);
    if (at == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, at - start));
    start = at + 1;
  }
}

}  // namespace drover
