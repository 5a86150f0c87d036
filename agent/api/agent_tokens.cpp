// An agent's own tokens and the cluster's; see agent_tokens.hpp.
#include "api/agent_tokens.hpp"

namespace drover::api {

std::optional<TokenInfo> AgentTokens::authenticate(std::string_view secret) const {
  if (auto mine = own_.authenticate(secret)) return mine;
  return cluster_ ? cluster_->authenticate(secret) : std::nullopt;
}

Result<std::pair<TokenInfo, std::string>> AgentTokens::create(const std::string& name,
                                                               Policy policy,
                                                               std::chrono::nanoseconds ttl) {
  return own_.create(name, policy, ttl);
}

Result<std::vector<TokenInfo>> AgentTokens::list() const { return own_.list(); }

TokenStore::RevokeError AgentTokens::revoke(const std::string& accessor_id,
                                            std::string* message) {
  return own_.revoke(accessor_id, message);
}

}  // namespace drover::api
