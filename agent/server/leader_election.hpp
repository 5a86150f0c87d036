// Which server is the leader, through etcd alone: each server holds a lease of leader_ttl
// and tries a transaction "create <prefix>/leader with my lease if it does not exist"; the
// one that wrote it leads while it keeps its lease alive, the others read who leads. A
// leader that dies stops renewing, etcd drops the key with the lease within the TTL, and the
// next try of another server takes it (docs/cluster.md, "Leader election"). The same lease
// holds this server's member key, so /v1/agent/members lists the live servers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <string>

#include "server/keys.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

class LeaderElection {
 public:
  // `me` is this server's leader value (its name and HTTP address as JSON); `member` its
  // member key's value.
  LeaderElection(upstream::EtcdConfig cfg, Keys keys, std::string name, std::string me,
                 std::string member, std::chrono::seconds ttl);

  // Campaigns and keeps the lease alive until `stop`; then gives the lease back so that
  // another server takes over at once instead of after the TTL.
  void run(std::stop_token stop);

  bool is_leader() const;
  const std::string& me() const { return me_; }
  // The leader key's value as last read ("" when there is none or etcd is unreachable).
  std::string leader_value() const;

 private:
  bool campaign();  // one try; true when this server leads
  void set(bool leader, std::string value);

  upstream::EtcdClient etcd_;
  Keys keys_;
  std::string name_, me_, member_;
  std::chrono::seconds ttl_;
  int64_t lease_ = 0;
  mutable std::mutex mu_;
  bool leader_ = false;
  std::string leader_value_;
};

// The compares that hold while the server whose leader value is `me` still leads in the term
// that began at `created` (the leader key's value and create revision, as read): a write
// guarded by them is void after a leadership lost and taken again, with another leader's
// writes in between.
nlohmann::json leader_term(const Keys& keys, const std::string& me, int64_t created);

}  // namespace drover::server
