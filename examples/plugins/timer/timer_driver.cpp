// timer: an example out-of-tree driver. A task writes its `message` to its stdout log, "runs"
// for `duration_ms`, then exits with `exit_code`. No process backs it, so the handle alone
// (the deadline) is enough to recover it after an agent restart: the shape every driver needs.
#include <drover/sdk/driver.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <thread>

#ifndef TIMER_VERSION
#define TIMER_VERSION "0.0.0"
#endif

namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

class TimerDriver : public drover::sdk::Driver {
 public:
  nlohmann::json fingerprint() override {
    return {{"Detected", true},
            {"Healthy", true},
            {"HealthDescription", "healthy"},
            {"Attributes", {{"driver.timer.version", TIMER_VERSION}}}};
  }

  std::vector<std::string> validate(const nlohmann::json& config) override {
    std::vector<std::string> problems;
    for (const auto& [key, value] : config.items()) {
      if (key == "message") {
        if (!value.is_string()) problems.push_back("config.message: must be a string");
      } else if (key == "duration_ms" || key == "exit_code") {
        if (!value.is_number_integer() || value.get<int64_t>() < 0)
          problems.push_back("config." + key + ": must be a non-negative integer");
      } else {
        problems.push_back("config." + key + ": unknown key (timer takes message, duration_ms, exit_code)");
      }
    }
    return problems;
  }

  nlohmann::json start(const drover::sdk::TaskSpec& task) override {
    const auto& config = task.config;
    if (config.contains("message") && !task.stdout_path.empty()) {
      std::ofstream out(task.stdout_path, std::ios::app);
      if (!out) throw std::runtime_error("cannot open the task's stdout log");
      out << config.at("message").get<std::string>() << "\n";
    }
    return {{"EndsAtMs", now_ms() + config.value("duration_ms", int64_t{0})},
            {"ExitCode", config.value("exit_code", 0)}};
  }

  std::optional<drover::sdk::ExitStatus> wait(const nlohmann::json& handle,
                                              std::chrono::milliseconds timeout) override {
    const int64_t left = handle.at("EndsAtMs").get<int64_t>() - now_ms();
    if (left > timeout.count()) {
      std::this_thread::sleep_for(timeout);
      return std::nullopt;
    }
    if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(left));
    drover::sdk::ExitStatus status;
    status.exit_code = handle.at("ExitCode").get<int>();
    return status;
  }

  // A timer has nothing to kill: stopping it is a no-op, and wait then reports the deadline.
  void stop(const nlohmann::json&, const std::string&, std::chrono::milliseconds) override {}
  void destroy(const nlohmann::json&) override {}

  nlohmann::json inspect(const nlohmann::json& handle) override {
    return {{"PID", 0}, {"Running", handle.at("EndsAtMs").get<int64_t>() > now_ms()}};
  }

  void signal(const nlohmann::json&, const std::string&) override {
    throw std::runtime_error("timer tasks take no signals");
  }

  nlohmann::json recover(const nlohmann::json& handle) override {
    if (!handle.contains("EndsAtMs")) throw std::runtime_error("not a timer handle");
    return handle;
  }
};

}  // namespace

DROVER_REGISTER_DRIVER(TimerDriver, "timer", TIMER_VERSION)
