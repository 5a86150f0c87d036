// The servers' ACL tokens, in etcd so that every server honours a token made on any one
// (docs/security.md, "Cluster tokens"): one key per token, <prefix>/acl/tokens/<accessor>,
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
#include "server/keys.hpp"
#include "upstream/upstream_config.hpp"

namespace drover::upstream {
class EtcdClient;
}

namespace drover::server {

class LeaderElection;

class EtcdTokenStore : public api::TokenStore {
 public:
  // `resync`: how often the copy is read whole again and the watch started anew, so that a
  // watch whose connection hangs without breaking misses a revocation for that long at most.
  EtcdTokenStore(upstream::EtcdConfig etcd, Keys keys,
                 std::chrono::milliseconds resync = std::chrono::seconds(30));
  ~EtcdTokenStore() override;

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

  // How many secrets were checked against etcd rather than the copy; for tests.
  uint64_t etcd_lookups() const;

 private:
  Result<std::vector<api::StoredToken>> read_all(int64_t* revision = nullptr) const;
  // Keeps the copy: reads the prefix whole, follows it with a watch until the watch ends or
  // `resync_` passes, then again; while no read succeeds the copy is not used.
  void follow(std::stop_token stop);
  void remember(const api::StoredToken& token);

  upstream::EtcdConfig etcd_;
  Keys keys_;
  std::chrono::milliseconds resync_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::vector<api::StoredToken> copy_;
  bool live_ = false;
  mutable uint64_t etcd_lookups_ = 0;
  std::unique_ptr<upstream::EtcdClient> watch_client_;
  std::jthread follower_;  // last: it stops and joins before the members above go
};

// The first leader's duty: once this server leads, bootstrap() until etcd answers; a secret it
// made is logged once and written (mode 0600) to `token_file` when one is named.
void bootstrap_when_leader(std::stop_token stop, const LeaderElection& election,
                           EtcdTokenStore& tokens, const std::string& token_file);

}  // namespace drover::server
