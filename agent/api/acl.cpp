// API tokens: policies, hashing, constant-time lookup, the token endpoints, and the refusal to
// expose an open API off loopback (docs/threat-model.md, "The API").
#include "api/acl.hpp"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <regex>

#include "api/auth_endpoints.hpp"
#include "api/json_reply.hpp"
#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"
#include "drover/common/names.hpp"
#include "jobspec/parse.hpp"
#include "state/alloc.hpp"
#include "state/state_store.hpp"

namespace drover::api {
namespace {

using nlohmann::json;

constexpr const char* kMetaKey = "acl_tokens";
constexpr const char* kPoliciesMetaKey = "acl_policies";
constexpr const char* kRolesMetaKey = "acl_roles";

std::string sha256(std::string_view s) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = val(hex[i]), lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace

// Nomad's token shape: a client token's Policies are its ACL policies; a token of a built-in
// policy has it in Policy (and, as one name, in Policies), and Type management for management.
json token_json(const TokenInfo& t) {
  const bool named = t.client();
  json policies = named ? json(t.policies) : json::array({policy_name(t.policy)});
  json roles = json::array();
  for (const auto& r : t.roles) roles.push_back({{"ID", r.id}, {"Name", r.name}});
  return {{"AccessorID", t.accessor_id},
          {"Name", t.name},
          {"Type", !named && t.policy == Policy::management ? "management" : "client"},
          {"Policy", named ? json() : json(policy_name(t.policy))},
          {"Policies", policies},
          {"Roles", roles},
          {"CreateTime", t.create_time_ns},
          {"ExpirationTime",
           t.expiration_time_ns ? json(state::rfc3339(t.expiration_time_ns)) : json()}};
}

namespace {

// Nomad's ExpirationTTL: a duration in nanoseconds (its API's JSON) or text such as "8h".
std::optional<std::chrono::nanoseconds> read_ttl(const json& v) {
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
    return std::chrono::nanoseconds(v.get<std::int64_t>());
  if (v.is_string()) {
    auto d = jobspec::parse_duration(v.get<std::string>());
    if (d) return std::chrono::duration_cast<std::chrono::nanoseconds>(d.value());
  }
  return std::nullopt;
}

}  // namespace

std::optional<Policy> parse_policy(std::string_view name) {
  if (name == "read") return Policy::read;
  if (name == "submit") return Policy::submit;
  if (name == "operate") return Policy::operate;
  if (name == "management") return Policy::management;
  return std::nullopt;
}

const char* policy_name(Policy p) {
  switch (p) {
    case Policy::read: return "read";
    case Policy::submit: return "submit";
    case Policy::operate: return "operate";
    case Policy::management: return "management";
  }
  return "?";
}

std::optional<Policy> required_policy(std::string_view method, std::string_view path) {
  if (path == "/v1/agent/health") return std::nullopt;
  // Public keys and the OIDC discovery document: what others check workload identities with
  // (api/identity_endpoints.hpp).
  if ((method == "GET" || method == "HEAD") && path.starts_with("/.well-known/")) return std::nullopt;
  // The web UI's own files hold no data: the page must load to ask for a token.
  if ((method == "GET" || method == "HEAD") &&
      (path == "/" || path == "/ui" || path.starts_with("/ui/")))
    return std::nullopt;
  // A login makes a token from a JWT or an OIDC sign-in, and must find its auth method first
  // (Nomad's: none needs a token; api/auth_endpoints.hpp, api/oidc_endpoints.hpp).
  if ((method == "POST" || method == "PUT") &&
      (path == "/v1/acl/login" || path == "/v1/acl/oidc/auth-url" || path == "/v1/acl/oidc/complete-auth"))
    return std::nullopt;
  if ((method == "GET" || method == "HEAD") && path == "/v1/acl/auth-methods") return std::nullopt;
  if (path == "/v1/acl/token/self" || path == "/v1/acl/token/self/capabilities")
    return Policy::read;
  if (path.starts_with("/v1/acl/")) return Policy::management;
  // The keyring seals every variable: the management token's (as Nomad's operator keyring).
  if (path.starts_with("/v1/operator/keyring")) return Policy::management;
  // A snapshot holds every token's hash and every variable, sealed: management's (Nomad's).
  if (path.starts_with("/v1/operator/snapshot")) return Policy::management;
  // A variable's items are secrets: reading them takes what submitting a job takes (a job can
  // read them through a template anyway); listing their metadata (/v1/vars) is a read.
  if (path.starts_with("/v1/var/")) return Policy::submit;
  // An alloc's files hold what its templates rendered from those items: the same rule (Nomad
  // grants read-fs with its write policy, not read).
  if (path.starts_with("/v1/client/fs/") && !path.starts_with("/v1/client/fs/logs/"))
    return Policy::submit;
  // A command inside a task, interactive (a GET websocket) or not: the node's operator's.
  if (path.starts_with("/v1/client/allocation/") && path.ends_with("/exec")) return Policy::operate;
  // A job's named action is such a command (Nomad asks alloc-exec for it).
  if (path.starts_with("/v1/job/") && path.ends_with("/action")) return Policy::operate;
  // The agent's own log at any level (debug lines name jobs, allocs and paths of every
  // namespace): the node's operator's. A client token needs Nomad's agent read.
  if (path == "/v1/agent/monitor") return Policy::operate;
  bool reading = method == "GET" || method == "HEAD";
  if (path.starts_with("/v1/node") || path.starts_with("/v1/plugin") ||
      path.starts_with("/v1/client/gc"))
    return reading ? Policy::read : Policy::operate;
  if (reading) return Policy::read;
  if (path == "/v1/jobs/parse") return Policy::read;  // parses, changes nothing
  if (path == "/v1/jobs" || path.starts_with("/v1/job/")) return Policy::submit;
  // The server's deployment actions (promote, fail, pause): part of submitting a job, as in
  // Nomad; its scheduler configuration is the operator's.
  if (path.starts_with("/v1/deployment/")) return Policy::submit;
  if (path.starts_with("/v1/operator/")) return Policy::operate;
  // Deregistering a service instance: Nomad's submit-job capability.
  if (path.starts_with("/v1/service/")) return Policy::submit;
  if (path.starts_with("/v1/client/allocation/") &&
      (path.ends_with("/stop") || path.ends_with("/restart") || path.ends_with("/signal")))
    return Policy::submit;
  // Nomad's path for an alloc stop (a server places it anew): the same.
  if (path.starts_with("/v1/allocation/") && path.ends_with("/stop")) return Policy::submit;
  // gc and anything not named above: the node's operator.
  return Policy::operate;
}

std::string request_token(std::string_view nomad_token, std::string_view authorization) {
  if (!nomad_token.empty()) return std::string(nomad_token);
  constexpr std::string_view bearer = "Bearer ";
  if (authorization.size() > bearer.size()) {
    bool match = true;
    for (std::size_t i = 0; i < bearer.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
          std::tolower(static_cast<unsigned char>(bearer[i])))
        match = false;
    if (match) return std::string(authorization.substr(bearer.size()));
  }
  return {};
}

Result<std::unique_ptr<AclStore>> AclStore::open(state::StateStore* store,
                                                 std::string* bootstrap_secret) {
  std::unique_ptr<AclStore> acl(new AclStore(store));
  if (auto saved = store->meta(kMetaKey)) {
    auto j = json::parse(*saved, nullptr, false);
    if (j.is_discarded() || !j.is_array())
      return make_error("acl: the stored tokens are unreadable; refusing to start with ACLs "
                        "(nothing was changed)");
    for (const auto& t : j) {
      auto token = stored_token_from_json(t);
      if (!token) return make_error("acl: a stored token is malformed; refusing to start with ACLs");
      acl->tokens_.push_back(std::move(*token));
    }
  }
  if (auto saved = store->meta(kPoliciesMetaKey)) {
    auto j = json::parse(*saved, nullptr, false);
    if (j.is_discarded() || !j.is_array())
      return make_error(
          "acl: the stored policies are unreadable; refusing to start with ACLs "
          "(nothing was changed)");
    for (const auto& p : j) {
      auto policy = policy_from_json(p);
      if (!policy)
        return make_error("acl: a stored policy is malformed; refusing to start with ACLs");
      acl->policies_.push_back(std::move(*policy));
    }
  }
  if (auto saved = store->meta(kRolesMetaKey)) {
    auto j = json::parse(*saved, nullptr, false);
    if (j.is_discarded() || !j.is_array())
      return make_error(
          "acl: the stored roles are unreadable; refusing to start with ACLs "
          "(nothing was changed)");
    for (const auto& r : j) {
      auto role = role_from_json(r);
      if (!role) return make_error("acl: a stored role is malformed; refusing to start with ACLs");
      acl->roles_.push_back(std::move(*role));
    }
  }
  if (acl->tokens_.empty()) {
    auto made = acl->create("Bootstrap Token", Policy::management);
    if (!made) return make_error(made.message());
    if (bootstrap_secret) *bootstrap_secret = made->second;
  }
  return acl;
}

json stored_token_json(const StoredToken& t) {
  auto j = token_json(t.info);
  j["SecretHash"] = to_hex(t.secret_hash);
  j["ExpirationTimeNs"] = t.info.expiration_time_ns;
  return j;
}

std::optional<StoredToken> stored_token_from_json(const json& t) {
  if (!t.is_object()) return std::nullopt;
  // A field of the wrong type makes the record no token (a server's etcd copy may hold one
  // written by hand), never an exception.
  auto text = [&t](const char* key) -> std::optional<std::string> {
    auto it = t.find(key);
    if (it == t.end()) return std::string{};
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto number = [&t](const char* key) -> std::optional<std::int64_t> {
    auto it = t.find(key);
    if (it == t.end()) return 0;
    if (!it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  auto hash_text = text("SecretHash"), accessor = text("AccessorID"), name = text("Name");
  auto created = number("CreateTime"), expires = number("ExpirationTimeNs");
  if (!hash_text || !accessor || !name || !created || !expires) return std::nullopt;
  auto hash = from_hex(*hash_text);
  if (!hash || hash->size() != SHA256_DIGEST_LENGTH) return std::nullopt;
  TokenInfo info{*accessor, *name, Policy::read, *created, *expires};
  // A client token has Policy null, its ACL policies' names in Policies and its roles in
  // Roles ({ID, Name}).
  if (auto p = t.find("Policy"); p != t.end() && p->is_null()) {
    auto names = t.find("Policies");
    if (names != t.end() && !names->is_array()) return std::nullopt;
    if (names != t.end())
      for (const auto& n : *names) {
        if (!n.is_string()) return std::nullopt;
        info.policies.push_back(n.get<std::string>());
      }
    if (auto roles = t.find("Roles"); roles != t.end() && roles->is_array())
      for (const auto& r : *roles) {
        if (!r.is_object() || !r.value("ID", json()).is_string()) return std::nullopt;
        info.roles.push_back({r["ID"].get<std::string>(), r.value("Name", std::string())});
      }
    if (!info.client()) return std::nullopt;
    return StoredToken{info, *hash};
  }
  auto policy_text = text("Policy");
  auto policy = policy_text ? parse_policy(*policy_text) : std::nullopt;
  if (!policy) return std::nullopt;
  info.policy = *policy;
  return StoredToken{info, *hash};
}

std::pair<StoredToken, std::string> mint_token(const std::string& name, Policy policy,
                                               std::chrono::nanoseconds ttl,
                                               const std::vector<std::string>& policies,
                                               const std::vector<TokenInfo::RoleLink>& roles) {
  // Random UUIDs from the kernel's CSPRNG (common/encoding.hpp): 122 bits, enough for a secret.
  const std::string accessor = random_uuid(), secret = random_uuid();
  const auto now = state::now_ns();
  const bool client = !policies.empty() || !roles.empty();
  TokenInfo info{accessor,
                 name,
                 client ? Policy::read : policy,
                 now,
                 ttl.count() > 0 ? now + ttl.count() : 0,
                 policies,
                 nullptr,
                 roles};
  return {StoredToken{info, sha256(secret)}, secret};
}

std::optional<TokenInfo> match_token(const std::vector<StoredToken>& tokens,
                                     std::string_view secret) {
  if (secret.empty()) return std::nullopt;
  auto hash = sha256(secret);
  std::optional<TokenInfo> found;
  for (const auto& e : tokens)
    if (CRYPTO_memcmp(e.secret_hash.data(), hash.data(), hash.size()) == 0) found = e.info;
  if (found && found->expiration_time_ns && found->expiration_time_ns <= state::now_ns())
    return std::nullopt;
  return found;
}

bool is_last_management(const std::vector<StoredToken>& tokens, const std::string& accessor_id) {
  const auto now = state::now_ns();
  auto live_management = [now](const StoredToken& e) {
    return !e.info.client() && e.info.policy == Policy::management &&
           (e.info.expiration_time_ns == 0 || e.info.expiration_time_ns > now);
  };
  auto it = std::find_if(tokens.begin(), tokens.end(),
                         [&](const StoredToken& e) { return e.info.accessor_id == accessor_id; });
  return it != tokens.end() && live_management(*it) &&
         std::count_if(tokens.begin(), tokens.end(), live_management) == 1;
}

std::optional<TokenInfo> AclStore::authenticate(std::string_view secret) const {
  std::lock_guard lock(mu_);
  auto t = match_token(tokens_, secret);
  if (t && t->client()) t->acl = token_acl(*t, policies_, roles_);
  return t;
}

Result<std::pair<TokenInfo, std::string>> AclStore::create(
    const std::string& name, Policy policy, std::chrono::nanoseconds ttl,
    const std::vector<std::string>& policies, const std::vector<TokenInfo::RoleLink>& roles) {
  auto [token, secret] = mint_token(name, policy, ttl, policies, roles);
  std::lock_guard lock(mu_);
  tokens_.push_back(token);
  if (auto st = save_locked(); !st) {
    tokens_.pop_back();
    return make_error(st.message());
  }
  return std::make_pair(token.info, secret);
}

Result<std::vector<TokenInfo>> AclStore::list() const {
  std::lock_guard lock(mu_);
  std::vector<TokenInfo> out;
  for (const auto& e : tokens_) out.push_back(e.info);
  return out;
}

AclStore::RevokeError AclStore::revoke(const std::string& accessor_id, std::string* message) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(tokens_.begin(), tokens_.end(),
                         [&](const StoredToken& e) { return e.info.accessor_id == accessor_id; });
  if (it == tokens_.end()) {
    *message = "no token with accessor id \"" + accessor_id + "\"";
    return RevokeError::not_found;
  }
  if (is_last_management(tokens_, accessor_id)) {
    *message =
        "token " + accessor_id + " is the last management token; create another before revoking it";
    return RevokeError::last_management;
  }
  StoredToken removed = *it;
  auto pos = tokens_.erase(it);
  if (auto st = save_locked(); !st) {
    tokens_.insert(pos, std::move(removed));
    *message = st.message();
    return RevokeError::store;
  }
  return RevokeError::none;
}

json policy_json(const AclPolicyRecord& p) {
  json j = {
      {"Name", p.name},    {"Description", p.description},   {"Rules", p.rules},
      {"JobACL", nullptr}, {"CreateTime", p.create_time_ns}, {"ModifyTime", p.modify_time_ns}};
  if (p.job_acl)
    j["JobACL"] = {{"Namespace", p.job_acl->ns},
                   {"JobID", p.job_acl->job_id},
                   {"Group", p.job_acl->group},
                   {"Task", p.job_acl->task}};
  return j;
}

static Result<std::optional<AclPolicyRecord::JobAcl>> job_acl_from_json(const json& j) {
  if (j.is_null()) return std::optional<AclPolicyRecord::JobAcl>{};
  if (!j.is_object())
    return make_error("JobACL: must be an object {Namespace, JobID, Group, Task}");
  auto text = [&j](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  AclPolicyRecord::JobAcl a{text("Namespace"), text("JobID"), text("Group"), text("Task")};
  if (a.ns.empty()) a.ns = "default";
  if (a.job_id.empty())
    return make_error("JobACL.JobID: the job the policy is attached to is required");
  if (!a.task.empty() && a.group.empty())
    return make_error("JobACL.Task: a task is named with its group (JobACL.Group)");
  return std::optional<AclPolicyRecord::JobAcl>{a};
}

std::optional<AclPolicyRecord> policy_from_json(const json& j) {
  if (!j.is_object() || !j.contains("Name") || !j["Name"].is_string() || !j.contains("Rules") ||
      !j["Rules"].is_string())
    return std::nullopt;
  AclPolicyRecord p;
  p.name = j["Name"].get<std::string>();
  p.rules = j["Rules"].get<std::string>();
  if (j.contains("Description") && j["Description"].is_string())
    p.description = j["Description"].get<std::string>();
  if (j.contains("CreateTime") && j["CreateTime"].is_number_integer())
    p.create_time_ns = j["CreateTime"].get<std::int64_t>();
  if (j.contains("ModifyTime") && j["ModifyTime"].is_number_integer())
    p.modify_time_ns = j["ModifyTime"].get<std::int64_t>();
  if (j.contains("JobACL")) {
    auto job = job_acl_from_json(j["JobACL"]);
    if (!job) return std::nullopt;
    p.job_acl = job.value();
  }
  auto rules = parse_acl_rules(p.rules);
  if (!rules) return std::nullopt;
  p.parsed = std::make_shared<const AclRules>(std::move(rules.value()));
  return p;
}

std::shared_ptr<const Acl> acl_of(const std::vector<std::string>& names,
                                  const std::vector<AclPolicyRecord>& known) {
  std::vector<const AclRules*> rules;
  for (const auto& n : names)
    for (const auto& p : known)
      if (p.name == n) rules.push_back(p.parsed.get());
  return std::make_shared<const Acl>(Acl::merge(rules));
}

std::shared_ptr<const Acl> workload_acl(const std::vector<AclPolicyRecord>& known,
                                        const std::string& ns, const std::string& job_id,
                                        const std::string& group, const std::string& task) {
  std::vector<const AclRules*> rules;
  for (const auto& p : known) {
    if (!p.job_acl || p.job_acl->ns != ns || p.job_acl->job_id != job_id) continue;
    if (!p.job_acl->group.empty() && p.job_acl->group != group) continue;
    if (!p.job_acl->task.empty() && p.job_acl->task != task) continue;
    rules.push_back(p.parsed.get());
  }
  if (rules.empty()) return nullptr;
  return std::make_shared<const Acl>(Acl::merge(rules));
}

std::optional<std::string> policy_name_problem(const std::string& name) {
  if (name.empty() || name.size() > 128) return "Name: must be 1 to 128 characters";
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '-')
      return "Name: \"" + name + "\" may hold only letters, digits and '-'";
  if (parse_policy(name))
    return "Name: \"" + name + "\" is a built-in policy's name (read, submit, operate, management)";
  return std::nullopt;
}

Result<std::vector<AclPolicyRecord>> AclStore::policies() const {
  std::lock_guard lock(mu_);
  return policies_;
}

Status AclStore::put_policy(const AclPolicyRecord& policy) {
  std::lock_guard lock(mu_);
  auto saved = policies_;
  auto it = std::find_if(policies_.begin(), policies_.end(),
                         [&](const AclPolicyRecord& p) { return p.name == policy.name; });
  if (it == policies_.end())
    policies_.push_back(policy);
  else {
    AclPolicyRecord next = policy;
    next.create_time_ns = it->create_time_ns;
    *it = next;
  }
  if (auto st = save_policies_locked(); !st) {
    policies_ = std::move(saved);
    return st;
  }
  return {};
}

Status AclStore::delete_policy(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(policies_.begin(), policies_.end(),
                         [&](const AclPolicyRecord& p) { return p.name == name; });
  if (it == policies_.end())
    return make_error("ACL policy \"" + name + "\" not found", Errc::NotFound);
  auto saved = policies_;
  policies_.erase(it);
  if (auto st = save_policies_locked(); !st) {
    policies_ = std::move(saved);
    return st;
  }
  return {};
}

json role_json(const AclRoleRecord& r) {
  json policies = json::array();
  for (const auto& p : r.policies) policies.push_back({{"Name", p}});
  return {{"ID", r.id},
          {"Name", r.name},
          {"Description", r.description},
          {"Policies", policies},
          {"CreateTime", r.create_time_ns},
          {"ModifyTime", r.modify_time_ns}};
}

std::optional<AclRoleRecord> role_from_json(const json& j) {
  if (!j.is_object() || !j.value("ID", json()).is_string() || !j.value("Name", json()).is_string())
    return std::nullopt;
  AclRoleRecord r;
  r.id = j["ID"].get<std::string>();
  r.name = j["Name"].get<std::string>();
  if (j.value("Description", json()).is_string())
    r.description = j["Description"].get<std::string>();
  if (auto p = j.find("Policies"); p != j.end() && p->is_array())
    for (const auto& e : *p)
      if (e.is_object() && e.value("Name", json()).is_string())
        r.policies.push_back(e["Name"].get<std::string>());
  if (j.value("CreateTime", json()).is_number_integer())
    r.create_time_ns = j["CreateTime"].get<std::int64_t>();
  if (j.value("ModifyTime", json()).is_number_integer())
    r.modify_time_ns = j["ModifyTime"].get<std::int64_t>();
  return r;
}

std::shared_ptr<const Acl> token_acl(const TokenInfo& token,
                                     const std::vector<AclPolicyRecord>& policies,
                                     const std::vector<AclRoleRecord>& roles) {
  std::vector<std::string> names = token.policies;
  for (const auto& link : token.roles)
    for (const auto& r : roles)
      if (r.id == link.id) names.insert(names.end(), r.policies.begin(), r.policies.end());
  return acl_of(names, policies);
}

Result<std::vector<AclRoleRecord>> AclStore::roles() const {
  std::lock_guard lock(mu_);
  return roles_;
}

Status AclStore::put_role(const AclRoleRecord& role) {
  std::lock_guard lock(mu_);
  auto saved = roles_;
  auto it = std::find_if(roles_.begin(), roles_.end(),
                         [&](const AclRoleRecord& r) { return r.id == role.id; });
  if (it == roles_.end())
    roles_.push_back(role);
  else
    *it = role;
  if (auto st = save_roles_locked(); !st) {
    roles_ = std::move(saved);
    return st;
  }
  return {};
}

Status AclStore::delete_role(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(roles_.begin(), roles_.end(),
                         [&](const AclRoleRecord& r) { return r.id == id; });
  if (it == roles_.end()) return make_error("ACL role \"" + id + "\" not found", Errc::NotFound);
  auto saved = roles_;
  roles_.erase(it);
  if (auto st = save_roles_locked(); !st) {
    roles_ = std::move(saved);
    return st;
  }
  return {};
}

// One meta key per record: "acl_record/<kind>/<key>".
Result<std::vector<std::string>> AclStore::records(const std::string& kind) const {
  auto rows = store_->meta_with_prefix("acl_record/" + kind + "/");
  if (!rows) return rows.error();
  std::vector<std::string> out;
  for (auto& row : rows.value()) out.push_back(std::move(row.second));
  return out;
}

Status AclStore::put_record(const std::string& kind, const std::string& key, const std::string& record) {
  if (auto st = store_->put_meta("acl_record/" + kind + "/" + key, record); !st)
    return make_error("acl: cannot save the record: " + st.message());
  return {};
}

Status AclStore::delete_record(const std::string& kind, const std::string& key) {
  const std::string meta_key = "acl_record/" + kind + "/" + key;
  if (!store_->meta(meta_key)) return make_error("\"" + key + "\" not found", Errc::NotFound);
  if (auto st = store_->delete_meta(meta_key); !st)
    return make_error("acl: cannot delete the record: " + st.message());
  return {};
}

Status AclStore::save_roles_locked() {
  json arr = json::array();
  for (const auto& r : roles_) arr.push_back(role_json(r));
  if (auto st = store_->put_meta(kRolesMetaKey, json_text(arr)); !st)
    return make_error("acl: cannot save roles: " + st.message());
  return {};
}

Status AclStore::save_policies_locked() {
  json arr = json::array();
  for (const auto& p : policies_) arr.push_back(policy_json(p));
  if (auto st = store_->put_meta(kPoliciesMetaKey, json_text(arr)); !st)
    return make_error("acl: cannot save policies: " + st.message());
  return {};
}

Status AclStore::save_locked() {
  json arr = json::array();
  for (const auto& e : tokens_) arr.push_back(stored_token_json(e));
  if (auto st = store_->put_meta(kMetaKey, json_text(arr)); !st)
    return make_error("acl: cannot save tokens: " + st.message());
  return {};
}

void register_acl_endpoints(httplib::Server& s, TokenStore& acl) {
  register_auth_endpoints(s, acl);
  s.Post("/v1/acl/token", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return reply_error(res, 400, "body: must be a JSON object {\"Name\", \"Policy\"}");
    // A built-in policy (Policy, or Policies of one built-in name, or Type management), or a
    // client token of ACL policies (Policies of their names).
    std::string policy = body.contains("Policy") && body["Policy"].is_string() ? body["Policy"].get<std::string>() : "";
    std::vector<std::string> named;
    const std::string type =
        body.contains("Type") && body["Type"].is_string() ? body["Type"].get<std::string>() : "";
    if (!type.empty() && type != "client" && type != "management")
      return reply_error(res, 400, "Type: \"" + type + "\" is not one of client, management");
    if (type == "management") {
      if (body.contains("Policies") && body["Policies"].is_array() && !body["Policies"].empty())
        return reply_error(res, 400, "Policies: a management token has none");
      policy = "management";
    }
    if (policy.empty() && body.contains("Policies") && !body["Policies"].is_null()) {
      if (!body["Policies"].is_array())
        return reply_error(res, 400, "Policies: must be a list of policy names");
      for (const auto& n : body["Policies"]) {
        if (!n.is_string())
          return reply_error(res, 400, "Policies: must be a list of policy names");
        named.push_back(n.get<std::string>());
      }
      if (named.size() == 1 && parse_policy(named.front())) {
        policy = named.front();
        named.clear();
      }
    }
    // Roles by ID or Name, as Nomad's: [{"ID": ...}] or [{"Name": ...}].
    std::vector<TokenInfo::RoleLink> links;
    if (body.contains("Roles") && !body["Roles"].is_null() && !body["Roles"].empty()) {
      if (!body["Roles"].is_array())
        return reply_error(res, 400, "Roles: must be a list of {\"ID\"} or {\"Name\"}");
      if (!policy.empty())
        return reply_error(res, 400, "Roles: a token of a built-in policy holds nothing else");
      auto known_roles = acl.roles();
      if (!known_roles) return reply_error(res, 503, known_roles.message());
      for (const auto& r : body["Roles"]) {
        const std::string id = r.is_object() ? r.value("ID", std::string()) : "";
        const std::string role_name = r.is_object() ? r.value("Name", std::string()) : "";
        auto it =
            std::find_if(known_roles->begin(), known_roles->end(), [&](const AclRoleRecord& k) {
              return (!id.empty() && k.id == id) ||
                     (id.empty() && !role_name.empty() && k.name == role_name);
            });
        if (it == known_roles->end())
          return reply_error(
              res, 400,
              "Roles: no ACL role " +
                  (id.empty() ? "is named \"" + role_name + "\"" : "has ID \"" + id + "\"") +
                  " (create it first: drover acl role create)");
        links.push_back({it->id, it->name});
      }
    }
    std::optional<Policy> p;
    if (named.empty() && links.empty()) {
      p = parse_policy(policy);
      if (!p)
        return reply_error(res, 400,
                           "Policy: \"" + policy +
                               "\" is not one of read, submit, operate, management "
                               "(or give Policies: the names of ACL policies)");
    } else {
      auto known = acl.policies();
      if (!known) return reply_error(res, 503, known.message());
      for (const auto& n : named) {
        if (parse_policy(n))
          return reply_error(
              res, 400, "Policies: \"" + n + "\" is a built-in policy, which a token holds alone");
        if (std::none_of(known->begin(), known->end(),
                         [&](const AclPolicyRecord& k) { return k.name == n; }))
          return reply_error(res, 400,
                             "Policies: no ACL policy is named \"" + n +
                                 "\" (create it first: drover acl policy apply)");
      }
    }
    std::string name = body.contains("Name") && body["Name"].is_string() ? body["Name"].get<std::string>() : "";
    if (name.size() > 256) return reply_error(res, 400, "Name: longer than 256 characters");
    std::chrono::nanoseconds ttl{};
    if (body.contains("ExpirationTTL") && !body["ExpirationTTL"].is_null()) {
      auto t = read_ttl(body["ExpirationTTL"]);
      if (!t || (t->count() > 0 && *t < std::chrono::seconds(1)))
        return reply_error(res, 400,
                           "ExpirationTTL: must be a duration of at least 1s, such as \"8h\" "
                           "(or nanoseconds), or 0 for a token that does not expire");
      ttl = *t;
    }
    auto made = acl.create(name, p.value_or(Policy::read), ttl, named, links);
    if (!made) return reply_error(res, 500, made.message());
    auto j = token_json(made->first);
    j["SecretID"] = made->second;
    reply_json(res, j);
  });
  s.Get("/v1/acl/tokens", [&acl](const httplib::Request&, httplib::Response& res) {
    json out = json::array();
    auto tokens = acl.list();
    if (!tokens) return reply_error(res, 503, tokens.message());
    for (const auto& t : tokens.value()) out.push_back(token_json(t));
    reply_json(res, out);
  });
  s.Delete(R"(/v1/acl/token/([^/]+))", [&acl](const httplib::Request& req, httplib::Response& res) {
    std::string message;
    switch (acl.revoke(req.matches[1], &message)) {
      case TokenStore::RevokeError::none:
        break;
      case TokenStore::RevokeError::not_found:
        return reply_error(res, 404, message);
      case TokenStore::RevokeError::last_management:
        return reply_error(res, 409, message);
      case TokenStore::RevokeError::store:
        return reply_error(res, 500, message);
    }
    reply_json(res, json::object());
  });
  s.Get("/v1/acl/token/self", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto t = acl.authenticate(request_token(req.get_header_value("X-Nomad-Token"),
                                            req.get_header_value("Authorization")));
    if (!t) return reply_error(res, 403, "Permission denied: no valid token");
    reply_json(res, token_json(*t));
  });
  // drover's: what this token may do in one namespace, for the web UI to offer only that. A
  // client token's namespace capabilities and node, agent and operator levels; a built-in
  // token's Policy (the same in every namespace).
  s.Get("/v1/acl/token/self/capabilities", [&acl](const httplib::Request& req,
                                                  httplib::Response& res) {
    auto t = acl.authenticate(request_token(req.get_header_value("X-Nomad-Token"),
                                            req.get_header_value("Authorization")));
    if (!t) return reply_error(res, 403, "Permission denied: no valid token");
    std::string ns = req.get_param_value("namespace");
    if (ns.empty()) ns = std::string(kDefaultNamespace);
    json out = {{"Namespace", ns}};
    if (!t->client()) {
      out["Policy"] = policy_name(t->policy);
      return reply_json(res, out);
    }
    out["Capabilities"] = t->acl->namespace_capabilities(ns);
    for (const auto& [field, level] : {std::pair{"Node", "node"}, std::pair{"Agent", "agent"},
                                       std::pair{"Operator", "operator"}})
      out[field] = t->acl->allow_level(level, "write")  ? "write"
                   : t->acl->allow_level(level, "read") ? "read"
                                                        : "deny";
    reply_json(res, out);
  });
  s.Get("/v1/acl/policies", [&acl](const httplib::Request&, httplib::Response& res) {
    auto list = acl.policies();
    if (!list) return reply_error(res, 503, list.message());
    json out = json::array();
    for (const auto& p : list.value()) {
      auto j = policy_json(p);
      j.erase("Rules");  // Nomad's list stubs
      out.push_back(std::move(j));
    }
    reply_json(res, out);
  });
  s.Get(R"(/v1/acl/policy/([^/]+))", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto list = acl.policies();
    if (!list) return reply_error(res, 503, list.message());
    for (const auto& p : list.value())
      if (p.name == std::string(req.matches[1])) return reply_json(res, policy_json(p));
    reply_error(res, 404, "ACL policy \"" + std::string(req.matches[1]) + "\" not found");
  });
  auto put_policy = [&acl](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    if (auto problem = policy_name_problem(name)) return reply_error(res, 400, *problem);
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return reply_error(res, 400,
                         "body: must be a JSON object {\"Name\", \"Description\", \"Rules\"}");
    if (body.contains("Name") &&
        !(body["Name"].is_string() && body["Name"].get<std::string>() == name))
      return reply_error(res, 400,
                         "Name: must be the policy's name in the path (\"" + name + "\")");
    if (!body.contains("Rules") || !body["Rules"].is_string())
      return reply_error(res, 400, "Rules: the policy's rules (HCL or JSON) are required");
    AclPolicyRecord p;
    p.name = name;
    p.rules = body["Rules"].get<std::string>();
    if (body.contains("Description") && body["Description"].is_string())
      p.description = body["Description"].get<std::string>();
    if (p.description.size() > 1024)
      return reply_error(res, 400, "Description: longer than 1024 characters");
    if (body.contains("JobACL")) {
      auto job = job_acl_from_json(body["JobACL"]);
      if (!job) return reply_error(res, 400, job.message());
      p.job_acl = job.value();
    }
    auto rules = parse_acl_rules(p.rules);
    if (!rules) return reply_error(res, 400, "Rules: " + rules.message());
    p.parsed = std::make_shared<const AclRules>(std::move(rules.value()));
    p.create_time_ns = p.modify_time_ns = state::now_ns();
    if (auto st = acl.put_policy(p); !st) return reply_error(res, 503, st.message());
    reply_json(res, json::object());
  };
  s.Post(R"(/v1/acl/policy/([^/]+))", put_policy);
  s.Put(R"(/v1/acl/policy/([^/]+))", put_policy);
  s.Delete(R"(/v1/acl/policy/([^/]+))",
           [&acl](const httplib::Request& req, httplib::Response& res) {
             if (auto st = acl.delete_policy(req.matches[1]); !st)
               return reply_error(res, st.code() == Errc::NotFound ? 404 : 503, st.message());
             reply_json(res, json::object());
           });
  // Roles (Nomad's /v1/acl/role): a name for a set of policies.
  s.Get("/v1/acl/roles", [&acl](const httplib::Request&, httplib::Response& res) {
    auto list = acl.roles();
    if (!list) return reply_error(res, 503, list.message());
    json out = json::array();
    for (const auto& r : list.value()) out.push_back(role_json(r));
    reply_json(res, out);
  });
  auto find_role = [&acl](const std::function<bool(const AclRoleRecord&)>& match,
                          const std::string& what, httplib::Response& res) {
    auto list = acl.roles();
    if (!list) return reply_error(res, 503, list.message());
    for (const auto& r : list.value())
      if (match(r)) return reply_json(res, role_json(r));
    reply_error(res, 404, "ACL role " + what + " not found");
  };
  s.Get(R"(/v1/acl/role/name/([^/]+))",
        [find_role](const httplib::Request& req, httplib::Response& res) {
          const std::string name = req.matches[1];
          find_role([&](const AclRoleRecord& r) { return r.name == name; },
                    "named \"" + name + "\"", res);
        });
  s.Get(R"(/v1/acl/role/([^/]+))",
        [find_role](const httplib::Request& req, httplib::Response& res) {
          const std::string id = req.matches[1];
          find_role([&](const AclRoleRecord& r) { return r.id == id; }, "\"" + id + "\"", res);
        });
  // POST /v1/acl/role makes one; POST /v1/acl/role/:id replaces it (Nomad's update).
  auto write_role = [&acl](const httplib::Request& req, httplib::Response& res) {
    const std::string path_id = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return reply_error(res, 400,
                         "body: must be a JSON object {\"Name\", \"Policies\": [{\"Name\"}]}");
    const std::string body_id =
        body.value("ID", json("")).is_string() ? body.value("ID", std::string()) : "";
    if (path_id.empty() && !body_id.empty())
      return reply_error(res, 400,
                         "ID: a new role's ID is made by drover; update one at /v1/acl/role/:id");
    if (!path_id.empty() && !body_id.empty() && body_id != path_id)
      return reply_error(res, 400, "ID: the body's \"" + body_id + "\" differs from the path's");
    AclRoleRecord role;
    role.name = body.value("Name", json("")).is_string() ? body.value("Name", std::string()) : "";
    static const std::regex valid_name("^[a-zA-Z0-9_-]{1,256}$");
    if (!std::regex_match(role.name, valid_name))
      return reply_error(res, 400, "Name: 1 to 256 letters, digits, '-' or '_'");
    if (body.value("Description", json("")).is_string())
      role.description = body.value("Description", std::string());
    if (role.description.size() > 256)
      return reply_error(res, 400, "Description: longer than 256 characters");
    auto known = acl.policies();
    if (!known) return reply_error(res, 503, known.message());
    const json ps = body.value("Policies", json());
    if (!ps.is_array() || ps.empty())
      return reply_error(res, 400, "Policies: a role holds at least one policy, [{\"Name\": ...}]");
    for (const auto& e : ps) {
      const std::string n = e.is_object() ? e.value("Name", std::string()) : "";
      if (std::none_of(known->begin(), known->end(),
                       [&](const AclPolicyRecord& k) { return k.name == n; }))
        return reply_error(res, 400, "Policies: no ACL policy is named \"" + n + "\"");
      role.policies.push_back(n);
    }
    auto roles = acl.roles();
    if (!roles) return reply_error(res, 503, roles.message());
    const AclRoleRecord* old = nullptr;
    for (const auto& r : roles.value()) {
      if (r.name == role.name && r.id != path_id)
        return reply_error(res, 400,
                           "Name: a role named \"" + role.name + "\" exists (" + r.id + ")");
      if (r.id == path_id) old = &r;
    }
    if (!path_id.empty() && !old)
      return reply_error(res, 404, "ACL role \"" + path_id + "\" not found");
    role.id = old ? old->id : random_uuid();
    role.modify_time_ns = state::now_ns();
    role.create_time_ns = old ? old->create_time_ns : role.modify_time_ns;
    if (auto st = acl.put_role(role); !st) return reply_error(res, 503, st.message());
    reply_json(res, role_json(role));
  };
  s.Post("/v1/acl/role", write_role);
  s.Put("/v1/acl/role", write_role);
  s.Post(R"(/v1/acl/role/([^/]+))", write_role);
  s.Put(R"(/v1/acl/role/([^/]+))", write_role);
  s.Delete(R"(/v1/acl/role/([^/]+))", [&acl](const httplib::Request& req, httplib::Response& res) {
    if (auto st = acl.delete_role(req.matches[1]); !st)
      return reply_error(res, st.code() == Errc::NotFound ? 404 : 503, st.message());
    reply_json(res, json::object());
  });
  // After /self, which this pattern would take too.
  s.Get(R"(/v1/acl/token/([^/]+))", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto tokens = acl.list();
    if (!tokens) return reply_error(res, 503, tokens.message());
    for (const auto& t : tokens.value())
      if (t.accessor_id == std::string(req.matches[1])) return reply_json(res, token_json(t));
    reply_error(res, 404, "ACL token \"" + std::string(req.matches[1]) + "\" not found");
  });
}

bool is_loopback_address(const std::string& addr) {
  if (addr == "localhost" || addr == "::1" || addr == "[::1]") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

Status check_listen_exposure(const std::string& addr, bool acl_enabled, bool tls_enabled,
                             bool insecure_listen, std::string* warning) {
  if (is_loopback_address(addr) || acl_enabled || tls_enabled) return {};
  if (!insecure_listen)
    return make_error("bind_addr " + addr +
                      " is not a loopback address, and neither acl nor tls is enabled: anyone "
                      "who can reach it could run commands as this agent. Enable acl and/or tls "
                      "(docs/security.md), or set insecure_listen: true to accept the risk");
  if (warning)
    *warning = "the API listens on " + addr +
               " with neither tokens nor TLS (insecure_listen: true): anyone who reaches it can "
               "run commands as this agent";
  return {};
}

}  // namespace drover::api
