// Edit-distance hints for unknown keys, so `memroy:` points at `memory:`.
#include "jobspec/did_you_mean.hpp"

#include <algorithm>
#include <cctype>

namespace drover::jobspec::detail {

namespace {

std::size_t distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::optional<std::string> closest_key(std::string_view key,
                                       const std::vector<std::string_view>& known) {
  // Keys longer than this are not typos of ours; skip the quadratic work on hostile input.
  if (key.size() > 64) return std::nullopt;
  std::optional<std::string> best;
  std::size_t best_distance = 3;
  for (auto candidate : known) {
    std::size_t d = distance(key, candidate);
    if (d < best_distance && d * 2 < std::max<std::size_t>(key.size(), 2)) {
      best_distance = d;
      best = std::string(candidate);
    }
  }
  return best;
}

std::string did_you_mean(std::string_view key, const std::vector<std::string_view>& known) {
  auto best = closest_key(key, known);
  return best ? " (did you mean \"" + *best + "\"?)" : "";
}

}  // namespace drover::jobspec::detail
