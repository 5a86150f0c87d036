// API tokens and their policies: who may call which endpoint. Secrets are stored only as
// SHA-256 hashes (an agent's in its state store's meta table, the servers' in etcd) and
// compared in constant time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/acl_policy.hpp"
#include "drover/common/result.hpp"

namespace httplib {
class Server;
}
namespace drover::state {
class StateStore;
}

namespace drover::api {

// Ordered: each policy allows everything the ones before it allow.
//   read: every GET but exec; submit: jobs, deployments and alloc stop/restart/signal; operate: gc,
//   plugins, nodes (drain, eligibility), the operator's endpoints; management: tokens.
enum class Policy { read = 0, submit = 1, operate = 2, management = 3 };

std::optional<Policy> parse_policy(std::string_view name);
const char* policy_name(Policy p);

// The policy a request needs, by method and path; nullopt for the endpoints that stay open
// (/v1/agent/health, so load balancers and systemd can probe without a secret).
std::optional<Policy> required_policy(std::string_view method, std::string_view path);

struct TokenInfo {
  std::string accessor_id;  // public: names the token in lists and logs
  std::string name;
  Policy policy = Policy::read;  // a built-in policy's level; unused when `policies` is set
  std::int64_t create_time_ns = 0;
  std::int64_t expiration_time_ns = 0;  // 0: never (Nomad's ExpirationTime)
  // A client token of Nomad ACL policies (acl_policy.hpp), by name, and of ACL roles (each
  // a set of policies); both empty for a token of a built-in policy. `acl` is what they grant,
  // filled in by authenticate() from the store's policies and roles (a name no policy has, a
  // role no longer there, grants nothing).
  std::vector<std::string> policies;
  std::shared_ptr<const Acl> acl;
  struct RoleLink {
    std::string id, name;
  };
  std::vector<RoleLink> roles;
  bool client() const { return !policies.empty() || !roles.empty(); }
};

// An ACL role (Nomad's `acl role create`): a name for a set of policies that tokens hold.
struct AclRoleRecord {
  std::string id;  // made when it is created
  std::string name;
  std::string description;
  std::vector<std::string> policies;
  std::int64_t create_time_ns = 0;
  std::int64_t modify_time_ns = 0;
};

// An ACL policy as stored and as GET /v1/acl/policy/:name shows it.
struct AclPolicyRecord {
  std::string name;
  std::string description;
  std::string rules;  // as written (HCL or JSON)
  std::int64_t create_time_ns = 0;
  std::int64_t modify_time_ns = 0;
  std::shared_ptr<const AclRules> parsed;  // `rules` read
  // Nomad's JobACL: the policy is a job's (a group's, a task's) workload identities', not a
  // token's (`acl policy apply -namespace NS -job JOB [-group G [-task T]]`).
  struct JobAcl {
    std::string ns, job_id, group, task;
  };
  std::optional<JobAcl> job_acl;
};

// What the API asks of wherever tokens are kept: the agent's state store (AclStore below) or,
// for `drover server`, etcd (api/etcd_token_store.hpp).
class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // The token whose secret this is, or nullopt (also once it expired).
  virtual std::optional<TokenInfo> authenticate(std::string_view secret) const = 0;
  // A new token; returns it and its secret (shown once, then only its hash is kept).
  // `ttl` > 0: the token expires that long from now (Nomad's ExpirationTTL). `policies`
  // non-empty: a client token of those ACL policies (`policy` is then unused).
  virtual Result<std::pair<TokenInfo, std::string>> create(
      const std::string& name, Policy policy, std::chrono::nanoseconds ttl = {},
      const std::vector<std::string>& policies = {},
      const std::vector<TokenInfo::RoleLink>& roles = {}) = 0;
  virtual Result<std::vector<TokenInfo>> list() const = 0;
  // Removes the token with this accessor id: its secret is refused from then on. The last
  // management token is kept (without it no one could make or revoke tokens again).
  enum class RevokeError { none, not_found, last_management, store };
  virtual RevokeError revoke(const std::string& accessor_id, std::string* message) = 0;

