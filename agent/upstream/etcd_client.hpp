// A small client for etcd's v3 JSON gateway (POST /v3/...; keys and values base64) over
// cpp-httplib: several endpoints with fail-over, TLS client certs and CA, username/password
// auth (the token goes in the Authorization header), and a streaming watch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "upstream/upstream_config.hpp"

namespace httplib {
class Client;
}

namespace drover::upstream {

struct EtcdKv {
  std::string key, value;
  int64_t mod_revision = 0;
  int64_t create_revision = 0;  // set by range_prefix, compare_and_put and watch_prefix
};

// The answer of compare_and_put: whether the compare held and what the key is now.
struct EtcdCasResult {
  bool succeeded = false;
  int64_t revision = 0;
  std::optional<EtcdKv> current;  // after a put: the new kv; on failure: the stored one
};

struct EtcdRange {
  int64_t revision = 0;  // the store's revision when read
  std::vector<EtcdKv> kvs;
};

struct EtcdWatchEvent {
  bool deleted = false;
  EtcdKv kv;
};

class EtcdClient {
 public:
  explicit EtcdClient(EtcdConfig cfg);
  ~EtcdClient();

  Status put(const std::string& key, const std::string& value, int64_t lease = 0);
  // Several puts in one transaction: one write, one revision.
  Status put_all(const std::vector<std::pair<std::string, std::string>>& kvs);
  // Every key under `prefix`, or the first `limit` of them (in key order) when limit > 0.
  Result<EtcdRange> range_prefix(const std::string& prefix, int64_t limit = 0);
  Result<std::optional<std::string>> get(const std::string& key);
  Status delete_key(const std::string& key);
  // One /v3/kv/txn as etcd's gateway takes it ({compare, success, failure}, keys and values
  // already base64): the server's compare-and-swap writes (leader key, placements). The
  // reply as etcd sent it; its "succeeded" says which branch ran.
  Result<nlohmann::json> txn(const nlohmann::json& request);
  // One transaction: when `mod_revision` is set, only if the key's mod revision equals it (0:
  // only if absent), puts `value` (or deletes the key when `value` is nullopt).
  Result<EtcdCasResult> compare_and_put(const std::string& key,
                                        const std::optional<std::string>& value,
                                        std::optional<int64_t> mod_revision);
  Result<int64_t> lease_grant(std::chrono::seconds ttl);
  // The lease's remaining TTL; an error when it expired (or etcd is unreachable).
  Result<int64_t> lease_keepalive(int64_t lease);
  Status lease_revoke(int64_t lease);

  // Streams changes under `prefix` from `start_revision` until interrupt(), a broken
  // connection, or the revision being compacted (an error of kind Errc::Gone).
  Status watch_prefix(const std::string& prefix, int64_t start_revision,
                      const std::function<void(const std::vector<EtcdWatchEvent>&, int64_t)>& fn);
  void interrupt();

  // The endpoint last used successfully.
  std::string endpoint() const;

  // The key just past every key that starts with `prefix` (etcd's range_end for a prefix).
  static std::string prefix_end(const std::string& prefix);
  // The store's revision in a reply's header (a txn's: the revision its writes made), or
  // nothing when the reply has none.
  static std::optional<int64_t> header_revision(const nlohmann::json& reply);

 private:
  std::unique_ptr<httplib::Client> make_client(const std::string& endpoint,
                                               std::chrono::milliseconds read_timeout) const;
  // POSTs to the current endpoint, failing over to the next on a connection error and
  // authenticating again when the token expired.
  Result<nlohmann::json> call(const std::string& path, const nlohmann::json& body);
  Status authenticate(httplib::Client& c);

  EtcdConfig cfg_;
  mutable std::mutex mu_;
  std::size_t current_ = 0;
  std::string token_;
  httplib::Client* watching_ = nullptr;
  std::atomic<bool> interrupted_{false};
};

int64_t json_int(const nlohmann::json& j, const char* key);

}  // namespace drover::upstream
