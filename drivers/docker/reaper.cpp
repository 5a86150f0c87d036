// The docker driver's garbage collection of containers and images.
// - reap (drover_driver_reap_v1): the agent names every alloc it knows once it has recovered,
//   and where its alloc dirs live; every container labelled for another alloc with an alloc
//   dir there (the agent died between creating it and persisting the alloc) is removed at
//   once. Containers of other agents sharing the dockerd have their alloc dirs elsewhere.
// - A background reaper, the fallback for an agent that never calls reap: removes labelled
//   containers that no task of this driver owns once they are older than
//   gc.dangling_containers.creation_grace, and images no task has used for gc.image_delay.
//   It runs every gc.dangling_containers.period, the first time one period after set_config,
//   so that the agent has recovered its tasks by then.
#include <ctime>
#include <filesystem>
#include <set>
#include <stdexcept>

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

namespace {

// Every container (running or not) carrying drover's alloc label, as /containers/json lists
// them. Throws when dockerd does not answer.
nlohmann::json labelled_containers(const DockerClient& cl) {
  nlohmann::json filters{{"label", {kLabelAllocID}}};
  Response r = cl.get("/containers/json?all=1&filters=" + url_encode(filters.dump()),
                      std::chrono::seconds(10));
  auto list = r.ok() ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json();
  if (!list.is_array()) throw std::runtime_error("listing drover's containers: " + r.message());
  return list;
}

// Whether `dir` lies inside `root` (both absolute paths, compared as written).
bool inside(const std::string& dir, const std::string& root) {
  auto rel = std::filesystem::path(dir).lexically_normal().lexically_relative(
      std::filesystem::path(root).lexically_normal());
  return !root.empty() && !rel.empty() && *rel.begin() != ".." && *rel.begin() != ".";
}

}  // namespace

void DockerDriver::reap(const sdk::KnownAllocs& known_allocs) {
  if (!config_.enabled || !config_.gc_dangling_enabled) return;
  const std::set<std::string> known(known_allocs.alloc_ids.begin(), known_allocs.alloc_ids.end());
  auto cl = client();
  std::string failed;
  for (const auto& c : labelled_containers(*cl)) {
    const std::string id = c.value("Id", "");
    const auto labels = c.value("Labels", nlohmann::json::object());
    if (id.empty() || !labels.is_object() || find(id)) continue;
    const std::string alloc = labels.value(kLabelAllocID, "");
    // Not this agent's (or made before containers carried their alloc dir): the grace-period
    // reaper decides.
    if (known.count(alloc) ||
        !inside(labels.value(kLabelAllocDir, ""), known_allocs.alloc_dir_root))
      continue;
    Response r = cl->del("/containers/" + id + "?force=1&v=1", std::chrono::seconds(10));
    if (!r.ok() && r.status != 404)
      failed += (failed.empty() ? "" : "; ") + id.substr(0, 12) + ": " + r.message();
  }
  if (!failed.empty()) throw std::runtime_error("removing dangling containers: " + failed);
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
    const long long now = static_cast<long long>(std::time(nullptr));
    const long long grace = config_.gc_dangling_grace.count() / 1000;
    for (const auto& c : labelled_containers(*cl)) {
      const std::string id = c.value("Id", "");
      if (id.empty() || find(id) || being_started(c)) continue;
      // A pause container is no task's: the agent removes it with its alloc's network, and
      // reap (above) when its alloc is unknown.
      if (c.value("Labels", nlohmann::json::object()).contains(kLabelInfra)) continue;
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
