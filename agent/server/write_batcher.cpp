// Group commit of guarded writes; see write_batcher.hpp.
#include "server/write_batcher.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "drover/common/encoding.hpp"
#include "upstream/etcd_client.hpp"
#include "upstream/etcd_txn.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

// Below etcd's defaults (--max-txn-ops 128, --max-request-bytes 1.5 MiB).
constexpr std::size_t kMaxOps = 120;
constexpr std::size_t kMaxBytes = 1 << 20;

}  // namespace

Result<GuardedOutcome> GuardedWriteBatcher::write(GuardedWrite w) {
  Pending p{std::move(w), std::nullopt};
  std::unique_lock lock(mu_);
  queue_.push_back(&p);
  // The first caller to find no transaction in flight writes one for whoever is queued (its
  // own write among them, unless the batch was full before it).
  while (!p.out) {
    if (busy_) {
      cv_.wait(lock);
      continue;
    }
    busy_ = true;
    auto batch = take_batch();
    lock.unlock();
    commit(batch);
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
  return std::move(*p.out);
}

std::vector<GuardedWriteBatcher::Pending*> GuardedWriteBatcher::take_batch() {
  std::vector<Pending*> batch;
  std::set<std::string> keys;  // etcd refuses a transaction that puts one key twice
  std::size_t ops = 0, bytes = 0;
  for (auto it = queue_.begin(); it != queue_.end();) {
    Pending* p = *it;
    std::size_t size = 0;
    for (const auto& [k, v] : p->w.puts) size += k.size() + v.size();
    const bool fits = batch.empty() || (ops + p->w.puts.size() <= kMaxOps &&
                                        bytes + size * 4 / 3 <= kMaxBytes);
    bool clash = keys.count(p->w.key) > 0;
    for (const auto& kv : p->w.puts) clash = clash || keys.count(kv.first) > 0;
    if (!fits) break;
    if (clash) {
      ++it;
      continue;
    }
    keys.insert(p->w.key);
    for (const auto& kv : p->w.puts) keys.insert(kv.first);
    ops += p->w.puts.size();
    bytes += size * 4 / 3;  // base64
    batch.push_back(p);
    it = queue_.erase(it);
  }
  return batch;
}

void GuardedWriteBatcher::commit(const std::vector<Pending*>& batch) {
  if (batch.empty()) return;
  json compare = json::array(), success = json::array(), failure = json::array();
  for (const Pending* p : batch) {
    compare.push_back(upstream::txn::modified_at(p->w.key, p->w.mod_revision));
    for (const auto& [k, v] : p->w.puts) success.push_back(upstream::txn::put(k, v));
    failure.push_back(upstream::txn::get(p->w.key));
  }
  upstream::EtcdClient etcd(cfg_);
  auto r = etcd.txn({{"compare", compare}, {"success", success}, {"failure", failure}});
  if (!r) {
    for (Pending* p : batch) p->out = r.error();
    return;
  }
  if (r.value().value("succeeded", false)) {
    GuardedOutcome ok;
    ok.written = true;
    ok.revision = upstream::EtcdClient::header_revision(r.value()).value_or(0);
    for (Pending* p : batch) p->out = ok;
    return;
  }
  // Some key moved on: those writes are refused with the key as it is now (read in the same
  // transaction); the others go again without them. Each round refuses at least one, so this
  // ends.
  const json responses = r.value().value("responses", json::array());
  std::vector<Pending*> again;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    GuardedOutcome now;
    if (i < responses.size())
      for (const auto& kv :
           responses[i].value("response_range", json::object()).value("kvs", json::array())) {
        now.current = base64_decode(kv.value("value", "")).value_or("");
        now.current_mod = upstream::json_int(kv, "mod_revision");
      }
    if (now.current_mod == batch[i]->w.mod_revision)
      again.push_back(batch[i]);
    else
      batch[i]->out = std::move(now);
  }
  if (again.size() == batch.size()) {  // no answer to go by: refuse them all
    for (Pending* p : batch) p->out = GuardedOutcome{};
    return;
  }
  commit(again);
}

}  // namespace drover::server
