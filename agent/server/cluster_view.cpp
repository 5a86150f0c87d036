// The leader's watch-fed view of the cluster; see cluster_view.hpp.
#include "server/cluster_view.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace drover::server {

namespace {

// How long a pass waits for the watch to deliver a revision it needs before it reads the
// whole prefix instead: the watch is milliseconds behind a write when it runs at all.
constexpr auto kCatchUp = std::chrono::seconds(3);

}  // namespace

ClusterView::ClusterView(upstream::EtcdConfig cfg, Keys keys, std::function<void()> on_change)
    : cfg_(std::move(cfg)), keys_(std::move(keys)), on_change_(std::move(on_change)) {}

ClusterView::~ClusterView() { stop_watch(); }

void ClusterView::resync() {
  std::lock_guard lock(mu_);
  fresh_ = false;
}

void ClusterView::release() {
  stop_watch();
  index_.reset();
  revision_ = 0;
}

void ClusterView::stop_watch() {
  {
    std::lock_guard lock(mu_);
    fresh_ = false;
    if (watch_client_) watch_client_->interrupt();
  }
  if (watcher_.joinable()) watcher_.join();
  std::lock_guard lock(mu_);
  watch_client_.reset();
  pending_.clear();
  pending_revision_ = 0;
}

void ClusterView::watch(int64_t from) {
  upstream::EtcdClient* client;
  {
    std::lock_guard lock(mu_);
    client = watch_client_.get();
  }
  auto st = client->watch_prefix(
      keys_.all(), from, [&](const std::vector<upstream::EtcdWatchEvent>& events, int64_t) {
        {
          std::lock_guard lock(mu_);
          if (!fresh_) return;  // doubted: the next current() reads everything again
          for (const auto& e : events) {
            // Not the header's revision: a watch catching up is sent at most 1,000 revisions
            // at a time, each whole, under the store's current revision.
            pending_revision_ = std::max(pending_revision_, e.kv.mod_revision);
            pending_.push_back(e);
          }
        }
        cv_.notify_all();
        if (on_change_) on_change_();
      });
  {
    std::lock_guard lock(mu_);
    fresh_ = false;
  }
  cv_.notify_all();
  spdlog::debug("server: the cluster watch ended: {}", st.message());
}

Result<ClusterState*> ClusterView::reload() {
  stop_watch();
  upstream::EtcdClient etcd(cfg_);
  auto range = etcd.range_prefix(keys_.all());
  if (!range) return range.error();
  auto index = std::make_unique<ClusterStateIndex>(keys_);
  for (const auto& kv : range.value().kvs) index->put(kv);
  index_ = std::move(index);
  revision_ = range.value().revision;
  index_->state().revision = revision_;
  ++reloads_;
  {
    std::lock_guard lock(mu_);
    watch_client_ = std::make_unique<upstream::EtcdClient>(cfg_);
    fresh_ = true;
  }
  watcher_ = std::thread([this, from = revision_ + 1] { watch(from); });
  return &index_->state();
}

Result<ClusterState*> ClusterView::current(int64_t min_revision) {
  if (!catch_up(min_revision, kCatchUp)) return reload();
  return &index_->state();
}

ClusterState* ClusterView::current_if(int64_t min_revision, std::chrono::milliseconds wait) {
  return catch_up(min_revision, wait) ? &index_->state() : nullptr;
}

bool ClusterView::catch_up(int64_t min_revision, std::chrono::milliseconds wait) {
  std::vector<upstream::EtcdWatchEvent> events;
  int64_t delivered = 0;
  {
    std::unique_lock lock(mu_);
    if (!fresh_ || !index_) return false;
    cv_.wait_for(lock, wait, [&] {
      return !fresh_ || std::max(revision_, pending_revision_) >= min_revision;
    });
    if (!fresh_ || std::max(revision_, pending_revision_) < min_revision) return false;
    events.swap(pending_);
    delivered = pending_revision_;
  }
  for (const auto& e : events) {
    if (e.kv.mod_revision <= revision_) continue;  // already in the range read
    if (e.deleted)
      index_->erase(e.kv.key);
    else
      index_->put(e.kv);
  }
  revision_ = std::max(revision_, delivered);
  index_->state().revision = revision_;
  return true;
}

}  // namespace drover::server
