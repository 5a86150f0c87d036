// Rotating log files (see rotating_file.hpp). Files are opened from a dir fd with O_NOFOLLOW:
// a task that can write the log dir must not make the agent write through a symlink.
#include "rotating_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace drover::docker {
namespace {

void write_all(int fd, const char* data, size_t len) {
  while (fd >= 0 && len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // disk full: drop rather than stall the follower forever
    data += n;
    len -= static_cast<size_t>(n);
  }
}

}  // namespace

RotatingFile::RotatingFile(const std::string& path, int max_files, int64_t max_size_bytes)
    : max_files_(max_files), max_size_(max_size_bytes) {
  if (path.empty()) return;
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = name.rfind('.');
  bool numbered = dot != std::string::npos && dot + 1 < name.size() &&
                  name.find_first_not_of("0123456789", dot + 1) == std::string::npos;
  if (!numbered || max_files <= 0 || max_size_bytes <= 0) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    return;
  }
  dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) return;
  base_ = name.substr(0, dot + 1);
  long highest = std::strtol(name.c_str() + dot + 1, nullptr, 10);
  // After an agent restart the live file may be a later one: continue there.
  int scan_fd = ::dup(dir_fd_);
  if (DIR* d = scan_fd >= 0 ? ::fdopendir(scan_fd) : nullptr) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() <= base_.size() || n.compare(0, base_.size(), base_) != 0) continue;
      std::string idx = n.substr(base_.size());
      if (idx.find_first_not_of("0123456789") != std::string::npos) continue;
      highest = std::max(highest, std::strtol(idx.c_str(), nullptr, 10));
    }
    ::closedir(d);
  } else if (scan_fd >= 0) {
    ::close(scan_fd);
  }
  open_index(highest);
}

RotatingFile::~RotatingFile() {
  if (fd_ >= 0) ::close(fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

bool RotatingFile::open_index(long index) {
  const std::string name = base_ + std::to_string(index);
  int fd =
      ::openat(dir_fd_, name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  index_ = index;
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? st.st_size : 0;
  return true;
}

void RotatingFile::drop_old() {
  for (long i = index_ - max_files_; i >= 0; --i) {
    const std::string name = base_ + std::to_string(i);
    if (::unlinkat(dir_fd_, name.c_str(), 0) != 0 && errno == ENOENT) break;  // older ones gone
  }
}

RotatingFile::Position RotatingFile::prepare(size_t len) {
  if (index_ >= 0 && size_ > 0 && size_ + static_cast<int64_t>(len) > max_size_) {
    if (open_index(index_ + 1)) drop_old();
  }
  if (index_ < 0 && fd_ >= 0) {  // a plain file: someone else may append too
    struct stat st {};
    if (::fstat(fd_, &st) == 0) size_ = st.st_size;
  }
  return {index_, size_};
}

int64_t RotatingFile::size_of(long index) const {
  struct stat st {};
  if (index < 0) return (fd_ >= 0 && ::fstat(fd_, &st) == 0) ? st.st_size : -1;
  if (dir_fd_ < 0) return -1;
  const std::string name = base_ + std::to_string(index);
  if (::fstatat(dir_fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
  return st.st_size;
}

void RotatingFile::write(const char* data, size_t len) {
  write_all(fd_, data, len);
  size_ += static_cast<int64_t>(len);
}

}  // namespace drover::docker
