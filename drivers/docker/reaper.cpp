// The docker driver's background garbage collector: removes containers labelled by drover that
// no task of this agent owns (a crash between create and persisting the handle leaves one),
// once they are older than gc.dangling_containers.creation_grace, and images no task has used
// for gc.image_delay. It runs every gc.dangling_containers.period, the first time one period
// after set_config, so that the agent has recovered its tasks by then.
#include <ctime>

#include "container_spec.hpp"
#include "docker_driver.hpp"
#include "images.hpp"

namespace drover::docker {

void DockerDriver::reaper_loop() {
  auto period = std::min(config_.gc_dangling_period,
                         config_.gc_image ? config_.gc_image_delay : config_.gc_dangling_period);
  period = std::max(period, std::chrono::milliseconds(100));
  std::unique_lock lock(mu_);
  while (!reaper_cv_.wait_for(lock, period, [&] { return stopping_; })) {
    lock.unlock();
    try {
      reap_once();
    } catch (...) {
      // The daemon may be down; the next round tries again.
    }
    lock.lock();
  }
}

bool DockerDriver::being_started(const nlohmann::json& listed) const {
  std::lock_guard lock(mu_);
  for (const auto& n : listed.value("Names", nlohmann::json::array())) {
    if (n.is_string() && starting_.count(n.get<std::string>().substr(1))) return true;
  }
  return false;
}

void DockerDriver::reap_once() {
  auto cl = client();
  if (config_.gc_dangling_enabled) {
    nlohmann::json filters{{"label", {kLabelAllocID}}};
    Response r = cl->get("/containers/json?all=1&filters=" + url_encode(filters.dump()),
                         std::chrono::seconds(10));
    auto list = r.ok() ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json();
    const long long now = static_cast<long long>(std::time(nullptr));
    const long long grace = config_.gc_dangling_grace.count() / 1000;
    for (const auto& c : list.is_array() ? list : nlohmann::json::array()) {
      const std::string id = c.value("Id", "");
      if (id.empty() || find(id) || being_started(c)) continue;
      if (now - c.value("Created", now) < grace) continue;  // may be starting right now
      cl->del("/containers/" + id + "?force=1&v=1", std::chrono::seconds(10));
    }
  }
  if (config_.gc_image) {
    std::vector<std::string> due;
    {
      std::lock_guard lock(mu_);
      const auto now = std::chrono::steady_clock::now();
      for (auto it = unused_images_.begin(); it != unused_images_.end();) {
        if (it->second <= now) {
          due.push_back(it->first);
          it = unused_images_.erase(it);
        } else {
          ++it;
        }
      }
    }
    // A 409 (another container, maybe not drover's, still uses it) keeps the image.
    for (const auto& image : due) cl->del("/images/" + image, std::chrono::seconds(30));
  }
}

}  // namespace drover::docker
