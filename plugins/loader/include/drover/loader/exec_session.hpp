// One interactive command inside a task (plugin.h, drover_driver_exec_stream_v1), as the
// agent holds it: the descriptors the driver handed over, owned here, and the driver's calls
// on it. Destroying it closes them and has the driver kill (if need be) and reap the command.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "drover/plugin.h"

namespace drover::plugins {

struct ExitResult;

// An interactive command to run inside a task (plugin.h, drover_driver_exec_stream_v1).
struct ExecRequest {
  std::vector<std::string> argv;  // not empty
  bool tty = false;
  int height = 0, width = 0;  // the terminal's size in cells; 0: unknown
};

class ExecSession {
 public:
  ExecSession(std::string driver, const drover_plugin* plugin, void* instance,
              const drover_exec_stream_v1* calls, void* session, std::array<int, 4> fds,
              bool tty);
  ~ExecSession();
  ExecSession(const ExecSession&) = delete;
  ExecSession& operator=(const ExecSession&) = delete;

  bool tty() const { return tty_; }
  // Where the command's input goes: the terminal's master with tty, its stdin pipe without
  // (-1 once close_input ran).
  int input_fd() const { return fds_[0]; }
  // Its output: the master again with tty (stdout and stderr are one stream on a terminal).
  int stdout_fd() const { return tty_ ? fds_[0] : fds_[1]; }
  int stderr_fd() const { return tty_ ? -1 : fds_[2]; }
  // Readable once the command has exited; -1 when the driver gave none (then poll wait).
  int exit_fd() const { return fds_[3]; }
  // The end of its input: the stdin pipe is closed (EOF); a terminal's stays open.
  void close_input();
  void close_output();  // stdout and stderr, once read to their end

  // nullopt while it runs after `timeout` (0: just look).
  Result<std::optional<ExitResult>> wait(std::chrono::milliseconds timeout);
  Status resize(int height, int width);
  Status kill();

 private:
  std::string driver_;
  const drover_plugin* plugin_;
  void* instance_;
  const drover_exec_stream_v1* calls_;
  void* session_;
  std::array<int, 4> fds_;
  bool tty_;
};

}  // namespace drover::plugins
