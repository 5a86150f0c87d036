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

std::optional<AclPolicyRecord> policy_of(const upstream::EtcdKv& kv) {
  auto p = policy_from_json(json::parse(kv.value, nullptr, false));
  if (!p) spdlog::warn("acl: {} is not a policy record; ignored", kv.key);
  return p;
}

std::optional<AclRoleRecord> role_of(const upstream::EtcdKv& kv) {
  auto r = role_from_json(json::parse(kv.value, nullptr, false));
  if (!r) spdlog::warn("acl: {} is not a role record; ignored", kv.key);
  return r;
}

}  // namespace

EtcdTokenStore::EtcdTokenStore(upstream::EtcdConfig etcd, std::chrono::milliseconds resync)
    : etcd_(std::move(etcd)),
      acl_prefix_(etcd_.prefix + "/acl/"),
      tokens_prefix_(etcd_.prefix + "/acl/tokens/"),
      policies_prefix_(etcd_.prefix + "/acl/policies/"),
      roles_prefix_(etcd_.prefix + "/acl/roles/"),
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

Result<EtcdTokenStore::Snapshot> EtcdTokenStore::read_all(int64_t* revision) const {
  upstream::EtcdClient etcd(etcd_);
  auto r = etcd.range_prefix(acl_prefix_);
  if (!r) return make_error("acl: cannot read the tokens from etcd: " + r.message(), r.code());
  if (revision) *revision = r->revision;
  Snapshot out;
  for (const auto& kv : r->kvs) {
    if (kv.key.rfind(tokens_prefix_, 0) == 0) {
      if (auto t = token_of(kv)) out.tokens.push_back(std::move(*t));
    } else if (kv.key.rfind(policies_prefix_, 0) == 0) {
      if (auto p = policy_of(kv)) out.policies.push_back(std::move(*p));
    } else if (kv.key.rfind(roles_prefix_, 0) == 0) {
      if (auto r = role_of(kv)) out.roles.push_back(std::move(*r));
    }
  }
  return out;
}

std::optional<TokenInfo> EtcdTokenStore::with_acl(std::optional<TokenInfo> t,
                                                  const std::vector<AclPolicyRecord>& policies,
                                                  const std::vector<AclRoleRecord>& roles) {
  if (t && t->client()) t->acl = token_acl(*t, policies, roles);
  return t;
}

