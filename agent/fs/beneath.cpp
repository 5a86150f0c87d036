#include "fs/beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace drover::fs {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Fd> open_beneath(const std::filesystem::path& root, const std::string& relative, int flags,
                        unsigned mode) {
  Fd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return make_error("opening " + root.string() + ": " + std::strerror(errno));
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, dir.get(), relative.c_str(), &how, sizeof how);
  if (fd < 0) {
    int err = errno;
    if (err == EXDEV || err == ELOOP)
      return make_error(relative + ": refused: the path leaves " + root.string() +
                        " or goes through a symlink");
    return make_error(relative + ": " + std::strerror(err),
                      err == ENOENT ? Errc::NotFound : err == ENOTDIR ? Errc::Invalid : Errc::Internal);
  }
  return Fd(static_cast<int>(fd));
}

}  // namespace drover::fs
