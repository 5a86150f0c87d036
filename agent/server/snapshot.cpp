// Cluster snapshots; see snapshot.hpp.
#include "server/snapshot.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "drover/common/json_text.hpp"
#include "server/server_config.hpp"
#include "state/alloc.hpp"
#include "upstream/etcd_txn.hpp"

namespace drover::server {
namespace {

using nlohmann::json;

constexpr std::size_t kOpsPerTxn = 100;
// etcd refuses a request over 1.5 MiB by default: a batch is sent before it passes 1 MiB.
constexpr std::size_t kBytesPerTxn = std::size_t{1} << 20;

// Jobs and their versions before the rest, so that nothing of a job is there before the job.
int restore_order(std::string_view key) {
  if (key.starts_with("jobs/") || key.starts_with("job_versions/")) return 0;
  return 1;
}

// Operations sent to etcd in transactions of at most kOpsPerTxn and about kBytesPerTxn.
class Batches {
 public:
  explicit Batches(upstream::EtcdClient& etcd) : etcd_(etcd) {}
  Status add(json op, std::size_t bytes) {
    if (!ops_.empty() && (ops_.size() >= kOpsPerTxn || bytes_ + bytes > kBytesPerTxn))
      if (auto st = flush(); !st) return st;
    ops_.push_back(std::move(op));
    bytes_ += bytes;
    return {};
  }
  Status flush() {
    if (ops_.empty()) return {};
    auto r = etcd_.txn(json{{"success", ops_}});
    ops_ = json::array();
    bytes_ = 0;
    if (!r) return make_error("restore: etcd refused a transaction: " + r.message());
    return {};
  }

 private:
  upstream::EtcdClient& etcd_;
  json ops_ = json::array();
  std::size_t bytes_ = 0;
};

}  // namespace

Result<Snapshot> take_snapshot(upstream::EtcdClient& etcd, const Keys& keys, const std::string& server) {
  auto r = etcd.range_prefix(keys.all());
  if (!r) return make_error("snapshot: cannot read etcd: " + r.message());
  Snapshot s;
  s.prefix = keys.prefix;
  s.server = server;
  s.revision = r->revision;
  s.taken_at_ns = state::now_ns();
  const std::size_t skip = keys.all().size();
  for (auto& kv : r->kvs) {
    std::string below = kv.key.substr(skip);
    if (durable_key(below)) s.keys.emplace_back(std::move(below), std::move(kv.value));
  }
  return s;
}

Result<RestoreReport> restore_snapshot(upstream::EtcdClient& etcd, const Keys& keys, const Snapshot& s) {
  auto now = etcd.keys(keys.all());
  if (!now) return make_error("restore: cannot read etcd: " + now.message());
  std::set<std::string> keep;
  for (const auto& [k, v] : s.keys) keep.insert(keys.all() + k);
  RestoreReport report;
  Batches batches(etcd);
  for (const auto& key : now.value()) {
    if (!durable_key(std::string_view(key).substr(keys.all().size())) || keep.count(key)) continue;
    if (auto st = batches.add(upstream::txn::del(key), key.size()); !st) return st.error();
    report.deleted++;
  }
  if (auto st = batches.flush(); !st) return st.error();
  std::vector<const std::pair<std::string, std::string>*> order;
  for (const auto& kv : s.keys) order.push_back(&kv);
  std::stable_sort(order.begin(), order.end(),
                   [](auto* a, auto* b) { return restore_order(a->first) < restore_order(b->first); });
  for (const auto* kv : order) {
    const std::string key = keys.all() + kv->first;
    if (auto st = batches.add(upstream::txn::put(key, kv->second), key.size() + kv->second.size()); !st)
      return st.error();
    report.put++;
  }
  if (auto st = batches.flush(); !st) return st.error();
  return report;
}

int restore_snapshot_file(const ServerConfig& cfg, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "Error: cannot read " << path << '\n';
    return 1;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto snap = read_snapshot_file(bytes);
  if (!snap) {
    std::cerr << "Error: " << path << ": " << snap.message() << " (nothing was changed)\n";
    return 1;
  }
  const Keys keys{cfg.etcd.prefix};
  upstream::EtcdClient etcd(cfg.etcd);
  if (auto st = etcd.put(keys.restoring(), json_text(json{{"At", state::now_ns()}, {"Revision", snap->revision}}));
      !st) {
    std::cerr << "Error: cannot write etcd (" << st.message() << "); nothing was changed\n";
    return 1;
  }
  auto done = restore_snapshot(etcd, keys, snap.value());
  if (!done) {
    std::cerr << "Error: the restore stopped part way: " << done.message() << "\n"
              << "The leader plans nothing while " << keys.restoring()
              << " is there: run the restore again to finish it.\n";
    return 1;
  }
  if (auto st = etcd.delete_key(keys.restoring()); !st) {
    std::cerr << "Error: restored, but " << keys.restoring() << " could not be deleted (" << st.message()
              << "): delete it to let the leader plan again\n";
    return 1;
  }
  std::cout << "Restored the snapshot of etcd revision " << snap->revision << " (taken "
            << state::rfc3339(snap->taken_at_ns) << " by " << (snap->server.empty() ? "?" : snap->server)
            << ") into " << keys.prefix << ": " << done->put << " keys written, " << done->deleted
            << " deleted\n";
  return 0;
}

}  // namespace drover::server
