// Nomad's namespace objects as drover has them (docs/nomad-compat.md, "Namespaces"): a
// namespace exists while a job is in it, and `default` always. GET /v1/namespaces lists them
// and GET /v1/namespace/:name shows one, on the agent and on `drover server` alike, in Nomad's
// Namespace shape, so that tools that list namespaces first find them.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "api/namespace_query.hpp"

namespace drover::api {

inline nlohmann::json namespace_object(const std::string& name) {
  return {{"Name", name},
          {"Description", name == kDefaultNamespace ? "Default shared namespace" : ""},
          {"Quota", ""},
          {"Meta", nullptr},
          {"Capabilities", nullptr},
          {"NodePoolConfiguration", nullptr},
          {"CreateIndex", 0},
          {"ModifyIndex", 0}};
}

// api/request_authz.hpp: whether the request's token holds anything in namespace `ns`.
bool request_sees_namespace(std::string_view ns);

// The namespaces of `in_use` and `default`, by name; `prefix` narrows them (?prefix=), and a
// token with ACL policies sees those where they grant it something (as Nomad's list).
inline nlohmann::json namespace_list(std::set<std::string> in_use, const std::string& prefix) {
  in_use.insert(kDefaultNamespace);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : in_use)
    if (n.rfind(prefix, 0) == 0 && request_sees_namespace(n)) out.push_back(namespace_object(n));
  return out;
}

}  // namespace drover::api
