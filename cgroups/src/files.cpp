// Plain reads and writes of cgroup control files.
#include "files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace drover::cgroups {

Result<std::string> read_file(const std::filesystem::path& path) {
  return read_file_at(AT_FDCWD, path.c_str());
}

namespace {

// Reads `fd` from `offset` on until a read comes back short. cgroupfs serves a control file
// through seq_file, which fills the caller's buffer until the text ends: a short read is the
// end, and the read that would return 0 is a syscall saved (stats read ~8 files per task
// every second, and a syscall costs ~1 µs in a VM).
Result<std::string> read_to_end(int fd, bool positional) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = positional ? ::pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()))
                           : ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(std::strerror(errno));
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buf) return out;
  }
}

}  // namespace

Result<std::string> read_file_at(int dirfd, const char* name) {
  // openat + read, not an ifstream: stats read control files of every task every second.
  int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot read " + std::string(name) + ": " + std::strerror(errno));
  auto text = read_to_end(fd, false);
  ::close(fd);
  if (!text) return make_error("cannot read " + std::string(name) + ": " + text.message());
  return text;
}

Result<std::string> pread_whole(int fd) { return read_to_end(fd, true); }

Status write_file(const std::filesystem::path& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC);
  if (fd < 0) return make_error("cannot open " + path.string() + ": " + std::strerror(errno));
  // One write call: the kernel parses a control file value per write().
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n < 0 || static_cast<size_t>(n) != value.size())
    return make_error("cannot write '" + value + "' to " + path.string() + ": " +
                      std::strerror(n < 0 ? err : EIO));
  return {};
}

std::optional<uint64_t> read_u64(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  return parse_u64(*text);
}

std::optional<uint64_t> parse_u64(const std::string& text) {
  uint64_t v = 0;
  const char* begin = text.data();
  while (begin != text.data() + text.size() && (*begin == ' ' || *begin == '\t')) ++begin;
  auto [end, ec] = std::from_chars(begin, text.data() + text.size(), v);
  if (ec != std::errc() || end == begin) return std::nullopt;
  return v;
}

std::optional<uint64_t> kv_value(std::string_view text, std::string_view key) {
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ' ') {
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(line.data() + key.size() + 1, line.data() + line.size(), v);
      if (ec == std::errc()) return v;
      return std::nullopt;
    }
    pos = eol + 1;
  }
  return std::nullopt;
}

std::map<std::string, uint64_t> parse_kv(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    uint64_t value = 0;
    if (fields >> key >> value) out[key] = value;
  }
  return out;
}

std::map<std::string, uint64_t> read_kv(const std::filesystem::path& path) {
  auto text = read_file(path);
  return text ? parse_kv(*text) : std::map<std::string, uint64_t>{};
}

std::vector<pid_t> read_pids(const std::filesystem::path& procs_file) {
  return read_pids_at(AT_FDCWD, procs_file.c_str());
}

std::vector<pid_t> read_pids_at(int dirfd, const char* procs_file) {
  std::vector<pid_t> pids;
  auto text = read_file_at(dirfd, procs_file);
  if (!text) return pids;
  std::istringstream in(*text);
  long pid = 0;
  while (in >> pid)
    if (pid > 0) pids.push_back(static_cast<pid_t>(pid));
  return pids;
}

}  // namespace drover::cgroups
