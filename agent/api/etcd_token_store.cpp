// The cluster's ACL tokens in etcd; see etcd_token_store.hpp.
#include "api/etcd_token_store.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "drover/common/json_text.hpp"
#include "state/alloc.hpp"
#include "upstream/etcd_client.hpp"
#include "upstream/etcd_txn.hpp"

namespace drover::api {

using nlohmann::json;

namespace {

// A token record from etcd; a record that is not one (written by hand) grants nothing.
std::optional<StoredToken> token_of(const upstream::EtcdKv& kv) {
  auto t = stored_token_from_json(json::parse(kv.value, nullptr, false));
  if (!t) spdlog::warn("acl: {} is not a token record; ignored", kv.key);
  return t;
}

}  // namespace

EtcdTokenStore::EtcdTokenStore(upstream::EtcdConfig etcd, std::chrono::milliseconds resync)
    : etcd_(std::move(etcd)),
      tokens_prefix_(etcd_.prefix + "/acl/tokens/"),
      bootstrap_key_(etcd_.prefix + "/acl/bootstrap"),
      resync_(resync),
      follower_([this](std::stop_token stop) { follow(stop); }) {}

EtcdTokenStore::~EtcdTokenStore() {
  follower_.request_stop();
  {
    std::lock_guard lock(mu_);
    if (watch_client_) watch_client_->interrupt();
  }
  cv_.notify_all();
}

Result<std::vector<StoredToken>> EtcdTokenStore::read_all(int64_t* revision) const {
  upstream::EtcdClient etcd(etcd_);
  auto r = etcd.range_prefix(tokens_prefix_);
  if (!r) return make_error("acl: cannot read the tokens from etcd: " + r.message(), r.code());
  if (revision) *revision = r->revision;
  std::vector<StoredToken> out;
  for (const auto& kv : r->kvs)
    if (auto t = token_of(kv)) out.push_back(std::move(*t));
  return out;
}

void EtcdTokenStore::follow(std::stop_token stop) {
  const auto forget = [this, prefix = tokens_prefix_](const std::string& key) {
    std::erase_if(copy_, [id = key.substr(prefix.size())](const StoredToken& t) {
      return t.info.accessor_id == id;
    });
  };
  while (!stop.stop_requested()) {
    int64_t revision = 0;
    auto all = read_all(&revision);
    if (!all) {
      {
        std::lock_guard lock(mu_);
        live_ = false;
      }
      spdlog::debug("{}", all.message());
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
      continue;
    }
    {
      std::lock_guard lock(mu_);
      copy_ = std::move(all.value());
      live_ = true;
      watch_client_ = std::make_unique<upstream::EtcdClient>(etcd_);
    }
    // The watch runs beside this thread, which ends it when `resync_` passes or on stop.
    std::atomic<bool> ended{false};
    std::thread watcher([&] {
      auto st = watch_client_->watch_prefix(
          tokens_prefix_, revision + 1,
          [&](const std::vector<upstream::EtcdWatchEvent>& events, int64_t) {
            std::lock_guard lock(mu_);
            for (const auto& e : events) {
              forget(e.kv.key);
              if (!e.deleted)
                if (auto t = token_of(e.kv)) copy_.push_back(std::move(*t));
            }
          });
      {
        std::lock_guard lock(mu_);
        live_ = false;  // until read whole again: a revocation may have been missed
        ended = true;
      }
      cv_.notify_all();
      spdlog::debug("acl: the tokens' watch ended: {}", st.message());
    });
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, stop, resync_, [&] { return ended.load(); });
      watch_client_->interrupt();
    }
    watcher.join();
    std::lock_guard lock(mu_);
    watch_client_.reset();
  }
}

void EtcdTokenStore::remember(const StoredToken& token) {
  std::lock_guard lock(mu_);
  if (!live_) return;
  std::erase_if(copy_, [&](const StoredToken& t) {
    return t.info.accessor_id == token.info.accessor_id;
  });
  copy_.push_back(token);
}

uint64_t EtcdTokenStore::etcd_lookups() const {
  std::lock_guard lock(mu_);
  return etcd_lookups_;
}

