// An agent's tokens in cluster mode (docs/security.md, "Cluster"): its own (the state store,
// AclStore) and the cluster's (etcd, made on any `drover server`), so that a token the
// servers made counts here too, as Nomad's clients honour the cluster's tokens. A request
// the server forwards to the node (alloc logs, exec, stats) carries the caller's token, and
// this agent checks it by the same policy table. The agent's own token endpoints make, list
// and revoke its own tokens only; the cluster's are managed on a server.
#pragma once

#include "api/acl.hpp"

namespace drover::api {

class AgentTokens : public TokenStore {
 public:
  // `cluster` may be null (a standalone agent): then this is `own` alone.
  AgentTokens(TokenStore& own, const TokenStore* cluster) : own_(own), cluster_(cluster) {}

  // Its own tokens first (no etcd call for them), then the cluster's.
  std::optional<TokenInfo> authenticate(std::string_view secret) const override;
  Result<std::pair<TokenInfo, std::string>> create(
      const std::string& name, Policy policy, std::chrono::nanoseconds ttl = {},
      const std::vector<std::string>& policies = {},
      const std::vector<TokenInfo::RoleLink>& roles = {}) override;
  Result<std::vector<TokenInfo>> list() const override;
  RevokeError revoke(const std::string& accessor_id, std::string* message) override;
  Result<std::vector<AclPolicyRecord>> policies() const override;
  // Its own and the cluster's: a job's policies may be made on the servers.
  Result<std::vector<AclPolicyRecord>> workload_policies() const override;
  Status put_policy(const AclPolicyRecord& policy) override;
  Status delete_policy(const std::string& name) override;
  Result<std::vector<AclRoleRecord>> roles() const override;
  Status put_role(const AclRoleRecord& role) override;
  Status delete_role(const std::string& id) override;
  // Its own: a login here makes one of its own tokens.
  Result<std::vector<std::string>> records(const std::string& kind) const override;
  Status put_record(const std::string& kind, const std::string& key,
                    const std::string& record) override;
  Status delete_record(const std::string& kind, const std::string& key) override;

 private:
  TokenStore& own_;
  const TokenStore* cluster_;
};

}  // namespace drover::api
