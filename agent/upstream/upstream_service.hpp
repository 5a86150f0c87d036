// Drives an Upstream for the agent: registers the node and keeps it registered (heartbeat
// every TTL/3, re-registering after a lapse), applies desired allocs from the backend's watch
// to the AllocManager (a put places, a delete or DesiredStatus stop stops), keeps the last
// applied revision in <data_dir>/upstream-revision.json so a reconnect or restart misses and
// repeats nothing, and sends every alloc change through the batched reporter. After a lapse it
// writes every alloc's status before it registers the node again, and while out of touch it
// stops the allocs whose group's disconnect.stop_on_client_after has run out
// (docs/cluster.md, "Disconnected nodes").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "state/alloc.hpp"
#include "upstream/alloc_reporter.hpp"
#include "upstream/upstream.hpp"

namespace drover::runner {
class AllocManager;
}

namespace drover::upstream {

class UpstreamService {
 public:
  struct Options {
    std::filesystem::path data_dir;
    std::string
        revision_scope;  // e.g. the etcd prefix: a stored revision of another scope is ignored
    std::chrono::milliseconds heartbeat_interval = std::chrono::seconds(5);
  };
  UpstreamService(std::unique_ptr<Upstream> upstream, runner::AllocManager& manager,
                  std::function<nlohmann::json()> node_json, Options opts);
  ~UpstreamService();

  void start();
  void stop();
  // Hook for AllocManager's change callback.
  void alloc_changed(const state::Alloc& alloc);
  // The node's fingerprint changed (a driver's health, free storage): register it again.
  void node_changed();
  // Called with true/false when the node's registration is made or lost.
  void set_on_connection(std::function<void(bool)> fn) { on_connection_ = std::move(fn); }

  bool connected() const { return connected_; }
  std::size_t pending() const { return reporter_.pending(); }
  const Upstream& backend() const { return *upstream_; }

 private:
  void session_loop(std::stop_token stop);
  void watch_loop(std::stop_token stop);
  void apply(const DesiredAllocEvent& ev);
  void resync(bool stop_missing, std::stop_token stop);
  void set_connected(bool c);
  void stop_out_of_touch_allocs();
  int64_t load_revision() const;
  void save_revision(int64_t rev);
  bool wait(std::chrono::milliseconds d, std::stop_token stop);  // false once stopping

  std::unique_ptr<Upstream> upstream_;
  runner::AllocManager& manager_;
  std::function<nlohmann::json()> node_json_;
  Options opts_;
  AllocReporter reporter_;
  std::function<void(bool)> on_connection_;
  std::atomic<bool> connected_{false};
  int64_t revision_ = 0;

  std::mutex mu_;
  std::condition_variable_any cv_;
  bool stopped_ = false;
  bool node_dirty_ = false;
  // When a registration or heartbeat last went through (the session thread's).
  std::chrono::steady_clock::time_point last_contact_ = std::chrono::steady_clock::now();
  std::jthread session_, watch_;  // last: stopped before the rest goes
};

}  // namespace drover::upstream
