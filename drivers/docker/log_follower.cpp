// The container log follower (see log_follower.hpp).
#include "log_follower.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace drover::docker {
namespace {}  // namespace

int64_t LogFollower::parse_timestamp(const std::string& ts) {
  struct tm tm {};
  int consumed = 0;
  if (std::sscanf(ts.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t nanos = 0;
  size_t i = static_cast<size_t>(consumed);
  if (i < ts.size() && ts[i] == '.') {
    int digits = 0;
    for (++i; i < ts.size() && ts[i] >= '0' && ts[i] <= '9'; ++i) {
      if (digits < 9) {
        nanos = nanos * 10 + (ts[i] - '0');
        ++digits;
      }
    }
    for (; digits < 9; ++digits) nanos *= 10;
  }
  if (i >= ts.size() || ts[i] != 'Z') return -1;  // docker writes UTC
  return static_cast<int64_t>(timegm(&tm)) * 1000000000LL + nanos;
}

LogFollower::LogFollower(std::shared_ptr<const DockerClient> client, std::string container_id,
                         const std::string& stdout_path, const std::string& stderr_path,
                         const std::string& state_dir, int max_files, int max_file_size_mb)
    : client_(std::move(client)), id_(std::move(container_id)) {
  const int64_t max_size = int64_t{max_file_size_mb} * 1024 * 1024;
  out_ = std::make_unique<RotatingFile>(stdout_path, max_files, max_size);
  err_ = std::make_unique<RotatingFile>(stderr_path, max_files, max_size);
  if (!state_dir.empty()) {
    const std::string path = state_dir + "/docker-logs.since";
    since_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    char buf[128] = {};
    long long ns = 0, index = -1, size = -1;
    int stream = 1;
    if (since_fd_ >= 0 && ::pread(since_fd_, buf, sizeof buf - 1, 0) > 0 &&
        std::sscanf(buf, "%lld %d %lld %lld", &ns, &stream, &index, &size) >= 1) {
      last_ns_ = ns;
      // The record is written just before its line. When the agent died between the two, the
      // file is no longer than the record says: that line was never written, so take it again.
      if (size >= 0 && (stream == 2 ? err_ : out_)->size_of(index) <= size) last_ns_ = ns - 1;
    }
  }
}

LogFollower::~LogFollower() {
  stop();
  if (since_fd_ >= 0) ::close(since_fd_);
}

void LogFollower::start() {
  thread_ = std::thread([this] { run(); });
}

void LogFollower::stop() {
  cancel_.cancel();
  if (thread_.joinable()) thread_.join();
}

bool LogFollower::wait_done(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return done_; });
}

void LogFollower::save_since(int stream, long index, int64_t size) {
  if (since_fd_ < 0) return;
  char buf[96];
  // "<ns> <stream> <file index> <size before the line>", fixed width, so that a shorter record
  // never leaves the tail of a longer one behind; one pwrite, so it is never half old.
  int n =
      std::snprintf(buf, sizeof buf, "%020lld %d %020ld %020lld\n",
                    static_cast<long long>(last_ns_), stream, index, static_cast<long long>(size));
  (void)!::pwrite(since_fd_, buf, static_cast<size_t>(n), 0);
}

void LogFollower::write_frame(int stream, const char* data, size_t len) {
  // timestamps=1: each frame starts with "<RFC3339Nano> ".
  const char* space = static_cast<const char*>(std::memchr(data, ' ', std::min<size_t>(len, 64)));
  if (!space) return;
  int64_t ns = parse_timestamp(std::string(data, space));
  if (ns < 0 || ns <= last_ns_) return;  // already written before a restart: `since` is inclusive
  const char* payload = space + 1;
  const size_t n = len - static_cast<size_t>(payload - data);
  RotatingFile& file = *(stream == 2 ? err_ : out_);
  // Record first, then write: after a SIGKILL between the two, the file size tells which.
  auto pos = file.prepare(n);
  last_ns_ = ns;
  save_since(stream == 2 ? 2 : 1, pos.index, pos.size);
  file.write(payload, n);
}

void LogFollower::run() {
  FrameDecoder decoder;
  bool follow = true;
  while (!cancel_.cancelled()) {
    std::string path = "/containers/" + id_ + "/logs?follow=" + (follow ? "1" : "0") +
                       "&stdout=1&stderr=1&timestamps=1";
    if (last_ns_ > 0) {
      char since[48];
      std::snprintf(since, sizeof since, "&since=%lld.%09lld",
                    static_cast<long long>(last_ns_ / 1000000000LL),
                    static_cast<long long>(last_ns_ % 1000000000LL));
      path += since;
    }
    decoder = FrameDecoder{};
    Response r = client_->stream(
        path,
        [&](const char* data, size_t len) {
          decoder.feed(data, len, [&](int s, const char* d, size_t n) { write_frame(s, d, n); });
          return !cancel_.cancelled();
        },
        std::chrono::hours(24 * 365), &cancel_);
    if (cancel_.cancelled()) break;  // stopped: still wake whoever waits for the end
    if (r.status == 404) break;  // the container is gone: nothing more will come
    if (r.ok() && !follow) break;
    if (r.ok()) {
      // The stream ends when the container stops. Make sure it did (and not the daemon).
      Response in = client_->get("/containers/" + id_ + "/json", std::chrono::seconds(5));
      if (in.status == 404) break;
      if (in.ok()) {
        auto j = nlohmann::json::parse(in.body, nullptr, false);
        if (j.is_object() && !j["State"].value("Running", false)) {
          // dockerd 20.10 may end a follow before its last lines reach the log file; one
          // plain read from the last timestamp picks them up.
          follow = false;
          continue;
        }
      }
    }
    // The daemon went away or restarted: try again shortly, resuming from the last line.
    for (int i = 0; i < 10 && !cancel_.cancelled(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::lock_guard lock(mu_);
  done_ = true;
  cv_.notify_all();
}

}  // namespace drover::docker
