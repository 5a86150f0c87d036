// The ?namespace= query parameter, as Nomad's API reads it (docs/api.md, "Namespaces"):
// "default" when absent; "*" means every namespace where a list allows it. Shared by the
// agent's API and `drover server`'s.
#pragma once

#include <string>
#include <string_view>

#include "drover/common/names.hpp"
#include "drover/common/result.hpp"

namespace drover::api {

inline constexpr const char* kAllNamespaces = "*";

// The namespace a request names; an Invalid error (a 400) naming the parameter when the value
// is not a namespace name, or is "*" where `allow_all` is false.
inline Result<std::string> namespace_query(const std::string& value, bool allow_all) {
  if (value.empty()) return std::string(kDefaultNamespace);
  if (value == kAllNamespaces) {
    if (allow_all) return value;
    return make_error("namespace: \"*\" (every namespace) is only for lists; name one namespace",
                      Errc::Invalid);
  }
  if (auto why = namespace_name_problem(value))
    return make_error("namespace: " + *why + " (got \"" + value.substr(0, 64) + "\")",
                      Errc::Invalid);
  return value;
}

// api/request_authz.hpp: whether the request's token may see namespace `ns` in a list.
bool request_lists_namespace(std::string_view ns);

// Whether an item of namespace `ns` is in the list a namespace query asked for: with "*", the
// namespaces the request's token may list (every one, without ACL policies).
inline bool namespace_matches(const std::string& query, const std::string& ns) {
  if (query == kAllNamespaces) return request_lists_namespace(ns);
  return query == ns;
}

}  // namespace drover::api
