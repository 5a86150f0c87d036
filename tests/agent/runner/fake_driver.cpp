// The fake driver the runner tests run their tasks on: a real plugin (.so, the SDK, loaded by
// the real registry), whose tasks are entries in memory. Task config:
//   {"exit_code": N, "exit_after_ms": M}  ends with N after M ms (M < 0: runs until stopped)
//   {"fail_start": "why"}                  start fails with that message
//   {"start_gate": true}                   start waits (10 s at most) for <TaskDir>/local/gate
// Plugin config {"recovers_starting": true}: it says RecoversStarting (plugin.h) and answers a
// Starting handle whose StateDir no start of this process used with NeverStarted.
// Every start appends a line to <TaskDir>/local/starts, so a test can count runs. The tasks
// are the process's, not the instance's: a second registry in the same test (an agent
// restarted) recovers them, as a real driver's tasks outlive the agent.
#include <drover/sdk/driver.hpp>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>
#include <map>
#include <mutex>

namespace {

using Clock = std::chrono::steady_clock;

struct FakeTask {
  Clock::time_point ends;  // Clock::time_point::max(): until stopped
  int exit_code = 0;
  int signal = 0;
  bool stopped = false;
  std::string state_dir;  // the start's StateDir
};

// Shared by every instance the process loads.
struct Tasks {
  std::mutex mu;
  std::condition_variable cv;
  std::map<int, FakeTask> by_id;
  int next_id = 0;
};
Tasks& tasks() {
  static Tasks t;
  return t;
}

class FakeDriver : public drover::sdk::Driver {
 public:
  void set_config(const nlohmann::json& c) override {
    recovers_starting_ = c.value("recovers_starting", false);
  }
  nlohmann::json fingerprint() override {
    nlohmann::json fp = {{"Detected", true}, {"Healthy", true}, {"HealthDescription", "healthy"},
                         {"Attributes", {{"driver.fake", "true"}}}};
    if (recovers_starting_) fp["Capabilities"] = {{"RecoversStarting", true}};
    return fp;
  }
  std::vector<std::string> validate(const nlohmann::json& c) override {
    if (c.contains("exit_code") && !c["exit_code"].is_number_integer())
      return {"config.exit_code: must be an integer"};
    return {};
  }
  nlohmann::json start(const drover::sdk::TaskSpec& task) override {
    const auto& config = task.config;
    std::ofstream(task.task_dir + "/local/starts", std::ios::app) << "start\n";
    if (config.contains("fail_start")) throw std::runtime_error(config["fail_start"].get<std::string>());
    if (config.value("start_gate", false))
      for (auto until = Clock::now() + std::chrono::seconds(10);
           !std::filesystem::exists(task.task_dir + "/local/gate") && Clock::now() < until;)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    FakeTask t;
    int after = config.value("exit_after_ms", -1);
    t.ends = after < 0 ? Clock::time_point::max() : Clock::now() + std::chrono::milliseconds(after);
    t.exit_code = config.value("exit_code", 0);
    t.state_dir = task.state_dir;
    std::lock_guard lock(tasks().mu);
    int id = ++tasks().next_id;
    tasks().by_id[id] = t;
    return {{"ID", id}};
  }
  std::optional<drover::sdk::ExitStatus> wait(const nlohmann::json& handle,
                                              std::chrono::milliseconds timeout) override {
    std::unique_lock lock(tasks().mu);
    auto it = tasks().by_id.find(handle.value("ID", 0));
    if (it == tasks().by_id.end()) throw std::runtime_error("no such task");
    auto deadline = Clock::now() + timeout;
    tasks().cv.wait_until(lock, std::min(deadline, it->second.ends), [&] { return it->second.stopped; });
    const auto& t = it->second;
    if (t.stopped) return drover::sdk::ExitStatus{0, t.signal, false, ""};
    if (Clock::now() >= t.ends) return drover::sdk::ExitStatus{t.exit_code, 0, false, ""};
    return std::nullopt;
  }
  void stop(const nlohmann::json& handle, const std::string&, std::chrono::milliseconds) override {
    {
      std::lock_guard lock(tasks().mu);
      auto it = tasks().by_id.find(handle.value("ID", 0));
      if (it == tasks().by_id.end()) return;
      it->second.stopped = true;
      it->second.signal = 15;
    }
    tasks().cv.notify_all();
  }
  void destroy(const nlohmann::json& handle) override {
    std::lock_guard lock(tasks().mu);
    tasks().by_id.erase(handle.value("ID", 0));
  }
  nlohmann::json inspect(const nlohmann::json&) override { return nlohmann::json::object(); }
  void signal(const nlohmann::json&, const std::string&) override {}
  nlohmann::json recover(const nlohmann::json& handle) override {
    std::lock_guard lock(tasks().mu);
    if (handle.value("Starting", false)) {
      if (!recovers_starting_) throw std::runtime_error("a Starting handle");
      for (const auto& [id, t] : tasks().by_id)
        if (t.state_dir == handle.value("StateDir", "")) return {{"ID", id}};
      throw drover::sdk::NeverStarted("never started");
    }
    if (!tasks().by_id.count(handle.value("ID", 0))) throw std::runtime_error("the task is gone");
    return handle;
  }

 private:
  bool recovers_starting_ = false;
};

}  // namespace

DROVER_REGISTER_DRIVER(FakeDriver, "fake", "0.1.0")
