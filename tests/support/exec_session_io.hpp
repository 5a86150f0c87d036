// Header-only helpers for the driver tests of streaming exec (plugin.h,
// drover_driver_exec_stream_v1): write a command's input, read its output until a text shows up.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

namespace drover::test_support {

inline bool write_text(int fd, const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t w = ::write(fd, text.data() + off, text.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
}

// Everything read from fd until `want` is in it, the end of the stream (EOF, or EIO on a
// terminal's master once its slave is closed) or `timeout`, whichever comes first.
inline std::string read_until(int fd, const std::string& want,
                              std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string got;
  while (want.empty() || got.find(want) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// Sends `line` again and again until the output shows `want` (or `timeout` passes); returns
// all the output. For what reaches a command on its own time (runc copies a terminal's size
// into the container's when it gets to it).
inline std::string repeat_until(int in_fd, int out_fd, const std::string& line,
                                const std::string& want,
                                std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string got;
  while (got.find(want) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    if (!write_text(in_fd, line)) break;
    got += read_until(out_fd, want, std::chrono::milliseconds(300));
  }
  return got;
}

}  // namespace drover::test_support
