// Reading dockerd's image pull stream (POST /images/create answers one JSON object per line
// per layer step) into what a user wants to see in the task's events: how much of the image
// has come down, at most once per interval, and the error that ended the pull if any.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace drover::docker {

class PullProgress {
 public:
  using Clock = std::chrono::steady_clock;

  // `interval`: the least time between two progress reports (see report_due).
  PullProgress(std::string image, std::chrono::milliseconds interval, Clock::time_point start);

  // Bytes of the stream in any chunking; whole lines are read, a partial one is kept.
  void feed(const char* data, std::size_t len);

  // The pull's {"error": ...} (dockerd answers 200 and then reports failure in the stream);
  // empty while none came.
  const std::string& error() const { return error_; }

  // A progress message when `interval` has passed since the start or the last report and the
  // downloaded bytes changed since then: "Image X: 12.3 MiB/45.0 MiB pulled".
  std::optional<std::string> report_due(Clock::time_point now);
  // The message once the pull has succeeded: "Image X pulled (45.0 MiB downloaded)".
  std::string done_message() const;

  long long downloaded_bytes() const;
  long long total_bytes() const;  // of the layers whose size is known

 private:
  struct Layer {
    long long current = 0, total = 0;
    bool done = false;
  };
  void line(const std::string& text);

  std::string image_;
  std::chrono::milliseconds interval_;
  Clock::time_point last_report_;
  long long last_reported_bytes_ = 0;
  std::string partial_;
  std::map<std::string, Layer> layers_;  // by layer id
  std::string error_;
};

// 1536 -> "1.5 KiB", 47185920 -> "45.0 MiB".
std::string human_bytes(long long bytes);

}  // namespace drover::docker
