// The process's own log, followed by whoever asks (GET /v1/agent/monitor, `drover monitor`),
// at a level of their choosing: an operator reads debug lines from an agent that logs info
// without restarting it (docs/nomad-compat.md, "Agent monitor").
//
// A reader below the configured level lowers the logger's level for as long as it reads; the
// process's own output keeps the configured level (its sink filters). Each reader holds a
// bounded queue: a reader that falls behind loses lines, counted and told to it, and never
// holds up the thread that logs.
#pragma once

#include <spdlog/common.h>
#include <spdlog/sinks/sink.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace drover::agent {

class LogMonitor {
 public:
  // One follower: the lines at its level or above, plain text or JSON (hclog's keys).
  class Reader {
   public:
    // The lines logged since the last call, waiting up to `wait` for one; a line saying how
    // many were dropped first when the queue overflowed. Empty on timeout or once closed.
    std::string take(std::chrono::milliseconds wait);
    bool closed() const;

   private:
    friend class LogMonitor;
    spdlog::level::level_enum level_ = spdlog::level::info;
    bool json_ = false;
    std::vector<std::string> lines_;
    uint64_t dropped_ = 0;
    bool closed_ = false;
    LogMonitor* owner_ = nullptr;
    std::condition_variable cv_;
  };

  // The most lines a reader's queue holds (Nomad's monitor buffers 512).
  static constexpr std::size_t kQueueLines = 512;
  // The most readers at once: each holds one of the API's 16 workers for as long as it reads,
  // and one below the configured level makes every thread format its debug lines.
  static constexpr std::size_t kMaxReaders = 4;

  // Adds the monitor's sink to the default logger, whose sinks keep `configured` as their
  // level. Once per process, after the default logger is set up; the monitor lives as long.
  static LogMonitor& install(spdlog::level::level_enum configured);

  // A new reader, or nothing when kMaxReaders already follow.
  std::shared_ptr<Reader> follow(spdlog::level::level_enum level, bool json);
  // Stops a reader (its connection closed); the logger's level goes back up if it was the
  // one that lowered it.
  void stop(const std::shared_ptr<Reader>& reader);
  // Ends every reader (the process stops).
  void close();
  std::size_t readers() const;

  // Called by the sink with each line logged; lines below every reader's level never come.
  void publish(spdlog::level::level_enum level, const std::string& plain,
               const std::string& json);
  bool wants_json() const;

 private:
  explicit LogMonitor(spdlog::level::level_enum configured) : configured_(configured) {}
  void apply_level();  // with mu_ held

  // The sink the default logger hands lines to: at `off` while nobody reads, so a line is
  // formatted for the monitor only when a reader wants it.
  std::shared_ptr<spdlog::sinks::sink> sink_;

  spdlog::level::level_enum configured_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Reader>> readers_;
  std::size_t json_readers_ = 0;
  bool closed_ = false;
  friend class Reader;
};

// A level's name as the API and Nomad take it (trace, debug, info, warn, error, any case).
bool parse_log_level(const std::string& name, spdlog::level::level_enum* out);

}  // namespace drover::agent