std::optional<TokenInfo> EtcdTokenStore::authenticate(std::string_view secret) const {
  {
    std::lock_guard lock(mu_);
    if (live_)
      if (auto hit = match_token(copy_, secret)) return hit;
    ++etcd_lookups_;
  }
  // Not in the copy (or no copy): etcd decides, so a token made on another server a moment
  // ago counts here at once.
  auto all = read_all();
  if (!all) {
    spdlog::warn("{}", all.message());
    return std::nullopt;  // no answer from etcd: nothing is allowed
  }
  return match_token(all.value(), secret);
}

Result<std::pair<TokenInfo, std::string>> EtcdTokenStore::create(
    const std::string& name, Policy policy, std::chrono::nanoseconds ttl) {
  auto [token, secret] = mint_token(name, policy, ttl);
  upstream::EtcdClient etcd(etcd_);
  if (auto st = etcd.put(tokens_key(token.info.accessor_id),
                         json_text(stored_token_json(token)));
      !st)
    return make_error("acl: cannot save the token in etcd: " + st.message());
  remember(token);
  return std::make_pair(token.info, secret);
}

Result<std::vector<TokenInfo>> EtcdTokenStore::list() const {
  auto all = read_all();
  if (!all) return all.error();
  std::vector<TokenInfo> out;
  for (const auto& t : all.value()) out.push_back(t.info);
  return out;
}

TokenStore::RevokeError EtcdTokenStore::revoke(const std::string& accessor_id,
                                                    std::string* message) {
  upstream::EtcdClient etcd(etcd_);
  // The delete holds only while the other management tokens are still there: two servers
  // revoking the last two management tokens at once cannot leave none.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto r = etcd.range_prefix(tokens_prefix_);
    if (!r) {
      *message = "acl: cannot read the tokens from etcd: " + r.message();
      return RevokeError::store;
    }
    std::vector<StoredToken> all;
    bool found = false;
    for (const auto& kv : r->kvs)
      if (auto t = stored_token_from_json(json::parse(kv.value, nullptr, false))) {
        found = found || t->info.accessor_id == accessor_id;
        all.push_back(std::move(*t));
      }
    if (!found) {
      *message = "no token with accessor id \"" + accessor_id + "\"";
      return RevokeError::not_found;
    }
    if (is_last_management(all, accessor_id)) {
      *message = "token " + accessor_id +
                 " is the last management token; create another before revoking it";
      return RevokeError::last_management;
    }
    // The other live management tokens must all still be there when the delete lands.
    json compare = json::array();
    for (const auto& o : all)
      if (o.info.accessor_id != accessor_id && o.info.policy == Policy::management &&
          (o.info.expiration_time_ns == 0 || o.info.expiration_time_ns > state::now_ns()))
        compare.push_back(upstream::txn::present(tokens_key(o.info.accessor_id)));
    json req = {{"compare", compare},
                {"success", json::array({upstream::txn::del(tokens_key(accessor_id))})}};
    auto t = etcd.txn(req);
    if (!t) {
      *message = "acl: cannot delete the token in etcd: " + t.message();
      return RevokeError::store;
    }
    if (t->value("succeeded", false)) {
      // Refused here at once; the other servers as soon as their watch delivers the delete.
      std::lock_guard lock(mu_);
      std::erase_if(copy_, [&](const StoredToken& o) { return o.info.accessor_id == accessor_id; });
      return RevokeError::none;
    }
  }
  *message = "acl: the tokens kept changing while revoking; try again";
  return RevokeError::store;
}

Result<std::optional<std::string>> EtcdTokenStore::bootstrap() {
  auto [token, secret] = mint_token("Bootstrap Token", Policy::management, {});
  const std::string marker = json_text(
      json{{"AccessorID", token.info.accessor_id}, {"CreateTime", token.info.create_time_ns}});
  json compare = json::array({upstream::txn::absent(bootstrap_key_)});
  json success = json::array();
  success.push_back(upstream::txn::put(bootstrap_key_, marker));
  success.push_back(upstream::txn::put(tokens_key(token.info.accessor_id),
                                       json_text(stored_token_json(token))));
  json req = {{"compare", compare}, {"success", success}};
  upstream::EtcdClient etcd(etcd_);
  auto r = etcd.txn(req);
  if (!r) return make_error("acl: cannot bootstrap the tokens in etcd: " + r.message());
  if (!r->value("succeeded", false)) return std::optional<std::string>{};
  return std::optional<std::string>{secret};
}

}  // namespace drover::api
