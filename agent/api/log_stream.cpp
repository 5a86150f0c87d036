#include "api/log_stream.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace drover::api {

LogStream::LogStream(std::filesystem::path root, std::string base)
    : root_(std::move(root)), base_(std::move(base)) {}

std::vector<int> LogStream::indexes() const {
  std::vector<int> out;
  auto dir = fs::open_beneath(root_, "alloc/logs", O_RDONLY | O_DIRECTORY);
  if (!dir) return out;
  DIR* d = fdopendir(dir->release());
  if (!d) return out;
  auto prefix = base_ + ".";
  while (auto* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    auto suffix = name.substr(prefix.size());
    if (suffix.empty() || suffix.size() > 6 ||
        !std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    out.push_back(std::stoi(suffix));
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status LogStream::open_index(int index) {
  auto fd = fs::open_beneath(root_, "alloc/logs/" + base_ + "." + std::to_string(index), O_RDONLY);
  if (!fd) return fd.error();
  fd_ = std::move(fd.value());
  index_ = index;
  pos_ = 0;
  return {};
}

Status LogStream::seek(long long offset, bool from_end) {
  auto idx = indexes();
  remaining_at_seek_ = 0;
  if (idx.empty()) {
    index_ = -1;  // nothing written yet: read() opens the first file when it appears
    return {};
  }
  std::vector<long long> sizes;
  long long total = 0;
  for (int i : idx) {
    struct stat st {};
    auto fd = fs::open_beneath(root_, "alloc/logs/" + base_ + "." + std::to_string(i), O_RDONLY);
    if (!fd) return fd.error();
    fstat(fd->get(), &st);
    sizes.push_back(st.st_size);
    total += st.st_size;
  }
  long long target = from_end ? std::max(0LL, total - offset) : std::min(offset, total);
  remaining_at_seek_ = total - target;
  for (std::size_t k = 0; k < idx.size(); ++k) {
    if (target <= sizes[k] || k + 1 == idx.size()) {
      if (auto st = open_index(idx[k]); !st) return st;
      pos_ = std::min(target, sizes[k]);
      return {};
    }
    target -= sizes[k];
  }
  return {};
}

Result<std::size_t> LogStream::read(char* buf, std::size_t max) {
  for (;;) {
    if (!fd_) {
      auto idx = indexes();
      if (idx.empty()) return std::size_t{0};
      if (auto st = open_index(idx.front()); !st) return st.error();
    }
    ssize_t n = pread(fd_.get(), buf, max, pos_);
    if (n > 0) {
      pos_ += n;
      return static_cast<std::size_t>(n);
    }
    // At the end of this file: go on to the next one once rotation made it.
    auto idx = indexes();
    auto next = std::upper_bound(idx.begin(), idx.end(), index_);
    if (next == idx.end()) return std::size_t{0};
    // Whatever the old file got after our last read comes first.
    n = pread(fd_.get(), buf, max, pos_);
    if (n > 0) {
      pos_ += n;
      return static_cast<std::size_t>(n);
    }
    if (auto st = open_index(*next); !st) return st.error();
  }
}

}  // namespace drover::api
