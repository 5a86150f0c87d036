// The servers' ACL tokens, in etcd so that every server honours a token made on any one
// (docs/security.md, "Cluster tokens"): one key per token, <prefix>/acl/tokens/<accessor>,
// holding the agent's stored-token JSON (the secret only as its SHA-256). Each check reads the
// keys again, so a token made or revoked on one server counts on all at once.
#pragma once

#include <stop_token>
#include <string>

#include "api/acl.hpp"
#include "server/keys.hpp"
#include "upstream/upstream_config.hpp"

namespace drover::server {

class LeaderElection;

class EtcdTokenStore : public api::TokenStore {
 public:
  EtcdTokenStore(upstream::EtcdConfig etcd, Keys keys);

  std::optional<api::TokenInfo> authenticate(std::string_view secret) const override;
  Result<std::pair<api::TokenInfo, std::string>> create(const std::string& name,
                                                        api::Policy policy,
                                                        std::chrono::nanoseconds ttl = {}) override;
  Result<std::vector<api::TokenInfo>> list() const override;
  RevokeError revoke(const std::string& accessor_id, std::string* message) override;

  // Makes the bootstrap management token unless one was ever made: a txn that writes it only
  // while <prefix>/acl/bootstrap is absent, so two servers never make two. Its secret when
  // this call made it; nullopt when it existed already.
  Result<std::optional<std::string>> bootstrap();

 private:
  Result<std::vector<api::StoredToken>> read_all() const;
  upstream::EtcdConfig etcd_;
  Keys keys_;
};

// The first leader's duty: once this server leads, bootstrap() until etcd answers; a secret it
// made is logged once and written (mode 0600) to `token_file` when one is named.
void bootstrap_when_leader(std::stop_token stop, const LeaderElection& election,
                           EtcdTokenStore& tokens, const std::string& token_file);

}  // namespace drover::server