  // ACL policies (Nomad's `acl policy apply/list/info/delete`).
  virtual Result<std::vector<AclPolicyRecord>> policies() const = 0;
  // The policies that may be attached to a job's workload identities: these, and on an agent
  // in a cluster the cluster's too.
  virtual Result<std::vector<AclPolicyRecord>> workload_policies() const { return policies(); }
  // Creates or replaces the policy of this name (its rules already read into `parsed`).
  virtual Status put_policy(const AclPolicyRecord& policy) = 0;
  // NotFound when there is none of that name.
  virtual Status delete_policy(const std::string& name) = 0;

  // ACL roles (Nomad's `acl role create/list/info/update/delete`).
  virtual Result<std::vector<AclRoleRecord>> roles() const = 0;
  // Creates or replaces the role of this id.
  virtual Status put_role(const AclRoleRecord& role) = 0;
  // NotFound when there is none of that id.
  virtual Status delete_role(const std::string& id) = 0;

  // Nomad's auth methods and binding rules (auth/auth_method.hpp), kept as their JSON records'
  // text by kind (kAuthMethods, kBindingRules) and key (a method's Name, a rule's ID). Read only by
  // their endpoints and by a login, never on a request's check, so not copied in memory.
  virtual Result<std::vector<std::string>> records(const std::string& kind) const = 0;
  // Creates or replaces the record of this kind and key.
  virtual Status put_record(const std::string& kind, const std::string& key,
                            const std::string& record) = 0;
  // NotFound when there is none.
  virtual Status delete_record(const std::string& kind, const std::string& key) = 0;
  // Whether other processes read and write these records too (the servers' etcd store): what
  // one server begins, another may finish (an OIDC sign-in, api/oidc_endpoints.hpp).
  virtual bool shared() const { return false; }
};

inline constexpr const char* kAuthMethods = "auth_methods";
inline constexpr const char* kBindingRules = "binding_rules";

// Nomad's token JSON ({AccessorID, Name, Type, Policies, Roles, CreateTime, ExpirationTime});
// the secret is the caller's to add.
nlohmann::json token_json(const TokenInfo& t);

// A role as JSON (Nomad's: {ID, Name, Description, Policies: [{Name}], CreateTime, ModifyTime})
// and back; nullopt for a record that is not one.
nlohmann::json role_json(const AclRoleRecord& r);
std::optional<AclRoleRecord> role_from_json(const nlohmann::json& j);
// What a client token's policies and roles grant, of `policies` and `roles` known.
std::shared_ptr<const Acl> token_acl(const TokenInfo& token,
                                     const std::vector<AclPolicyRecord>& policies,
                                     const std::vector<AclRoleRecord>& roles);

// A stored policy as JSON ({Name, Description, Rules, CreateTime, ModifyTime}) and back;
// nullopt for a record that is not one or whose rules no longer read.
nlohmann::json policy_json(const AclPolicyRecord& p);
std::optional<AclPolicyRecord> policy_from_json(const nlohmann::json& j);
// What `names` grant, of `known`; names that are not there grant nothing.
std::shared_ptr<const Acl> acl_of(const std::vector<std::string>& names,
                                  const std::vector<AclPolicyRecord>& known);
// What the policies attached to a task's job, group or task grant its workload identity;
// null when none is.
std::shared_ptr<const Acl> workload_acl(const std::vector<AclPolicyRecord>& known,
                                        const std::string& ns, const std::string& job_id,
                                        const std::string& group, const std::string& task);
// A policy name as Nomad allows it ([a-zA-Z0-9-], 1-128), and not the name of a built-in
// policy (read, submit, operate, management), which a token's Policies would mean instead.
std::optional<std::string> policy_name_problem(const std::string& name);

// A token as stored: its public part and the SHA-256 of its secret (raw 32 bytes).
struct StoredToken {
  TokenInfo info;
  std::string secret_hash;
};

