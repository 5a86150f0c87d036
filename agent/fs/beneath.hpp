// Opens files under a root directory without ever leaving it: openat2 with RESOLVE_BENEATH and
// RESOLVE_NO_SYMLINKS from a dir fd, so a task that plants `logs/x -> /etc/shadow` gets
// nothing (docs/threat-model.md, "Paths and links"). Every agent-side open inside an alloc dir goes
// through here.
#pragma once

#include <filesystem>
#include <string>

#include "drover/common/result.hpp"

namespace drover::fs {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Opens `relative` (no leading '/', no '..' escaping, no symlink anywhere) under `root` with
// `flags` (O_CLOEXEC is always added). Errors name the path and the reason; a path that is
// not there is Errc::NotFound, one that wanted a dir and met a file Errc::Invalid.
Result<Fd> open_beneath(const std::filesystem::path& root, const std::string& relative, int flags,
                        unsigned mode = 0);

}  // namespace drover::fs
