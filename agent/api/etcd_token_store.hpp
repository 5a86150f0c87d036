// The cluster's ACL tokens, in etcd so that every server (and every agent with ACLs of its
// own, api/agent_tokens.hpp) honours a token made on any server (docs/security.md, "Cluster"):
// one key per token, <prefix>/acl/tokens/<accessor>,
// holding the agent's stored-token JSON (the secret only as its SHA-256). Each server keeps
// them in memory, fed by a watch of that prefix, so a request's check costs no etcd call; a
// secret the copy does not know is looked up in etcd (a token made on another server a moment
// ago), and a revocation counts on every server as soon as its watch delivers it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "api/acl.hpp"
#include "upstream/upstream_config.hpp"

namespace drover::upstream {
class EtcdClient;
}

namespace drover::api {

class EtcdTokenStore : public TokenStore {
 public:
  // `resync`: how often the copy is read whole again and the watch started anew, so that a
  // watch whose connection hangs without breaking misses a revocation for that long at most.
  // `prefix`: the etcd config's (the tokens under <prefix>/acl/tokens/, the bootstrap marker
  // <prefix>/acl/bootstrap).
  EtcdTokenStore(upstream::EtcdConfig etcd,
                 std::chrono::milliseconds resync = std::chrono::seconds(30));
  ~EtcdTokenStore() override;

  std::optional<TokenInfo> authenticate(std::string_view secret) const override;
  Result<std::pair<TokenInfo, std::string>> create(
      const std::string& name, Policy policy, std::chrono::nanoseconds ttl = {},
      const std::vector<std::string>& policies = {},
      const std::vector<TokenInfo::RoleLink>& roles = {}) override;
  Result<std::vector<TokenInfo>> list() const override;
  RevokeError revoke(const std::string& accessor_id, std::string* message) override;
  // The cluster's ACL policies: <prefix>/acl/policies/<name>, copied and watched with the
  // tokens.
  Result<std::vector<AclPolicyRecord>> policies() const override;
  // From the copy while it is live (a task's request costs no etcd call).
  Result<std::vector<AclPolicyRecord>> workload_policies() const override;
  // The cluster's ACL roles: <prefix>/acl/roles/<id>, copied and watched with the tokens.
  Result<std::vector<AclRoleRecord>> roles() const override;
  Status put_role(const AclRoleRecord& role) override;
  Status delete_role(const std::string& id) override;
  // <prefix>/acl/<kind>/<key>, read from etcd when asked (a login, their endpoints).
  Result<std::vector<std::string>> records(const std::string& kind) const override;
  Status put_record(const std::string& kind, const std::string& key,
                    const std::string& record) override;
  Status delete_record(const std::string& kind, const std::string& key) override;
  bool shared() const override { return true; }
  Status put_policy(const AclPolicyRecord& policy) override;
  Status delete_policy(const std::string& name) override;

  // Makes the bootstrap management token unless one was ever made: a txn that writes it only
  // while <prefix>/acl/bootstrap is absent, so two servers never make two. Its secret when
  // this call made it; nullopt when it existed already.
  Result<std::optional<std::string>> bootstrap();

  // How many secrets were checked against etcd rather than the copy; for tests.
  uint64_t etcd_lookups() const;

 private:
  struct Snapshot {
    std::vector<StoredToken> tokens;
    std::vector<AclPolicyRecord> policies;
    std::vector<AclRoleRecord> roles;
  };
  // Tokens and policies, read in one range of <prefix>/acl/.
  Result<Snapshot> read_all(int64_t* revision = nullptr) const;
  // Fills in a client token's grants from `policies`.
  static std::optional<TokenInfo> with_acl(std::optional<TokenInfo> t,
                                           const std::vector<AclPolicyRecord>& policies,
                                           const std::vector<AclRoleRecord>& roles);
  // Keeps the copy: reads the prefix whole, follows it with a watch until the watch ends or
  // `resync_` passes, then again; while no read succeeds the copy is not used.
  void follow(std::stop_token stop);
  void remember(const StoredToken& token);

  std::string tokens_key(const std::string& accessor) const { return tokens_prefix_ + accessor; }

  upstream::EtcdConfig etcd_;
  std::string acl_prefix_, tokens_prefix_, policies_prefix_, roles_prefix_, bootstrap_key_;
  std::chrono::milliseconds resync_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::vector<StoredToken> copy_;
  std::vector<AclPolicyRecord> policies_copy_;
  std::vector<AclRoleRecord> roles_copy_;
  bool live_ = false;
  mutable uint64_t etcd_lookups_ = 0;
  std::unique_ptr<upstream::EtcdClient> watch_client_;
  std::jthread follower_;  // last: it stops and joins before the members above go
};

}  // namespace drover::api
