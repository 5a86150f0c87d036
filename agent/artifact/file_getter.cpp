// file:// sources from the operator's allowed dirs, and copying a tree (a git checkout, an
// allowed dir) into the destination (getters.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "artifact/getters.hpp"

namespace drover::artifact {

namespace {

std::optional<std::string> real_path(const std::filesystem::path& p) {
  char* r = ::realpath(p.c_str(), nullptr);
  if (!r) return std::nullopt;
  std::string out(r);
  std::free(r);
  return out;
}

}  // namespace

Result<std::filesystem::path> allowed_file_source(const std::string& path, const Limits& limits) {
  if (limits.file_allowed_dirs.empty())
    return make_error("file source " + path +
                          ": refused: the agent config's artifact.file_allowed_dirs allows no "
                          "directory",
                      Errc::Invalid);
  auto real = real_path(path);
  if (!real) return make_error("file source " + path + ": " + std::strerror(errno), Errc::Invalid);
  for (const auto& dir : limits.file_allowed_dirs) {
    auto allowed = real_path(dir);
    if (!allowed) continue;
    if (*real == *allowed || real->rfind(*allowed == "/" ? "/" : *allowed + "/", 0) == 0)
      return std::filesystem::path(*real);
  }
  return make_error("file source " + path +
                        ": refused: not beneath a directory of the agent config's "
                        "artifact.file_allowed_dirs",
                    Errc::Invalid);
}

Status copy_tree(const std::filesystem::path& from, EntryWriter& out) {
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(from, ec), end;
  if (ec) return make_error("reading " + from.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return make_error("reading " + from.string() + ": " + ec.message());
    const auto& entry = *it;
    const std::string rel = std::filesystem::relative(entry.path(), from, ec).string();
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0)
      return make_error("reading " + entry.path().string() + ": " + std::strerror(errno));
    Status s;
    if (S_ISLNK(st.st_mode)) {
      s = out.symlink(rel, std::filesystem::read_symlink(entry.path(), ec).string());
    } else if (S_ISDIR(st.st_mode)) {
      s = out.dir(rel, st.st_mode);
    } else if (S_ISREG(st.st_mode)) {
      int fd = ::open(entry.path().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return make_error("reading " + entry.path().string() + ": " + std::strerror(errno));
      s = out.file(rel, st.st_mode, [fd](char* buf, std::size_t size) -> Result<std::size_t> {
        for (;;) {
          ssize_t n = ::read(fd, buf, size);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) return make_error(std::string("reading: ") + std::strerror(errno));
          return static_cast<std::size_t>(n);
        }
      });
      ::close(fd);
    } else {
      return make_error("entry \"" + rel + "\": refused: a device file, fifo or socket",
                        Errc::Invalid);
    }
    if (!s) return s;
  }
  return {};
}

}  // namespace drover::artifact
