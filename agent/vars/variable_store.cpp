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
                             std::shared_ptr<Keyring> keyring, std::function<int64_t()> clock)
    : backend_(std::move(backend)),
      keyring_(std::move(keyring)),
      clock_(clock ? std::move(clock) : std::function<int64_t()>([] {
        return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
      })) {
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
  v.meta = meta_of(row);
  v.items = std::move(*items);
  return v;
}

VariableMeta VariableStore::meta_of(const VariableRow& row) const {
  VariableMeta m{row.ns,
                 row.path,
                 static_cast<uint64_t>(row.create_index),
                 static_cast<uint64_t>(row.modify_index),
                 row.create_time_ns,
                 row.modify_time_ns,
                 std::nullopt};
  // A lock past its lease and delay is gone, though its row still names it: nothing removes
  // it on a timer, the next write over the variable drops it.
  m.lock = blocking_lock(row, clock_());
  return m;
}

std::optional<VariableLock> VariableStore::blocking_lock(const std::optional<VariableRow>& row,
                                                         int64_t now) const {
  if (!row) return std::nullopt;
  auto lock = lock_from_text(row->lock);
  std::lock_guard guard(leases_mu_);
  const auto key = std::make_pair(row->ns, row->path);
  if (!lock) {
    leases_.erase(key);
    return std::nullopt;
  }
  auto& seen = leases_[key];
  if (seen.at_ns == 0 || seen.modify_index != row->modify_index) seen = {row->modify_index, now};
  lock->expires_ns = seen.at_ns + 2 * lock->ttl_ns;
  if (!lock->blocks(now)) return std::nullopt;
  return lock;
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
  for (const auto& r : *rows) out.push_back(meta_of(r));
  return out;
}

namespace {

// A refusal over a lock (a 409), in Nomad's words.
WriteOutcome refused_by_lock(std::string why) {
  WriteOutcome out;
  out.conflict = true;
  out.lock_refusal = std::move(why);
  return out;
}

constexpr const char* kLockedWords = "attempting to modify locked variable";
constexpr const char* kNoLockWords = "variable doesn't hold a lock";

}  // namespace

Result<WriteOutcome> VariableStore::write_over(
    const std::string& ns, const std::string& path,
    const std::function<Result<Decision>(const std::optional<VariableRow>&, int64_t)>& decide,
    const std::map<std::string, std::string>& items) {
  // Each round loses only to a write that landed in between; this many in a row means the
  // variable is written faster than it can be read.
  constexpr int kRounds = 100;
  for (int round = 0; round < kRounds; ++round) {
    auto current = backend_->get(ns, path);
    if (!current) return current.error();
    const int64_t now = clock_();
    auto d = decide(*current, now);
    if (!d) return d.error();
    if (d->answer) return std::move(*d->answer);
    const int64_t expect = *current ? (*current)->modify_index : 0;
    if (d->row && *current) d->row->create_time_ns = (*current)->create_time_ns;
    auto w = d->row ? backend_->put(std::move(*d->row), expect) : backend_->remove(ns, path, expect);
    if (!w) return w.error();
    if (w->conflict) continue;
    // A lock written here is seen here now: its lease starts at this write.
    if (w->written) (void)blocking_lock(w->written, now);
    else {
      std::lock_guard guard(leases_mu_);
      leases_.erase({ns, path});
    }
    WriteOutcome out;
    if (w->written) {
      Variable v;
      v.meta = meta_of(*w->written);
      v.items = items;
      out.written = std::move(v);
    }
    changed(ns, path);
    return out;
  }
  return make_error("variable " + path + " changed under " + std::to_string(kRounds) +
                        " writes in a row; try again",
                    Errc::Conflict);
}

Result<WriteOutcome> VariableStore::put(const std::string& ns, const std::string& path,
                                        const std::map<std::string, std::string>& items,
                                        std::optional<uint64_t> cas, const std::string& lock_id) {
  if (auto st = validate_namespace(ns); !st) return st.error();
  if (auto st = validate_path(path); !st) return st.error();
  if (auto st = validate_items(items); !st) return st.error();
  auto sealed = keyring_->seal(items_text(items), sealing_context(ns, path));
  if (!sealed) return sealed.error();
  VariableRow row;
  row.ns = ns;
  row.path = path;
  row.key_id = sealed->key_id;
  row.sealed_b64 = base64_encode(sealed->data);
  return write_over(
      ns, path,
      [&](const std::optional<VariableRow>& current, int64_t now) -> Result<Decision> {
        auto lock = blocking_lock(current, now);
        if (lock && lock->id != lock_id) return Decision{refused_by_lock(kLockedWords), {}};
        if (cas && *cas != static_cast<uint64_t>(current ? current->modify_index : 0)) {
          auto out = conflict_outcome(current);
          if (!out) return out.error();
          return Decision{std::move(*out), {}};
        }
        VariableRow r = row;
        r.create_time_ns = r.modify_time_ns = state::now_ns();
        r.lock = lock_text(lock);
        return Decision{std::nullopt, std::move(r)};
      },
      items);
}

