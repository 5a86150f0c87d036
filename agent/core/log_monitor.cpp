// The log monitor and its spdlog sink; see log_monitor.hpp.
#include "core/log_monitor.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

#include "drover/common/json_text.hpp"

namespace drover::agent {

namespace {

// The agent's own line format (core/agent.cpp), so a monitored line reads like the journal's.
constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%e%z [%l] %v";

// hclog's level names, which Nomad's JSON lines carry.
const char* json_level(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "error";
    default: return "info";
  }
}

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us % 1000000));
  return buf;
}

// Hands every line the logger lets through to the monitor, formatted the ways its readers
// asked for. Never logs itself (it runs inside a log call).
class MonitorSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit MonitorSink(LogMonitor& monitor) : monitor_(monitor) {
    set_formatter(std::make_unique<spdlog::pattern_formatter>(kPattern));
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t plain;
    formatter_->format(msg, plain);
    std::string json;
    if (monitor_.wants_json())
      json = json_text(nlohmann::json{
                 {"@level", json_level(msg.level)},
                 {"@message", std::string(msg.payload.data(), msg.payload.size())},
                 {"@module", msg.logger_name.size() ? std::string(msg.logger_name.data(),
                                                                 msg.logger_name.size())
                                                     : std::string("drover")},
                 {"@timestamp", utc_timestamp(msg.time)}}) +
             "\n";
    monitor_.publish(msg.level, std::string(plain.data(), plain.size()), json);
  }
  void flush_() override {}

 private:
  LogMonitor& monitor_;
};

}  // namespace

bool parse_log_level(const std::string& name, spdlog::level::level_enum* out) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::pair<const char*, spdlog::level::level_enum> levels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err}};
  for (const auto& [n, l] : levels)
    if (lower == n) {
      *out = l;
      return true;
    }
  return false;
}

LogMonitor& LogMonitor::install(spdlog::level::level_enum configured) {
  // Never freed: the default logger holds its sink until the process ends.
  static LogMonitor* monitor = nullptr;
  if (monitor) return *monitor;
  monitor = new LogMonitor(configured);
  auto logger = spdlog::default_logger();
  for (auto& sink : logger->sinks()) sink->set_level(configured);
  auto sink = std::make_shared<MonitorSink>(*monitor);
  sink->set_level(spdlog::level::off);  // nobody reads yet
  monitor->sink_ = sink;
  logger->sinks().push_back(sink);
  logger->set_level(configured);
  return *monitor;
}

std::shared_ptr<LogMonitor::Reader> LogMonitor::follow(spdlog::level::level_enum level,
                                                       bool json) {
  std::lock_guard lock(mu_);
  if (closed_ || readers_.size() >= kMaxReaders) return nullptr;
  auto r = std::make_shared<Reader>();
  r->level_ = level;
  r->json_ = json;
  r->owner_ = this;
  readers_.push_back(r);
  if (json) ++json_readers_;
  apply_level();
  return r;
}

void LogMonitor::stop(const std::shared_ptr<Reader>& reader) {
  std::lock_guard lock(mu_);
  auto it = std::find(readers_.begin(), readers_.end(), reader);
  if (it == readers_.end()) return;
  if ((*it)->json_) --json_readers_;
  (*it)->closed_ = true;
  readers_.erase(it);
  apply_level();
  reader->cv_.notify_all();
}

void LogMonitor::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto& r : readers_) {
    r->closed_ = true;
    r->cv_.notify_all();
  }
  readers_.clear();
  json_readers_ = 0;
  apply_level();
}

std::size_t LogMonitor::readers() const {
  std::lock_guard lock(mu_);
  return readers_.size();
}

bool LogMonitor::wants_json() const {
  std::lock_guard lock(mu_);
  return json_readers_ > 0;
}

void LogMonitor::apply_level() {
  auto lowest_reader = spdlog::level::off;
  for (const auto& r : readers_) lowest_reader = std::min(lowest_reader, r->level_);
  if (sink_) sink_->set_level(lowest_reader);
  spdlog::default_logger()->set_level(std::min(configured_, lowest_reader));
}

void LogMonitor::publish(spdlog::level::level_enum level, const std::string& plain,
                         const std::string& json) {
  std::lock_guard lock(mu_);
  for (auto& r : readers_) {
    if (level < r->level_) continue;
    if (r->lines_.size() >= kQueueLines) {
      ++r->dropped_;
      continue;
    }
    r->lines_.push_back(r->json_ ? json : plain);
    r->cv_.notify_all();
  }
}

std::string LogMonitor::Reader::take(std::chrono::milliseconds wait) {
  std::unique_lock lock(owner_->mu_);
  cv_.wait_for(lock, wait, [&] { return closed_ || !lines_.empty() || dropped_ > 0; });
  std::string out;
  if (dropped_ > 0) {
    // Said in the reader's own format, as a line of the log would be.
    const std::string what = "drover monitor: this reader fell behind and " +
                             std::to_string(dropped_) + " log lines were dropped";
    out = json_ ? json_text(nlohmann::json{{"@level", "warn"}, {"@message", what}}) + "\n"
                : "[warn] " + what + "\n";
    dropped_ = 0;
  }
  for (auto& l : lines_) out += l;
  lines_.clear();
  return out;
}

bool LogMonitor::Reader::closed() const {
  std::lock_guard lock(owner_->mu_);
  return closed_;
}

}  // namespace drover::agent
