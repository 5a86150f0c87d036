// Copies a container's stdout and stderr from the Engine API's log stream into the task's log
// files, the same files other drivers write. It remembers the timestamp of the last line it
// wrote (in the task's StateDir), so that a follower started after an agent restart resumes
// with `since=` and neither skips nor repeats a line.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "docker_client.hpp"
#include "rotating_file.hpp"

namespace drover::docker {

class LogFollower {
 public:
  // stdout_path / stderr_path: appended to (created 0644 if missing, never through a symlink).
  // state_dir: where the last timestamp is kept; "" keeps it in memory only.
  // max_files / max_file_size_mb: the task's LogConfig (0: no rotation).
  LogFollower(std::shared_ptr<const DockerClient> client, std::string container_id,
              const std::string& stdout_path, const std::string& stderr_path,
              const std::string& state_dir, int max_files = 0, int max_file_size_mb = 0);
  ~LogFollower();  // stops and joins
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  void start();
  // Stops following now (the container keeps running); what was read is written.
  void stop();
  // Waits until the stream has ended because the container stopped and every line is written.
  bool wait_done(std::chrono::milliseconds timeout);

  // Unix nanoseconds of a docker RFC3339Nano timestamp; -1 when malformed.
  static int64_t parse_timestamp(const std::string& ts);

 private:
  void run();
  void write_frame(int stream, const char* data, size_t len);
  void save_since(int stream, long index, int64_t size);

  std::shared_ptr<const DockerClient> client_;
  std::string id_;
  std::unique_ptr<RotatingFile> out_, err_;
  int since_fd_ = -1;
  int64_t last_ns_ = 0;  // timestamp of the last line written; 0: from the start
  StreamCancel cancel_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace drover::docker
