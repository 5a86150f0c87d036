// A small client for etcd's v3 API over gRPC (upstream/etcd_rpc.proto): several endpoints
// with fail-over, TLS client certs and CA, username/password auth (the token goes in each
// call's metadata), and a streaming watch. gRPC rather than etcd's JSON gateway: the gateway's
// JSON took more than half of etcd's CPU under a server's load (docs/cluster.md, "Config").
// gRPC itself lives in a module loaded on first use (etcd_module.hpp), not in the binary.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "upstream/upstream_config.hpp"

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

using EtcdWatchFn = std::function<void(const std::vector<EtcdWatchEvent>&, int64_t)>;

// What speaks to etcd, for EtcdClient: etcd's v3 API over gRPC, in the etcd module
// (etcd_module.hpp) that the process loads on its first EtcdClient. Each method is
// EtcdClient's of the same name.
class EtcdTransport {
 public:
  virtual ~EtcdTransport() = default;
  virtual Status put(const std::string& key, const std::string& value, int64_t lease) = 0;
  virtual Status put_all(const std::vector<std::pair<std::string, std::string>>& kvs) = 0;
  virtual Result<EtcdRange> range_prefix(const std::string& prefix, int64_t limit) = 0;
  virtual Result<EtcdRange> range_keys(const std::string& prefix) = 0;  // values left empty
  virtual Result<std::optional<std::string>> get(const std::string& key) = 0;
  virtual Status delete_key(const std::string& key) = 0;
  virtual Result<nlohmann::json> txn(const nlohmann::json& request) = 0;
  virtual Result<EtcdCasResult> compare_and_put(const std::string& key,
                                                const std::optional<std::string>& value,
                                                std::optional<int64_t> mod_revision) = 0;
  virtual Result<int64_t> lease_grant(std::chrono::seconds ttl) = 0;
  virtual Result<int64_t> lease_keepalive(int64_t lease) = 0;
  virtual Status lease_revoke(int64_t lease) = 0;
  virtual Status watch_prefix(const std::string& prefix, int64_t start_revision,
                              const EtcdWatchFn& fn) = 0;
  virtual void interrupt() = 0;
  virtual std::string endpoint() const = 0;
};

class EtcdClient {
 public:
  // A client of the etcd `cfg` names. When the etcd module cannot be loaded, every call
  // answers why (the module's path and dlopen's reason).
  explicit EtcdClient(EtcdConfig cfg);
  ~EtcdClient();

  Status put(const std::string& key, const std::string& value, int64_t lease = 0);
  // Several puts in one transaction: one write, one revision.
  Status put_all(const std::vector<std::pair<std::string, std::string>>& kvs);
  // Every key under `prefix`, or the first `limit` of them (in key order) when limit > 0.
  Result<EtcdRange> range_prefix(const std::string& prefix, int64_t limit = 0);
  Result<std::optional<std::string>> get(const std::string& key);
  // The keys under `prefix`, in key order, without their values: finding one key among many
  // whose values are large (alloc keys hold their jobs) without reading them all.
  Result<std::vector<std::string>> keys(const std::string& prefix);
  Status delete_key(const std::string& key);
  // One transaction in the shape of etcd's JSON gateway ({compare, success, failure}, keys
  // and values base64, as etcd's API docs write them): the server's compare-and-swap writes
  // (leader key, placements). The reply in the same shape (int64s as numbers); its
  // "succeeded" says which branch ran.
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
  Status watch_prefix(const std::string& prefix, int64_t start_revision, const EtcdWatchFn& fn);
  void interrupt();

  // The endpoint last used successfully.
  std::string endpoint() const;

  // The key just past every key that starts with `prefix` (etcd's range_end for a prefix).
  static std::string prefix_end(const std::string& prefix);
  // The store's revision in a reply's header (a txn's: the revision its writes made), or
  // nothing when the reply has none.
  static std::optional<int64_t> header_revision(const nlohmann::json& reply);

 private:
  EtcdConfig cfg_;
  std::unique_ptr<EtcdTransport> t_;
  std::optional<Error> unavailable_;  // why there is no t_
};

int64_t json_int(const nlohmann::json& j, const char* key);

}  // namespace drover::upstream
