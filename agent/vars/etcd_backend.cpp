// Variables in etcd (vars/backend.hpp): one key per variable, `<prefix>/vars/<ns>/<path>`,
// its value the sealed row as JSON. Every node of the cluster reads and writes the same keys
// and opens them with the same keyring_file (docs/variables.md, "Cluster mode").
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "drover/common/json_text.hpp"
#include "upstream/etcd_client.hpp"
#include "vars/backend.hpp"

namespace drover::vars {
namespace {

using nlohmann::json;

class EtcdBackend final : public VariableBackend {
 public:
  explicit EtcdBackend(const upstream::EtcdConfig& cfg)
      : client_(cfg), watch_client_(cfg), root_(cfg.prefix + "/vars/") {}
  ~EtcdBackend() override { stop(); }

  Result<std::optional<VariableRow>> get(const std::string& ns, const std::string& path) override {
    auto r = client_.range_prefix(key(ns, path));
    if (!r) return r.error();
    for (const auto& kv : r->kvs)
      if (kv.key == key(ns, path)) return std::optional<VariableRow>(row_of(kv));
    return std::optional<VariableRow>();
  }

  Result<std::vector<VariableRow>> list(const std::string& ns, const std::string& prefix) override {
    // A namespace and a path prefix; for every namespace, the rows are filtered here.
    auto r = client_.range_prefix(ns.empty() ? root_ : root_ + ns + "/" + prefix);
    if (!r) return r.error();
    std::vector<VariableRow> out;
    for (const auto& kv : r->kvs) {
      auto row = row_of(kv);
      if (row.path.rfind(prefix, 0) == 0) out.push_back(std::move(row));
    }
    return out;
  }

  Result<VariableWrite> put(VariableRow row, std::optional<int64_t> cas) override {
    // With a cas the caller read the row and carries its CreateTime (VariableStore::
    // write_over): no second read. Without one, the write applies over the revision read here.
    if (!cas) {
      auto existing = get(row.ns, row.path);
      if (!existing) return existing.error();
      if (*existing) row.create_time_ns = (*existing)->create_time_ns;
      cas = *existing ? (*existing)->modify_index : 0;
    }
    json value = {{"Namespace", row.ns},
                  {"Path", row.path},
                  {"CreateTime", row.create_time_ns},
                  {"ModifyTime", row.modify_time_ns},
                  {"KeyID", row.key_id},
                  {"Data", row.sealed_b64}};
    if (!row.lock.empty()) value["Lock"] = json::parse(row.lock, nullptr, false);
    auto r = client_.compare_and_put(key(row.ns, row.path), json_text(value), *cas);
    if (!r) return r.error();
    if (!r->succeeded) {  // another node wrote in between: the caller reads again
      VariableWrite w;
      w.conflict = true;
      if (r->current) w.current = row_of(*r->current);
      return w;
    }
    VariableWrite w;
    if (r->current) w.written = row_of(*r->current);
    return w;
  }

  Result<VariableWrite> remove(const std::string& ns, const std::string& path,
                               std::optional<int64_t> cas) override {
    auto r = client_.compare_and_put(key(ns, path), std::nullopt, cas);
    if (!r) return r.error();
    VariableWrite w;
    if (!r->succeeded) {
      w.conflict = true;
      if (r->current) w.current = row_of(*r->current);
    }
    return w;
  }

  void start_watch(std::function<void(const std::string&, const std::string&)> fn) override {
    watcher_ = std::thread([this, fn = std::move(fn)] {
      int64_t from = 0;
      while (!stopping_) {
        if (from == 0) {
          auto r = watch_client_.range_prefix(root_);
          if (!r) {
            pause();
            continue;
          }
          from = r->revision + 1;
        }
        auto st = watch_client_.watch_prefix(
            root_, from, [&](const std::vector<upstream::EtcdWatchEvent>& events, int64_t rev) {
              for (const auto& e : events) {
                auto rest = e.kv.key.substr(root_.size());
                auto slash = rest.find('/');
                if (slash != std::string::npos) fn(rest.substr(0, slash), rest.substr(slash + 1));
              }
              from = rev + 1;
            });
        if (stopping_) break;
        // A compacted start revision: changes may have been missed; report a change of
        // everything (an empty path prefixes every path) and start again from now.
        if (!st && st.code() == Errc::Gone) {
          fn("", "");
          from = 0;
        }
        pause();
      }
    });
  }

  void stop() override {
    stopping_ = true;
    watch_client_.interrupt();
    if (watcher_.joinable()) watcher_.join();
  }

 private:
  std::string key(const std::string& ns, const std::string& path) const {
    return root_ + ns + "/" + path;
  }
  VariableRow row_of(const upstream::EtcdKv& kv) const {
    VariableRow row;
    auto j = json::parse(kv.value, nullptr, false);
    auto rest = kv.key.substr(std::min(root_.size(), kv.key.size()));
    auto slash = rest.find('/');
    row.ns = slash == std::string::npos ? rest : rest.substr(0, slash);
    row.path = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (j.is_object()) {
      row.create_time_ns = j.value("CreateTime", int64_t{0});
      row.modify_time_ns = j.value("ModifyTime", int64_t{0});
      row.key_id = j.value("KeyID", std::string());
      row.sealed_b64 = j.value("Data", std::string());
      if (j.contains("Lock") && j["Lock"].is_object()) row.lock = j["Lock"].dump();
    }
    row.modify_index = kv.mod_revision;
    row.create_index = kv.create_revision;
    return row;
  }
  void pause() {
    for (int i = 0; i < 10 && !stopping_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  upstream::EtcdClient client_, watch_client_;
  std::string root_;
  std::atomic<bool> stopping_{false};
  std::thread watcher_;
};

}  // namespace

std::unique_ptr<VariableBackend> make_etcd_backend(const upstream::EtcdConfig& cfg) {
  return std::make_unique<EtcdBackend>(cfg);
}

}  // namespace drover::vars
