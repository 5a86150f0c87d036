#include "drover/common/names.hpp"

#include <cctype>

namespace drover {

std::optional<std::string> plain_name_problem(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kMaxNameLength)
    return "must be at most " + std::to_string(kMaxNameLength) + " characters (got " +
           std::to_string(name.size()) + ")";
  if (name == "." || name == "..") return "must not be '.' or '..'";
  for (unsigned char c : name) {
    if (c == '/' || c == '\\') return "must not contain a path separator";
    if (c < 0x20 || c == 0x7f) return "must not contain control characters";
  }
  return std::nullopt;
}

std::optional<std::string> namespace_name_problem(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kMaxNameLength)
    return "must be at most " + std::to_string(kMaxNameLength) + " characters (got " +
           std::to_string(name.size()) + ")";
  for (unsigned char c : name)
    if (!(std::isalnum(c) && c < 0x80) && c != '-') return "may hold only letters, digits and '-', as in Nomad";
  return std::nullopt;
}

bool is_reserved_task_name(std::string_view name) {
  return name == "alloc" || name == "local" || name == "secrets" || name == "tmp";
}

}  // namespace drover
