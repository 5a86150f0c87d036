// The standalone backend: jobs come in through this node's API and CLI, and status is read
// back from the same API, the event stream and the metrics. Every call succeeds at once.
#pragma once

#include <condition_variable>
#include <mutex>

#include "upstream/upstream.hpp"

namespace drover::upstream {

class StandaloneUpstream : public Upstream {
 public:
  std::string name() const override { return "standalone"; }
  Status register_node(const nlohmann::json&) override { return {}; }
  Status heartbeat() override { return {}; }
  Result<DesiredAllocs> list_allocs() override { return DesiredAllocs{}; }
  Status watch_allocs(int64_t, const std::function<void(const DesiredAllocEvent&)>&) override;
  Status report(const std::vector<AllocUpdate>&) override { return {}; }
  void interrupt() override;
  bool clustered() const override { return false; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;
};

}  // namespace drover::upstream
