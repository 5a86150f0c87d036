// The docker driver: runs each task as a container through the Docker Engine API, follows its
// logs into the task's log files, and finds it again by container id after an agent restart.
#pragma once

#include <atomic>
#include <condition_variable>
#include <drover/sdk/driver.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "docker_client.hpp"
#include "log_follower.hpp"
#include "plugin_config.hpp"

namespace drover::docker {

// One container this driver started or recovered.
struct Container {
  std::string id, image, kill_signal;
  nlohmann::json handle;
  std::unique_ptr<LogFollower> logs;
  std::mutex mu;  // guards `exit`
  std::optional<sdk::ExitStatus> exit;
  std::atomic<bool> stopping{false};  // the driver sent its stop: a SIGKILL exit is no OOM
};

class DockerDriver : public sdk::Driver {
 public:
  ~DockerDriver() override;  // stops the reaper and log followers; containers keep running

  void set_config(const nlohmann::json& config) override;
  nlohmann::json fingerprint() override;
  std::vector<std::string> validate(const nlohmann::json& task_config) override;
  nlohmann::json start(const sdk::TaskSpec& task) override;
  int wait_fd(const nlohmann::json& handle) override;
  std::optional<sdk::ExitStatus> wait(const nlohmann::json& handle,
                                      std::chrono::milliseconds timeout) override;
  void stop(const nlohmann::json& handle, const std::string& signal,
            std::chrono::milliseconds timeout) override;
  void destroy(const nlohmann::json& handle) override;
  nlohmann::json inspect(const nlohmann::json& handle) override;
  void signal(const nlohmann::json& handle, const std::string& signal) override;
  nlohmann::json stats(const nlohmann::json& handle) override;
  nlohmann::json recover(const nlohmann::json& handle) override;
  // Commands inside the container (container_exec.cpp): script checks, `alloc exec`.
  sdk::ExecResult exec_task(const nlohmann::json& handle, const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout) override;
  std::unique_ptr<sdk::ExecStream> exec_stream(const nlohmann::json& handle,
                                               const sdk::ExecStreamRequest& request) override;
  // Removes every container this agent labelled for an alloc it does not know (reaper.cpp).
  void reap(const sdk::KnownAllocs& known) override;
  // The pause container holding an alloc's network namespace (network.cpp).
  sdk::NetworkSpec create_network(const sdk::NetworkRequest& request) override;
  void destroy_network(const std::string& alloc_id,
                       const std::map<std::string, std::string>& labels) override;

 private:
  std::shared_ptr<const DockerClient> client() const;
  std::shared_ptr<Container> find(const std::string& id) const;
  std::shared_ptr<Container> tracked(const nlohmann::json& handle) const;
  void track(const std::shared_ptr<Container>& c);
  // Polls the container until it is not running or `timeout` passes; records its exit.
  std::optional<sdk::ExitStatus> poll_exit(Container& c, std::chrono::milliseconds timeout);
  void reaper_loop();
  void reap_once();
  bool being_started(const nlohmann::json& listed_container) const;

  PluginConfig config_;  // written once by set_config, before any other call
  mutable std::mutex mu_;
  std::shared_ptr<const DockerClient> client_;
  bool ever_healthy_ = false;
  std::map<std::string, std::shared_ptr<Container>> containers_;                // by container id
  std::map<std::string, std::chrono::steady_clock::time_point> unused_images_;  // gc.image
  std::multiset<std::string> starting_;  // container names between create and track

  std::thread reaper_;
  std::condition_variable reaper_cv_;
  bool stopping_ = false;
};

}  // namespace drover::docker
