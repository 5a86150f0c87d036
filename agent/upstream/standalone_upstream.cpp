// The standalone backend; see standalone_upstream.hpp. Also the alloc status document that
// every backend reports.
#include "upstream/standalone_upstream.hpp"

namespace drover::upstream {

Status StandaloneUpstream::watch_allocs(int64_t,
                                        const std::function<void(const DesiredAllocEvent&)>&) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return interrupted_; });
  interrupted_ = false;
  return make_error("interrupted");
}

void StandaloneUpstream::interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_ = true;
  }
  cv_.notify_all();
}

nlohmann::json alloc_status(const nlohmann::json& a) {
  nlohmann::json out = nlohmann::json::object();
  for (const char* key : {"ID", "JobID", "TaskGroup", "ClientStatus", "ClientDescription",
                          "DesiredStatus", "TaskStates", "DeploymentStatus", "ModifyTime",
                          "NetworkStatus"})
    out[key] = a.contains(key) ? a.at(key) : nlohmann::json();
  return out;
}

}  // namespace drover::upstream
