// The variables and keyring endpoints (api/vars_endpoint.hpp).
#include "api/vars_endpoint.hpp"

#include "api/acl.hpp"
#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/request_authz.hpp"
#include "api/request_facts.hpp"
#include "runner/alloc_manager.hpp"
#include "vars/variable_store.hpp"
#include "vars/workload_identity.hpp"

namespace drover::api {
namespace {

using nlohmann::json;

std::string request_secret(const httplib::Request& req) {
  return request_token(req.get_header_value("X-Nomad-Token"),
                       req.get_header_value("Authorization"));
}

// The claims of a live workload identity, nullopt for any other caller; *refusal says why a
// token that is a workload identity is not honoured.
std::optional<vars::WorkloadClaims> workload_claims(const ApiContext& ctx,
                                                    const std::string& secret,
                                                    std::string* refusal) {
  if (!ctx.identity || !vars::WorkloadIdentity::looks_like(secret)) return std::nullopt;
  auto claims = ctx.identity->verify(secret);
  if (!claims) {
    *refusal = "Permission denied: the workload identity token is not valid";
    return std::nullopt;
  }
  auto alloc = ctx.allocs ? ctx.allocs->alloc(claims->alloc_id) : std::nullopt;
  if (!alloc || alloc->terminal()) {
    *refusal = "Permission denied: the workload identity of alloc " + claims->alloc_id +
               " was revoked when the alloc ended";
    return std::nullopt;
  }
  return claims;
}

// Writes are for operators: a workload identity (valid or not) only reads. True when `res`
// now holds the 403.
bool refuse_workload_write(const ApiContext& ctx, const httplib::Request& req,
                           httplib::Response& res) {
  std::string refusal;
  if (!workload_claims(ctx, request_secret(req), &refusal) && refusal.empty()) return false;
  // Its job's policies granted this write before the route (workload_token_refusal).
  if (refusal.empty() && request_acl()) return false;
  reply_error(res, 403,
              refusal.empty() ? "Permission denied: a workload identity may only read variables"
                              : refusal);
  return true;
}

// Nomad's ?namespace= (default "default"; "*" lists every namespace).
std::string namespace_param(const httplib::Request& req) {
  auto ns = req.get_param_value("namespace");
  return ns.empty() ? "default" : ns;
}

// ?cas=<index>: nullopt when absent; false when it is not a number.
bool cas_param(const httplib::Request& req, std::optional<uint64_t>& cas, httplib::Response& res) {
  if (!req.has_param("cas")) return true;
  auto text = req.get_param_value("cas");
  try {
    std::size_t used = 0;
    auto v = std::stoull(text, &used);
    if (used != text.size() || text.empty() || text[0] == '-') throw std::invalid_argument(text);
    cas = v;
    return true;
  } catch (const std::exception&) {
    reply_error(res, 400, "cas: \"" + text + "\" is not an index (a whole number)");
    return false;
  }
}

// Nomad answers a failed check-and-set with 409 and the variable as it is now.
void reply_conflict(httplib::Response& res, const std::string& ns, const std::string& path,
                    const vars::WriteOutcome& w, std::optional<uint64_t> cas) {
  json body = w.current ? vars::to_json(*w.current)
                        : vars::to_json(vars::VariableMeta{ns, path, 0, 0, 0, 0});
  body["error"] = "cas conflict: the check-and-set index " + std::to_string(cas.value_or(0)) +
                  " does not match the variable's ModifyIndex " +
                  std::to_string(w.current ? w.current->meta.modify_index : 0) +
                  (w.current ? "" : " (it does not exist)");
  reply_json(res, body, 409);
}

// A lock's refusal (a 409): Nomad answers the variable's name alone, no items and no lock.
void reply_lock_refusal(httplib::Response& res, const std::string& ns, const std::string& path,
                        const vars::WriteOutcome& w) {
  json body = vars::to_json(vars::VariableMeta{ns, path, 0, 0, 0, 0, std::nullopt});
  body["error"] = w.lock_refusal;
  reply_json(res, body, 409);
}

// Whether a variable's lock (its ID is what takes it over) is shown to this caller: as in
// Nomad, only to one no ACL policy limits (ACLs off, a management token) and to the lock's
// holder in the answers to its own lock operations.
bool caller_sees_locks() { return request_acl() == nullptr; }

// Nomad's lock operations: PUT /v1/var/:path?lock-acquire, ?lock-renew or ?lock-release.
// Empty when the request has none; false (res holds the 400) for more than one, or one with
// ?cas.
bool lock_operation(const httplib::Request& req, std::string& op, httplib::Response& res) {
  int n = 0;
  for (const char* name : {"lock-acquire", "lock-renew", "lock-release"})
    if (req.has_param(name)) {
      op = name;
      ++n;
    }
  if (n > 1) {
    reply_error(res, 400, "multiple lock operations: give one of lock-acquire, lock-renew, lock-release");
    return false;
  }
  if (n == 1 && req.has_param("cas")) {
    reply_error(res, 400, "cas: CAS can't be used with lock operations");
    return false;
  }
  return true;
}

// The items of a lock operation's body: none when it has no Items (or empty ones).
Result<std::optional<std::map<std::string, std::string>>> optional_items(const json& body) {
  if (!body.is_object() || !body.contains("Items") || body["Items"].is_null() ||
      (body["Items"].is_object() && body["Items"].empty()))
    return std::optional<std::map<std::string, std::string>>();
  auto items = vars::items_from_json(body);
  if (!items) return items.error();
  return std::optional<std::map<std::string, std::string>>(std::move(*items));
}

json key_json(const vars::KeyInfo& k) {
  return {
      {"KeyID", k.id}, {"Algorithm", "aes256-gcm"}, {"State", k.active ? "active" : "inactive"}};
}

}  // namespace

std::optional<std::string> workload_token_refusal(const ApiContext& ctx,
                                                  const httplib::Request& req,
                                                  const std::string& secret) {
  if (!ctx.identity || !vars::WorkloadIdentity::looks_like(secret)) return std::nullopt;
  std::string refusal;
  auto claims = workload_claims(ctx, secret, &refusal);
  if (!claims) return refusal;
  // The ACL policies attached to its job, group or task (docs/security.md, "Policies of a
  // job's tasks") grant it more than its own variables.
  std::shared_ptr<const Acl> job_acl;
  if (ctx.acl)
    if (auto known = ctx.acl->workload_policies())
      job_acl =
          workload_acl(known.value(), claims->ns, claims->job_id, claims->group, claims->task);
  const bool reads_vars = (req.method == "GET" || req.method == "HEAD") &&
                          (req.path == "/v1/vars" || req.path.rfind("/v1/var/", 0) == 0);
  if (reads_vars) {
    set_request_acl(job_acl);  // the handler judges the paths: its own, and what these grant
    return std::string();
  }
  if (!job_acl)
    return "Permission denied: a workload identity may only read its job's variables, not " +
           req.method + " " + req.path;
  if (auto r = authorize_acl(job_acl, request_facts(req, secret), alloc_namespace_lookup(ctx)))
    return r->message;
  return std::string();
}

void register_vars_endpoints(httplib::Server& s, ApiContext& ctx) {
  if (!ctx.vars) return;
  auto& store = *ctx.vars;
  s.Get("/v1/vars", [&ctx, &store](const httplib::Request& req, httplib::Response& res) {
    std::string refusal;
    auto claims = workload_claims(ctx, request_secret(req), &refusal);
    if (!refusal.empty()) return reply_error(res, 403, refusal);
    auto ns = namespace_param(req);
    auto list = store.list(ns, req.get_param_value("prefix"));
    if (!list) return reply_error(res, list.error());
    json out = json::array();
    for (const auto& m : *list) {
      // A workload sees what it may read, a token of ACL policies the paths it has list on
      // (Nomad filters the list the same way); a workload's job policies add theirs.
      const Acl* acl = request_acl();
      const bool granted = acl && acl->allow_variable(m.ns, m.path, "list");
      const bool own = claims && m.ns == claims->ns && vars::workload_may_read(*claims, m.path);
      if (claims ? !(own || granted) : (acl && !granted)) continue;
      out.push_back(vars::to_json(m, !claims && caller_sees_locks()));
    }
    res.set_header("X-Nomad-Index", std::to_string(store.index()));
    reply_json(res, out);
  });
  s.Get(R"(/v1/var/(.+))", [&ctx, &store](const httplib::Request& req, httplib::Response& res) {
    std::string refusal;
    auto claims = workload_claims(ctx, request_secret(req), &refusal);
    if (!refusal.empty()) return reply_error(res, 403, refusal);
    const std::string path = req.matches[1];
    auto ns = namespace_param(req);
    const Acl* acl = request_acl();
    if (claims && (ns != claims->ns || !vars::workload_may_read(*claims, path)) &&
        !(acl && acl->allow_variable(ns, path, "read")))
      return reply_error(res, 403,
                         "Permission denied: the workload identity of job \"" + claims->job_id +
                             "\" may read only nomad/jobs/" + claims->job_id + "/" + claims->group +
                             "/" + claims->task + " and the paths above it, not " + path);
    auto v = store.get(ns, path);
    if (!v) return reply_error(res, v.error());
    res.set_header("X-Nomad-Index", std::to_string(v->meta.modify_index));
    reply_json(res, vars::to_json(*v, !claims && caller_sees_locks()));
  });
  auto put = [&ctx, &store](const httplib::Request& req, httplib::Response& res) {
    if (refuse_workload_write(ctx, req, res)) return;
    const std::string path = req.matches[1];
    std::optional<uint64_t> cas;
    if (!cas_param(req, cas, res)) return;
    std::string lock_op;
    if (!lock_operation(req, lock_op, res)) return;
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded())
      return reply_error(res, 400, "body: not JSON; expected {\"Items\": {\"key\": \"value\"}}");
    auto lock = vars::lock_from_json(body);
    if (!lock) return reply_error(res, lock.error());
    auto ns = namespace_param(req);
    if (body.contains("Namespace") && body["Namespace"].is_string() &&
        !body["Namespace"].get<std::string>().empty() && !req.has_param("namespace"))
      ns = body["Namespace"].get<std::string>();
    // The check before the route judged ?namespace=; the body may name another.
    if (const Acl* acl = request_acl(); acl && !acl->allow_variable(ns, path, "write"))
      return reply_error(
          res, 403,
          "Permission denied: the token's policies do not grant variable write on \"" + path +
              "\" in namespace \"" + ns + "\"");
    if (body.contains("Path") && body["Path"].is_string() &&
        !body["Path"].get<std::string>().empty() && body["Path"].get<std::string>() != path)
      return reply_error(res, 400,
                         "Path: the body's \"" + body["Path"].get<std::string>() +
                             "\" differs from the URL's \"" + path + "\"");
    Result<vars::WriteOutcome> w = make_error("");
    if (lock_op.empty()) {
      auto items = vars::items_from_json(body);
      if (!items) return reply_error(res, items.error());
      // A plain write names the lock it holds by ID; a lease is set only by an acquire.
      if (*lock && ((*lock)->ttl_ns != 0 || (*lock)->delay_ns != 0))
        return reply_error(res, 400,
                           "Lock: a write other than ?lock-acquire takes the lock's ID only, not "
                           "its TTL or LockDelay");
      w = store.put(ns, path, *items, cas, *lock ? (*lock)->id : "");
    } else if (lock_op == "lock-acquire") {
      auto items = optional_items(body);
      if (!items) return reply_error(res, items.error());
      w = store.acquire_lock(ns, path, lock->value_or(vars::VariableLock{"", 0, 0, 0}), *items);
    } else {
      if (!*lock || (*lock)->id.empty())
        return reply_error(res, 400, "Lock.ID: missing lock information (the lock's ID)");
      if (auto items = optional_items(body); !items || *items)
        return reply_error(res, 400,
                           "Items: a lock " + lock_op.substr(5) + " doesn't take variable items");
      w = lock_op == "lock-renew" ? store.renew_lock(ns, path, (*lock)->id)
                                  : store.release_lock(ns, path, (*lock)->id);
    }
    if (!w) return reply_error(res, w.error());
    if (!w->lock_refusal.empty()) return reply_lock_refusal(res, ns, path, *w);
    if (w->conflict) return reply_conflict(res, ns, path, *w, cas);
    // The lock's holder sees its lock; a release answers the variable without one.
    json out = w->written ? vars::to_json(*w->written, !lock_op.empty() || caller_sees_locks())
                          : json::object();
    if (lock_op == "lock-renew" || lock_op == "lock-release") out.erase("Items");
    if (w->written) res.set_header("X-Nomad-Index", std::to_string(w->written->meta.modify_index));
    reply_json(res, out);
  };
  s.Put(R"(/v1/var/(.+))", put);
  s.Post(R"(/v1/var/(.+))", put);
  s.Delete(R"(/v1/var/(.+))", [&ctx, &store](const httplib::Request& req, httplib::Response& res) {
    if (refuse_workload_write(ctx, req, res)) return;
    const std::string path = req.matches[1];
    std::optional<uint64_t> cas;
    if (!cas_param(req, cas, res)) return;
    auto ns = namespace_param(req);
    auto w = store.remove(ns, path, cas);
    if (!w) return reply_error(res, w.error());
    if (!w->lock_refusal.empty()) return reply_lock_refusal(res, ns, path, *w);
    if (w->conflict) return reply_conflict(res, ns, path, *w, cas);
    res.set_header("X-Nomad-Index", std::to_string(store.index()));
    reply_json(res, json::object());
  });
  auto rotate = [&store](const httplib::Request& req, httplib::Response& res) {
    auto full = req.get_param_value("full");
    if (!full.empty() && full != "true" && full != "false")
      return reply_error(res, 400, "full: must be true or false, not \"" + full + "\"");
    auto key = store.rotate_key(full == "true");
    if (!key) return reply_error(res, key.error());
    reply_json(res, {{"Key", key_json(*key)}});
  };
  s.Put("/v1/operator/keyring/rotate", rotate);
  s.Post("/v1/operator/keyring/rotate", rotate);
  s.Get("/v1/operator/keyring/keys", [&store](const httplib::Request&, httplib::Response& res) {
    json out = json::array();
    for (const auto& k : store.keyring().keys()) out.push_back(key_json(k));
    reply_json(res, out);
  });
}

}  // namespace drover::api
