// "Did you mean" hints for misspelt keys in job files: the closest known key by edit distance.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drover::jobspec::detail {

// The known key closest to `key` (case-insensitive Levenshtein distance), when it is close
// enough to be a likely typo: at most 2 edits, and fewer than half the key's length.
std::optional<std::string> closest_key(std::string_view key,
                                       const std::vector<std::string_view>& known);

// " (did you mean \"x\"?)" or "" when nothing is close.
std::string did_you_mean(std::string_view key, const std::vector<std::string_view>& known);

}  // namespace drover::jobspec::detail