Result<WriteOutcome> VariableStore::conflict_outcome(std::optional<VariableRow> current) const {
  WriteOutcome out;
  out.conflict = true;
  if (current) {
    auto cur = open_row(*current);
    if (!cur) return cur.error();
    out.current = std::move(*cur);
  }
  return out;
}

Result<WriteOutcome> VariableStore::remove(const std::string& ns, const std::string& path,
                                           std::optional<uint64_t> cas) {
  if (auto st = validate_namespace(ns); !st) return st.error();
  if (auto st = validate_path(path); !st) return st.error();
  return write_over(
      ns, path,
      [&](const std::optional<VariableRow>& current, int64_t now) -> Result<Decision> {
        if (blocking_lock(current, now)) return Decision{refused_by_lock(kLockedWords), {}};
        if (cas && *cas != static_cast<uint64_t>(current ? current->modify_index : 0)) {
          auto out = conflict_outcome(current);
          if (!out) return out.error();
          return Decision{std::move(*out), {}};
        }
        return Decision{};
      },
      {});
}

Result<WriteOutcome> VariableStore::acquire_lock(
    const std::string& ns, const std::string& path, VariableLock lock,
    const std::optional<std::map<std::string, std::string>>& items) {
  if (auto st = validate_namespace(ns); !st) return st.error();
  if (auto st = validate_path(path); !st) return st.error();
  if (auto st = canonicalize_lock(lock); !st) return st.error();
  if (items && !items->empty())
    if (auto st = validate_items(*items); !st) return st.error();
  if (lock.id.empty()) lock.id = random_uuid();
  // Items given are sealed once; without them the variable keeps its own, or has none.
  auto sealed = keyring_->seal(items_text(items.value_or(std::map<std::string, std::string>{})),
                               sealing_context(ns, path));
  if (!sealed) return sealed.error();
  return write_over(
      ns, path,
      [&](const std::optional<VariableRow>& current, int64_t now) -> Result<Decision> {
        if (auto held = blocking_lock(current, now); held && held->id != lock.id)
          return Decision{refused_by_lock("variable already holds a lock"), {}};
        VariableRow r;
        if (current && !items) {
          r = *current;
        } else {
          r.ns = ns;
          r.path = path;
          r.key_id = sealed->key_id;
          r.sealed_b64 = base64_encode(sealed->data);
        }
        r.create_time_ns = r.modify_time_ns = state::now_ns();
        r.lock = lock_text(lock);
        return Decision{std::nullopt, std::move(r)};
      },
      items.value_or(std::map<std::string, std::string>{}));
}

Result<WriteOutcome> VariableStore::renew_lock(const std::string& ns, const std::string& path,
                                               const std::string& lock_id) {
  return holder_write(ns, path, lock_id, /*release=*/false);
}

Result<WriteOutcome> VariableStore::release_lock(const std::string& ns, const std::string& path,
                                                 const std::string& lock_id) {
  return holder_write(ns, path, lock_id, /*release=*/true);
}

Result<WriteOutcome> VariableStore::holder_write(const std::string& ns, const std::string& path,
                                                 const std::string& lock_id, bool release) {
  if (auto st = validate_namespace(ns); !st) return st.error();
  if (auto st = validate_path(path); !st) return st.error();
  return write_over(
      ns, path,
      [&](const std::optional<VariableRow>& current, int64_t now) -> Result<Decision> {
        if (!current) return make_error("variable not found: " + path, Errc::NotFound);
        auto lock = blocking_lock(current, now);
        if (!lock) return Decision{refused_by_lock(kNoLockWords), {}};
        if (lock->id != lock_id) return Decision{refused_by_lock(kLockedWords), {}};
        if (!release && !lock->held(now))
          return Decision{refused_by_lock("the lock was lost: it was not renewed within twice "
                                          "its TTL"),
                          {}};
        // Renewed, the lock is written again and so new to every agent that reads it: its
        // lease starts over. Released, it is taken off and the items stay.
        VariableRow r = *current;
        r.modify_time_ns = state::now_ns();
        r.lock = release ? std::string() : lock_text(lock);
        return Decision{std::nullopt, std::move(r)};
      },
      {});
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
    // The lock's holder stays the holder.
    auto lock = lock_from_text(row.lock);
    auto w = put(row.ns, row.path, v->items, static_cast<uint64_t>(row.modify_index),
                 lock ? lock->id : "");
    if (!w) return make_error("rotated to key " + key->id + ", but " + w.message());
  }
  return key;
}

}  // namespace drover::vars
