// An agent's own tokens and the cluster's; see agent_tokens.hpp.
#include "api/agent_tokens.hpp"

namespace drover::api {

std::optional<TokenInfo> AgentTokens::authenticate(std::string_view secret) const {
  if (auto mine = own_.authenticate(secret)) return mine;
  return cluster_ ? cluster_->authenticate(secret) : std::nullopt;
}

Result<std::pair<TokenInfo, std::string>> AgentTokens::create(
    const std::string& name, Policy policy, std::chrono::nanoseconds ttl,
    const std::vector<std::string>& policies, const std::vector<TokenInfo::RoleLink>& roles) {
  return own_.create(name, policy, ttl, policies, roles);
}

Result<std::vector<TokenInfo>> AgentTokens::list() const { return own_.list(); }

TokenStore::RevokeError AgentTokens::revoke(const std::string& accessor_id,
                                            std::string* message) {
  return own_.revoke(accessor_id, message);
}

// The agent's own policies, which its own tokens hold; a cluster token's policies are the
// cluster's, which its store reads when it authenticates it.
Result<std::vector<AclPolicyRecord>> AgentTokens::policies() const { return own_.policies(); }
Result<std::vector<AclPolicyRecord>> AgentTokens::workload_policies() const {
  auto mine = own_.policies();
  if (!mine || !cluster_) return mine;
  auto theirs = cluster_->workload_policies();
  if (!theirs) return theirs.error();
  auto all = std::move(mine.value());
  all.insert(all.end(), theirs->begin(), theirs->end());
  return all;
}

Status AgentTokens::put_policy(const AclPolicyRecord& policy) { return own_.put_policy(policy); }
Status AgentTokens::delete_policy(const std::string& name) { return own_.delete_policy(name); }

Result<std::vector<AclRoleRecord>> AgentTokens::roles() const { return own_.roles(); }
Status AgentTokens::put_role(const AclRoleRecord& role) { return own_.put_role(role); }
Status AgentTokens::delete_role(const std::string& id) { return own_.delete_role(id); }
Result<std::vector<std::string>> AgentTokens::records(const std::string& kind) const {
  return own_.records(kind);
}
Status AgentTokens::put_record(const std::string& kind, const std::string& key,
                               const std::string& record) {
  return own_.put_record(kind, key, record);
}
Status AgentTokens::delete_record(const std::string& kind, const std::string& key) {
  return own_.delete_record(kind, key);
}

}  // namespace drover::api
