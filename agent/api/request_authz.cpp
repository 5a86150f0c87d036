// What each endpoint asks of a token, and the check before any route; see request_authz.hpp.
#include "api/request_authz.hpp"

#include <memory>

#include "api/namespace_query.hpp"
#include "jobspec/job.hpp"

namespace drover::api {
namespace {

// The path's segment after `prefix` up to the next '/'.
std::string segment_after(std::string_view path, std::string_view prefix) {
  auto rest = path.substr(prefix.size());
  return std::string(rest.substr(0, rest.find('/')));
}

Need ns(std::string capability) { return {Need::Kind::ns, "", std::move(capability)}; }
Need level(std::string scope, std::string capability) {
  return {Need::Kind::level, std::move(scope), std::move(capability)};
}
Need on_alloc(std::string capability, std::string alloc_id) {
  Need n = ns(std::move(capability));
  n.alloc_id = std::move(alloc_id);
  return n;
}
Need from_body(std::string capability) {
  Need n = ns(std::move(capability));
  n.namespace_in_body = true;
  return n;
}

// The lists whose handlers filter ?namespace=* through request_lists_namespace (every list
// that reads the parameter with namespace_query(..., allow_all = true)).
bool lists_every_namespace(std::string_view method, std::string_view path) {
  if (method != "GET") return false;
  return path == "/v1/jobs" || path == "/v1/allocations" || path == "/v1/evaluations" ||
         path == "/v1/event/stream" || path == "/v1/deployments" || path == "/v1/volumes" ||
         path == "/v1/scaling/policies" || path == "/v1/services" ||
         path.starts_with("/v1/service/") ||
         (path.starts_with("/v1/node/pool/") && path.ends_with("/jobs"));
}

struct RequestAcl {
  std::shared_ptr<const Acl> acl;
  std::string list_capability;  // what a ?namespace=* list shows each namespace for
};
thread_local RequestAcl current;

Refusal denied(std::string message) { return {403, "Permission denied: " + std::move(message)}; }

}  // namespace

std::optional<Need> required_need(std::string_view method, std::string_view path) {
  if (!required_policy(method, path)) return std::nullopt;
  const bool reading = method == "GET" || method == "HEAD";
  const std::string rw = reading ? "read" : "write";
  if (path == "/v1/acl/token/self" || path == "/v1/acl/token/self/capabilities")
    return Need{Need::Kind::any_token};
  if (path.starts_with("/v1/acl/") || path.starts_with("/v1/operator/keyring") ||
      path.starts_with("/v1/operator/snapshot") ||
      path == "/v1/system/gc")
    return Need{Need::Kind::management};
  if (path.starts_with("/v1/status/") || path == "/v1/namespaces" ||
      path.starts_with("/v1/namespace/") || (reading && path == "/v1/node/pools"))
    return Need{Need::Kind::any_token};  // namespaces, pools: authorize and the list filters
  if (path == "/v1/agent/members") return level("node", "read");
  if (path.starts_with("/v1/agent/") || path == "/v1/metrics") return level("agent", rw);
  if (path == "/v1/node/pools") return Need{Need::Kind::node_pool, "", "write"};
  if (path.starts_with("/v1/node/pool/")) {
    if (path.ends_with("/jobs")) return ns("list-jobs");
    if (path.ends_with("/nodes")) return level("node", "read");
    return Need{Need::Kind::node_pool, segment_after(path, "/v1/node/pool/"),
                reading              ? "read"
                : method == "DELETE" ? "delete"
                                     : "write"};
  }
  if (path == "/v1/node" || path == "/v1/nodes" || path.starts_with("/v1/node/") ||
      path == "/v1/client/stats" || path == "/v1/client/metadata" ||
      path.starts_with("/v1/client/gc") ||
      (path.starts_with("/v1/client/allocation/") && path.ends_with("/gc")))
    return level("node", rw);
  if (path == "/v1/plugins") return level("plugin", "list");
  if (path.starts_with("/v1/plugin")) return level("plugin", "read");
  if (path.starts_with("/v1/operator/")) return level("operator", rw);
  if (path == "/v1/event/stream") return ns("read-job");
  if (path == "/v1/vars") return Need{Need::Kind::variable, "", "list"};
  if (path.starts_with("/v1/var/")) {
    Need n{Need::Kind::variable, "", reading ? "read" : method == "DELETE" ? "destroy" : "write"};
    n.var_path = std::string(path.substr(std::string_view("/v1/var/").size()));
    return n;
  }
  if (path == "/v1/jobs/parse") return ns("parse-job");
  if (path == "/v1/jobs") return reading ? ns("list-jobs") : from_body("submit-job");
  if (path.starts_with("/v1/job/")) {
    if (path.ends_with("/plan")) return from_body("submit-job");
    if (path.ends_with("/dispatch")) return ns("dispatch-job");
    if (path.ends_with("/scale")) return reading ? ns("read-job-scaling") : ns("scale-job");
    if (path.ends_with("/action")) {
      Need n = ns("alloc-exec");
      n.alloc_in_query = true;
      return n;
    }
    if (reading) return ns("read-job");
    // POST /v1/job/:id registers the job in its body; the other writes act on the job the
    // path and ?namespace= name (evaluate, periodic/force, revert, deregister).
    const auto rest = path.substr(std::string_view("/v1/job/").size());
    if ((method == "POST" || method == "PUT") && rest.find('/') == std::string_view::npos)
      return from_body("submit-job");
    return ns("submit-job");
  }
  if (path == "/v1/allocations" || path == "/v1/evaluations" || path == "/v1/deployments" ||
      path.starts_with("/v1/evaluation/") || path == "/v1/services")
    return ns("read-job");
  if (path.starts_with("/v1/deployment/")) return ns(reading ? "read-job" : "submit-job");
  if (path.starts_with("/v1/service/")) return ns(reading ? "read-job" : "submit-job");
  if (path == "/v1/scaling/policies") return ns("list-scaling-policies");
  if (path.starts_with("/v1/scaling/policy/")) return ns("read-scaling-policy");
  if (path == "/v1/volumes") return ns("host-volume-read");
  if (path == "/v1/volume/host/create") return from_body("host-volume-create");
  if (path == "/v1/volume/host/register") return from_body("host-volume-register");
  if (path.starts_with("/v1/volume/host/"))
    return ns(reading ? "host-volume-read" : "host-volume-delete");
  if (path.starts_with("/v1/allocation/")) {
    const auto id = segment_after(path, "/v1/allocation/");
    return on_alloc(path.ends_with("/stop") ? "alloc-lifecycle" : "read-job", id);
  }
  if (path.starts_with("/v1/client/allocation/")) {
    const auto id = segment_after(path, "/v1/client/allocation/");
    if (path.ends_with("/exec")) return on_alloc("alloc-exec", id);
    if (path.ends_with("/stop") || path.ends_with("/restart") || path.ends_with("/signal"))
      return on_alloc("alloc-lifecycle", id);
    return on_alloc("read-job", id);  // stats, checks
  }
  if (path.starts_with("/v1/client/fs/")) {
    const auto rest = path.substr(std::string_view("/v1/client/fs/").size());
    const auto op = rest.substr(0, rest.find('/'));
    const auto id = rest.find('/') == std::string_view::npos
                        ? std::string{}
                        : segment_after(rest, std::string(op) + "/");
    return on_alloc(op == "logs" ? "read-logs" : "read-fs", id);
  }
  return Need{Need::Kind::management};  // anything not named above
}

std::optional<Refusal> authorize(const TokenStore& tokens, const RequestFacts& r,
                                 std::string_view who,
                                 const AllocNamespaceLookup& alloc_namespace) {
  clear_request_acl();
  auto policy = required_policy(r.method, r.path);
  if (!policy) return std::nullopt;
  const std::string what =
      r.label.empty() ? std::string(r.method) + " " + std::string(r.path) : std::string(r.label);
  const std::string needs_level = what + " needs a token with policy " + policy_name(*policy);
  if (r.secret.empty())
    return denied(std::string(who) + " requires an ACL token: " + needs_level +
                  " (X-Nomad-Token or Authorization: Bearer; the CLI reads DROVER_TOKEN)");
  auto token = tokens.authenticate(r.secret);
  if (!token) return denied("the token is not valid");
  if (!token->client()) {
    // A built-in policy: its level, in every namespace.
    if (token->policy < *policy)
      return denied(needs_level + " (this one has " + policy_name(token->policy) + ")");
    return std::nullopt;
  }
  return authorize_acl(token->acl, r, alloc_namespace);
}

std::optional<Refusal> authorize_acl(std::shared_ptr<const Acl> grants, const RequestFacts& r,
                                     const AllocNamespaceLookup& alloc_namespace) {
  clear_request_acl();
  if (!required_policy(r.method, r.path)) return std::nullopt;
  const std::string what =
      r.label.empty() ? std::string(r.method) + " " + std::string(r.path) : std::string(r.label);
  const Acl& acl = *grants;
  auto need = required_need(r.method, r.path);
  const std::string ns_param = r.namespace_param.value_or("");
  const std::string ns = ns_param.empty() ? std::string(kDefaultNamespace) : ns_param;
  switch (need->kind) {
    case Need::Kind::any_token:
      if (r.path.starts_with("/v1/namespace/")) {
        const auto name = segment_after(r.path, "/v1/namespace/");
        if (!acl.any_in_namespace(name))
          return denied("the token's policies grant nothing in namespace \"" + name + "\"");
      }
      break;
    case Need::Kind::management:
      return denied(what + " needs a management token");
    case Need::Kind::level:
      if (!acl.allow_level(need->scope, need->capability))
        return denied(what + " needs " + need->scope + " policy " + need->capability);
      break;
    case Need::Kind::variable:
      if (ns == kAllNamespaces)
        return denied("a token with ACL policies lists variables one namespace at a time (" + what +
                      " with ?namespace=*)");
      if (need->var_path.empty() ? !acl.allow_variable_somewhere(ns, need->capability)
                                 : !acl.allow_variable(ns, need->var_path, need->capability))
        return denied(
            what + " needs variable capability " + need->capability + " on " +
            (need->var_path.empty() ? std::string("some path") : "\"" + need->var_path + "\"") +
            " in namespace \"" + ns + "\"");
      break;
    case Need::Kind::node_pool:
      if (need->scope.empty() ? !acl.allow_some_node_pool(need->capability)
                              : !acl.allow_node_pool(need->scope, need->capability))
        return denied(
            what + " needs node_pool capability " + need->capability +
            (need->scope.empty() ? std::string(" on some pool") : " on \"" + need->scope + "\""));
      break;
    case Need::Kind::ns: {
      if (need->alloc_in_query) need->alloc_id = r.alloc_param;
      if (need->alloc_in_query && need->alloc_id.empty()) return Refusal{400, "allocID: required"};
      if (!need->alloc_id.empty()) {
        auto alloc_ns = alloc_namespace
                            ? alloc_namespace(need->alloc_id)
                            : Result<std::string>(make_error("no alloc lookup", Errc::NotFound));
        if (!alloc_ns)
          return Refusal{alloc_ns.code() == Errc::Ambiguous  ? 400
                         : alloc_ns.code() == Errc::NotFound ? 404
                                                             : 503,
                         alloc_ns.message()};
        if (!acl.allow_namespace(alloc_ns.value(), need->capability))
          return denied(what + " needs capability " + need->capability + " in namespace \"" +
                        alloc_ns.value() + "\" (the alloc's)");
        break;
      }
      if (ns == kAllNamespaces) {
        if (!lists_every_namespace(r.method, r.path))
          return denied("a token with ACL policies names one namespace here (" + what +
                        " with ?namespace=*)");
        if (!acl.allow_some_namespace(need->capability))
          return denied(what + " needs capability " + need->capability + " in some namespace");
        current.list_capability = need->capability;
        break;
      }
      if (need->namespace_in_body && ns_param.empty()) {
        // The handler checks the namespace the body names; here only that some namespace
        // would do.
        if (!acl.allow_some_namespace(need->capability))
          return denied(what + " needs capability " + need->capability + " in some namespace");
        break;
      }
      if (!acl.allow_namespace(ns, need->capability))
        return denied(what + " needs capability " + need->capability + " in namespace \"" + ns +
                      "\"");
      break;
    }
  }
  current.acl = std::move(grants);
  return std::nullopt;
}

void set_request_acl(std::shared_ptr<const Acl> acl) {
  current = RequestAcl{};
  current.acl = std::move(acl);
}

const Acl* request_acl() { return current.acl.get(); }

std::shared_ptr<const Acl> request_acl_shared() { return current.acl; }

void clear_request_acl() { current = RequestAcl{}; }

std::string request_namespace_refusal(std::string_view ns, std::string_view capability) {
  if (!current.acl || current.acl->allow_namespace(ns, capability)) return {};
  return "Permission denied: the token's policies do not grant " + std::string(capability) +
         " in namespace \"" + std::string(ns) + "\"";
}

bool request_sees_namespace(std::string_view ns) {
  return !current.acl || current.acl->any_in_namespace(ns);
}

bool request_lists_namespace(std::string_view ns) {
  if (!current.acl) return true;
  return current.acl->allow_namespace(
      ns, current.list_capability.empty() ? "read-job" : current.list_capability);
}

std::string request_host_volume_refusal(std::string_view volume, bool read_only) {
  const char* cap = read_only ? "mount-readonly" : "mount-readwrite";
  if (!current.acl || current.acl->allow_host_volume(volume, cap)) return {};
  return "Permission denied: the token's policies do not grant " + std::string(cap) +
         " on host volume \"" + std::string(volume) + "\"";
}

std::string request_node_pool_refusal(std::string_view pool, std::string_view capability) {
  if (!current.acl || current.acl->allow_node_pool(pool, capability)) return {};
  return "Permission denied: the token's policies do not grant node_pool " +
         std::string(capability) + " on \"" + std::string(pool) + "\"";
}

bool request_lists_node_pool(std::string_view pool) {
  return !current.acl || current.acl->allow_node_pool(pool, "read");
}

std::string job_submit_refusal(const jobspec::Job& job) {
  if (!current.acl) return {};
  if (auto why = request_namespace_refusal(job.namespace_name, "submit-job"); !why.empty())
    return why;
  for (const auto& g : job.groups)
    for (const auto& v : g.volumes)
      if (v.type == "host")
        if (auto why = request_host_volume_refusal(v.source, v.read_only); !why.empty())
          return why + " (group \"" + g.name + "\" volume \"" + v.name + "\")";
  return {};
}

}  // namespace drover::api