void EtcdTokenStore::follow(std::stop_token stop) {
  const auto forget = [this](const std::string& key) {
    if (key.rfind(tokens_prefix_, 0) == 0)
      std::erase_if(copy_, [id = key.substr(tokens_prefix_.size())](const StoredToken& t) {
        return t.info.accessor_id == id;
      });
    else if (key.rfind(policies_prefix_, 0) == 0)
      std::erase_if(policies_copy_, [name = key.substr(policies_prefix_.size())](
                                        const AclPolicyRecord& p) { return p.name == name; });
    else if (key.rfind(roles_prefix_, 0) == 0)
      std::erase_if(roles_copy_, [id = key.substr(roles_prefix_.size())](const AclRoleRecord& r) {
        return r.id == id;
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
      copy_ = std::move(all->tokens);
      policies_copy_ = std::move(all->policies);
      roles_copy_ = std::move(all->roles);
      live_ = true;
      watch_client_ = std::make_unique<upstream::EtcdClient>(etcd_);
    }
    // The watch runs beside this thread, which ends it when `resync_` passes or on stop.
    std::atomic<bool> ended{false};
    std::thread watcher([&] {
      auto st = watch_client_->watch_prefix(
          acl_prefix_, revision + 1,
          [&](const std::vector<upstream::EtcdWatchEvent>& events, int64_t) {
            std::lock_guard lock(mu_);
            for (const auto& e : events) {
              forget(e.kv.key);
              if (e.deleted) continue;
              if (e.kv.key.rfind(tokens_prefix_, 0) == 0) {
                if (auto t = token_of(e.kv)) copy_.push_back(std::move(*t));
              } else if (e.kv.key.rfind(policies_prefix_, 0) == 0) {
                if (auto p = policy_of(e.kv)) policies_copy_.push_back(std::move(*p));
              } else if (e.kv.key.rfind(roles_prefix_, 0) == 0) {
                if (auto r = role_of(e.kv)) roles_copy_.push_back(std::move(*r));
              }
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
      if (auto hit = match_token(copy_, secret)) return with_acl(hit, policies_copy_, roles_copy_);
    ++etcd_lookups_;
  }
  // Not in the copy (or no copy): etcd decides, so a token made on another server a moment
  // ago counts here at once.
  auto all = read_all();
  if (!all) {
    spdlog::warn("{}", all.message());
    return std::nullopt;  // no answer from etcd: nothing is allowed
  }
  return with_acl(match_token(all->tokens, secret), all->policies, all->roles);
}

Result<std::pair<TokenInfo, std::string>> EtcdTokenStore::create(
    const std::string& name, Policy policy, std::chrono::nanoseconds ttl,
    const std::vector<std::string>& policies, const std::vector<TokenInfo::RoleLink>& roles) {
  auto [token, secret] = mint_token(name, policy, ttl, policies, roles);
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
  for (const auto& t : all->tokens) out.push_back(t.info);
  return out;
}

Result<std::vector<AclPolicyRecord>> EtcdTokenStore::workload_policies() const {
  {
    std::lock_guard lock(mu_);
    if (live_) return policies_copy_;  // kept by the watch, as the tokens are: no etcd call
  }
  return policies();
}

Result<std::vector<AclPolicyRecord>> EtcdTokenStore::policies() const {
  auto all = read_all();
  if (!all) return all.error();
  return std::move(all->policies);
}

Status EtcdTokenStore::put_policy(const AclPolicyRecord& policy) {
  upstream::EtcdClient etcd(etcd_);
  AclPolicyRecord next = policy;
  // A replaced policy keeps the time it was made.
  if (auto old = etcd.get(policies_prefix_ + policy.name); old && old.value())
    if (auto was = policy_from_json(json::parse(*old.value(), nullptr, false)))
      next.create_time_ns = was->create_time_ns;
  if (auto st = etcd.put(policies_prefix_ + policy.name, json_text(policy_json(next))); !st)
    return make_error("acl: cannot save the policy in etcd: " + st.message());
  std::lock_guard lock(mu_);
  if (live_) {
    std::erase_if(policies_copy_, [&](const AclPolicyRecord& p) { return p.name == next.name; });
    policies_copy_.push_back(next);
  }
  return {};
}

Result<std::vector<AclRoleRecord>> EtcdTokenStore::roles() const {
  auto all = read_all();
  if (!all) return all.error();
  return std::move(all->roles);
}

Status EtcdTokenStore::put_role(const AclRoleRecord& role) {
  upstream::EtcdClient etcd(etcd_);
  if (auto st = etcd.put(roles_prefix_ + role.id, json_text(role_json(role))); !st)
    return make_error("acl: cannot save the role in etcd: " + st.message());
  std::lock_guard lock(mu_);
  if (live_) {
    std::erase_if(roles_copy_, [&](const AclRoleRecord& r) { return r.id == role.id; });
    roles_copy_.push_back(role);
  }
  return {};
}

Result<std::vector<std::string>> EtcdTokenStore::records(const std::string& kind) const {
  upstream::EtcdClient etcd(etcd_);
  auto range = etcd.range_prefix(etcd_.prefix + "/acl/" + kind + "/");
  if (!range) return make_error("acl: cannot read " + kind + " from etcd: " + range.message());
  std::vector<std::string> out;
  for (const auto& kv : range.value().kvs) out.push_back(kv.value);
  return out;
}

Status EtcdTokenStore::put_record(const std::string& kind, const std::string& key, const std::string& record) {
  upstream::EtcdClient etcd(etcd_);
  if (auto st = etcd.put(etcd_.prefix + "/acl/" + kind + "/" + key, record); !st)
    return make_error("acl: cannot save the record in etcd: " + st.message());
  return {};
}

Status EtcdTokenStore::delete_record(const std::string& kind, const std::string& key) {
  upstream::EtcdClient etcd(etcd_);
  const std::string k = etcd_.prefix + "/acl/" + kind + "/" + key;
  auto old = etcd.get(k);
  if (!old) return make_error("acl: cannot read the record from etcd: " + old.message());
  if (!old.value()) return make_error("\"" + key + "\" not found", Errc::NotFound);
  if (auto st = etcd.delete_key(k); !st)
    return make_error("acl: cannot delete the record in etcd: " + st.message());
  return {};
}

Status EtcdTokenStore::delete_role(const std::string& id) {
  upstream::EtcdClient etcd(etcd_);
  auto old = etcd.get(roles_prefix_ + id);
  if (!old) return make_error("acl: cannot read the role from etcd: " + old.message());
  if (!old.value()) return make_error("ACL role \"" + id + "\" not found", Errc::NotFound);
  json req = {{"compare", json::array()},
              {"success", json::array({upstream::txn::del(roles_prefix_ + id)})}};
  if (auto t = etcd.txn(req); !t)
    return make_error("acl: cannot delete the role in etcd: " + t.message());
  std::lock_guard lock(mu_);
  std::erase_if(roles_copy_, [&](const AclRoleRecord& r) { return r.id == id; });
  return {};
}

Status EtcdTokenStore::delete_policy(const std::string& name) {
  upstream::EtcdClient etcd(etcd_);
  auto old = etcd.get(policies_prefix_ + name);
  if (!old) return make_error("acl: cannot read the policy from etcd: " + old.message());
  if (!old.value()) return make_error("ACL policy \"" + name + "\" not found", Errc::NotFound);
  json req = {{"compare", json::array()},
              {"success", json::array({upstream::txn::del(policies_prefix_ + name)})}};
  if (auto t = etcd.txn(req); !t)
    return make_error("acl: cannot delete the policy in etcd: " + t.message());
  std::lock_guard lock(mu_);
  std::erase_if(policies_copy_, [&](const AclPolicyRecord& p) { return p.name == name; });
  return {};
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
      if (o.info.accessor_id != accessor_id && !o.info.client() &&
          o.info.policy == Policy::management &&
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
