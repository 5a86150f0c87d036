// One thread that waits on the exit descriptors of every running task (a driver's
// drover_driver_wait_fd_v1), so that a running task costs no thread of its own: a task runner
// parks its task here and its thread ends; when the descriptor fires, the watcher calls the
// runner back, which carries on in a new thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace drover::runner {

class ExitWatcher {
 public:
  ExitWatcher();
  ~ExitWatcher();  // stops the thread; parked callbacks are dropped, their fds closed
  ExitWatcher(const ExitWatcher&) = delete;
  ExitWatcher& operator=(const ExitWatcher&) = delete;

  // Takes ownership of `fd` and calls `fired` once, on the watcher's thread, when it becomes
  // readable or hangs up (the fd is closed first). Returns an id for cancel(); 0 when the fd
  // cannot be watched (then the fd is closed and the caller waits some other way).
  uint64_t watch(int fd, std::function<void()> fired);
  // Drops a watch that has not fired. When its callback is running, waits for it to return.
  void cancel(uint64_t id);
  bool running() const { return epfd_ >= 0; }

 private:
  void loop();

  int epfd_ = -1;
  int wake_fd_ = -1;
  std::mutex mu_;        // guards watches_ and next_id_
  std::mutex fire_mu_;   // held while a callback runs, so cancel() can wait for it
  std::map<uint64_t, std::pair<int, std::function<void()>>> watches_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace drover::runner