// A stored token as JSON (the public fields, SecretHash in hex, ExpirationTimeNs) and back;
// nullopt for a record that is not one.
nlohmann::json stored_token_json(const StoredToken& t);
std::optional<StoredToken> stored_token_from_json(const nlohmann::json& j);

// A new token with fresh random accessor id and secret; returns it and the secret.
std::pair<StoredToken, std::string> mint_token(const std::string& name, Policy policy,
                                               std::chrono::nanoseconds ttl,
                                               const std::vector<std::string>& policies = {},
                                               const std::vector<TokenInfo::RoleLink>& roles = {});
// Every stored hash compared, each in constant time, so the answer's timing says nothing about
// how close a guess was; an expired token is no token.
std::optional<TokenInfo> match_token(const std::vector<StoredToken>& tokens,
                                     std::string_view secret);
// Whether removing the token `accessor_id` would leave no live management token.
bool is_last_management(const std::vector<StoredToken>& tokens, const std::string& accessor_id);

// The token store of one agent, in its state store's meta table.
class AclStore : public TokenStore {
 public:
  // Loads the tokens. When there are none yet, makes the bootstrap management token and puts
  // its secret in *bootstrap_secret (the only time it exists in clear).
  static Result<std::unique_ptr<AclStore>> open(state::StateStore* store,
                                                std::string* bootstrap_secret);

  std::optional<TokenInfo> authenticate(std::string_view secret) const override;
  Result<std::pair<TokenInfo, std::string>> create(
      const std::string& name, Policy policy, std::chrono::nanoseconds ttl = {},
      const std::vector<std::string>& policies = {},
      const std::vector<TokenInfo::RoleLink>& roles = {}) override;
  Result<std::vector<TokenInfo>> list() const override;
  RevokeError revoke(const std::string& accessor_id, std::string* message) override;
  Result<std::vector<AclPolicyRecord>> policies() const override;
  Status put_policy(const AclPolicyRecord& policy) override;
  Status delete_policy(const std::string& name) override;
  Result<std::vector<AclRoleRecord>> roles() const override;
  Status put_role(const AclRoleRecord& role) override;
  Status delete_role(const std::string& id) override;
  Result<std::vector<std::string>> records(const std::string& kind) const override;
  Status put_record(const std::string& kind, const std::string& key,
                    const std::string& record) override;
  Status delete_record(const std::string& kind, const std::string& key) override;

 private:
  Status save_locked();
  Status save_policies_locked();
  Status save_roles_locked();
  explicit AclStore(state::StateStore* store) : store_(store) {}
  state::StateStore* store_;
  mutable std::mutex mu_;
  std::vector<StoredToken> tokens_;
  std::vector<AclPolicyRecord> policies_;
  std::vector<AclRoleRecord> roles_;
};

// The secret a request carries: X-Nomad-Token, or Authorization: Bearer <secret>.
std::string request_token(std::string_view nomad_token_header, std::string_view authorization);

// POST /v1/acl/token {Name, Policy | Type + Policies, ExpirationTTL} -> {AccessorID, SecretID,
// ...}; GET /v1/acl/tokens; GET /v1/acl/token/self; GET and DELETE /v1/acl/token/:accessor_id;
// GET /v1/acl/policies; GET, POST/PUT and DELETE /v1/acl/policy/:name. The pre-routing check
// has already required management (self: any).
void register_acl_endpoints(httplib::Server& server, TokenStore& acl);

// Whether binding `addr` keeps the API on this host (127.0.0.0/8, ::1, localhost).
bool is_loopback_address(const std::string& addr);

// The refusal to expose an unauthenticated, unencrypted API: an error when `addr` is not
// loopback and neither tokens nor TLS are on, unless insecure_listen; then *warning says so.
Status check_listen_exposure(const std::string& addr, bool acl_enabled, bool tls_enabled,
                             bool insecure_listen, std::string* warning);

}  // namespace drover::api
