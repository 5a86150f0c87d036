// VariableStore: validation, sealing, check-and-set and the change signal
// (vars/variable_store.hpp).
#include "vars/variable_store.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "drover/common/encoding.hpp"
#include "state/alloc.hpp"

namespace drover::vars {

namespace {
constexpr std::size_t kRecentChanges = 1024;
}

std::string sealing_context(const std::string& ns, const std::string& path) {
  return ns + std::string(1, '\0') + path;
}

VariableStore::VariableStore(std::unique_ptr<VariableBackend> backend,
                             std::shared_ptr<Keyring> keyring)
    : backend_(std::move(backend)), keyring_(std::move(keyring)) {
  backend_->start_watch(
      [this](const std::string& ns, const std::string& path) { changed(ns, path); });
}

VariableStore::~VariableStore() { stop(); }

void VariableStore::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  cv_.notify_all();
  backend_->stop();
}

Result<Variable> VariableStore::open_row(const VariableRow& row) const {
  auto data = base64_decode(row.sealed_b64);
  if (!data) return make_error("variable " + row.path + ": the stored value is not base64");
  auto plain = keyring_->open(Sealed{row.key_id, *data}, sealing_context(row.ns, row.path));
  if (!plain) return make_error("variable " + row.path + ": " + plain.message());
  auto items = items_from_text(*plain);
  if (!items) return make_error("variable " + row.path + ": " + items.message());
  Variable v;
  v.meta = {row.ns,
            row.path,
            static_cast<uint64_t>(row.create_index),
            static_cast<uint64_t>(row.modify_index),
            row.create_time_ns,
            row.modify_time_ns};
  v.items = std::move(*items);
  return v;
}

Result<Variable> VariableStore::get(const std::string& ns, const std::string& path) const {
  if (auto st = validate_namespace(ns); !st) return st.error();
  if (auto st = validate_path(path); !st) return st.error();
  auto row = backend_->get(ns, path);
  if (!row) return row.error();
  if (!*row) return make_error("variable not found: " + path, Errc::NotFound);
  return open_row(**row);
}

bool VariableStore::exists(const std::string& ns, const std::string& path) const {
  auto row = backend_->get(ns, path);
  return row && *row;
}

Result<std::vector<VariableMeta>> VariableStore::list(const std::string& ns,
                                                      const std::string& prefix) const {
  auto rows = backend_->list(ns == "*" ? "" : ns, prefix);
  if (!rows) return rows.error();
  std::vector<VariableMeta> out;
  for (const auto& r : *rows)
    out.push_back({r.ns, r.path, static_cast<uint64_t>(r.create_index),
                   static_cast<uint64_t>(r.modify_index), r.create_time_ns, r.modify_time_ns});
  return out;
}

Result<WriteOutcome> VariableStore::put(const std::string& ns, const std::string& path,
                                        const std::map<std::string, std::string>& items,
                                        std::optional<uint64_t> cas) {
  if (auto st = validate_namespace(ns); !st) return st.error();
  if (auto st = validate_path(path); !st) return st.error();
  if (auto st = validate_items(items); !st) return st.error();
  auto sealed = keyring_->seal(items_text(items), sealing_context(ns, path));
  if (!sealed) return sealed.error();
  VariableRow row;
  row.ns = ns;
  row.path = path;
  row.create_time_ns = row.modify_time_ns = state::now_ns();
  row.key_id = sealed->key_id;
  row.sealed_b64 = base64_encode(sealed->data);
  auto w = backend_->put(std::move(row), cas ? std::optional<int64_t>(*cas) : std::nullopt);
  if (!w) return w.error();
  if (w->conflict) return conflict_outcome(*w);
  WriteOutcome out;
  if (w->written) {
    Variable v;
    v.meta = {ns,
              path,
              static_cast<uint64_t>(w->written->create_index),
              static_cast<uint64_t>(w->written->modify_index),
              w->written->create_time_ns,
              w->written->modify_time_ns};
    v.items = items;
    out.written = std::move(v);
  }
  changed(ns, path);
  return out;
}

Result<WriteOutcome> VariableStore::conflict_outcome(const state::VariableWrite& w) const {
  WriteOutcome out;
  out.conflict = true;
  if (w.current) {
    auto cur = open_row(*w.current);
    if (!cur) return cur.error();
    out.current = std::move(*cur);
  }
  return out;
}

Result<WriteOutcome> VariableStore::remove(const std::string& ns, const std::string& path,
                                           std::optional<uint64_t> cas) {
  if (auto st = validate_namespace(ns); !st) return st.error();
  if (auto st = validate_path(path); !st) return st.error();
  auto w = backend_->remove(ns, path, cas ? std::optional<int64_t>(*cas) : std::nullopt);
  if (!w) return w.error();
  if (w->conflict) return conflict_outcome(*w);
  WriteOutcome out;
  changed(ns, path);
  return out;
}

uint64_t VariableStore::index() const {
  std::lock_guard lock(mu_);
  return index_;
}

void VariableStore::changed(const std::string& ns, const std::string& path) {
  std::map<int, std::function<void(const std::string&, const std::string&, uint64_t)>> subs;
  uint64_t index;
  {
    std::lock_guard lock(mu_);
    index = ++index_;
    recent_.push_back({index, ns, path});
    if (recent_.size() > kRecentChanges) recent_.pop_front();
    subs = subs_;
  }
  cv_.notify_all();
  for (const auto& [id, fn] : subs) {
    try {
      fn(ns, path, index);
    } catch (const std::exception& e) {
      spdlog::error("vars: a change subscriber failed on {}: {}", path, e.what());
    }
  }
}

uint64_t VariableStore::wait_for_change(const std::string& ns, const std::string& prefix,
                                        uint64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  auto matches = [&] {
    if (stopped_ || index_ <= after) return stopped_;
    // The changes after `after`: any of them under the prefix? One older than what is kept
    // counts, since it cannot be told apart.
    if (recent_.empty() || recent_.front().index > after + 1) return true;
    for (auto it = recent_.rbegin(); it != recent_.rend() && it->index > after; ++it)
      if ((it->ns.empty() || it->ns == ns) && it->path.rfind(prefix, 0) == 0) return true;
    return false;
  };
  cv_.wait_for(lock, timeout, matches);
  return index_;
}

int VariableStore::subscribe(
    std::function<void(const std::string&, const std::string&, uint64_t)> fn) {
  std::lock_guard lock(mu_);
  subs_[++next_sub_] = std::move(fn);
  return next_sub_;
}

void VariableStore::unsubscribe(int id) {
  std::lock_guard lock(mu_);
  subs_.erase(id);
}

Result<KeyInfo> VariableStore::rotate_key(bool full) {
  auto key = keyring_->rotate();
  if (!key) return key.error();
  if (!full) return key;
  auto rows = backend_->list("", "");
  if (!rows)
    return make_error("rotated to key " + key->id + ", but re-sealing failed: " + rows.message());
  for (const auto& row : *rows) {
    if (row.key_id == key->id) continue;
    auto v = open_row(row);
    if (!v) return make_error("rotated to key " + key->id + ", but " + v.message());
    // Check-and-set on what was read: a write in between already sealed with the new key.
    auto w = put(row.ns, row.path, v->items, static_cast<uint64_t>(row.modify_index));
    if (!w) return make_error("rotated to key " + key->id + ", but " + w.message());
  }
  return key;
}

}  // namespace drover::vars
