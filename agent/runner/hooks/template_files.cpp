// The template hook's file work (template_files.hpp).
#include "runner/hooks/template_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "drover/common/encoding.hpp"
#include "drover/common/relative_path.hpp"
#include "fs/beneath.hpp"

namespace drover::runner {

namespace {
constexpr std::size_t kMaxRead = 16u << 20;

std::string errno_text() { return std::strerror(errno); }

// Splits "a/b/c" into its parent "a/b" (or ".") and name "c".
std::pair<std::string, std::string> split_parent(const std::string& rel) {
  auto slash = rel.rfind('/');
  if (slash == std::string::npos) return {".", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}
}  // namespace

Result<std::string> task_relative(const std::filesystem::path& task_dir, const std::string& path) {
  std::string p = path;
  const std::string root = task_dir.string();
  if (p.rfind(root + "/", 0) == 0) p = p.substr(root.size() + 1);
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  // Normalized lexically: `..` may not climb above the task dir (the open itself refuses any
  // link, so this is about what was written, not what is on disk).
  auto beneath = lexically_beneath(p);
  if (!beneath) return make_error("\"" + path + "\" escapes the task dir", Errc::Invalid);
  if (beneath->empty()) return make_error("\"" + path + "\" names the task dir itself", Errc::Invalid);
  return *beneath;
}

Result<std::string> read_beneath(const std::filesystem::path& root, const std::string& rel) {
  auto fd = fs::open_beneath(root, rel, O_RDONLY);
  if (!fd) return fd.error();
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("reading " + rel + ": " + errno_text());
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxRead) return make_error(rel + " is larger than 16 MiB", Errc::Invalid);
  }
  return out;
}

Status write_beneath_atomically(const std::filesystem::path& root, const std::string& rel,
                                const std::string& content, unsigned mode, std::optional<int> uid,
                                std::optional<int> gid) {
  auto [parent, name] = split_parent(rel);
  // Parent dirs, each made from its own parent's descriptor: the task may have planted links.
  std::string made;
  if (parent != ".") {
    std::size_t start = 0;
    for (;;) {
      auto slash = parent.find('/', start);
      std::string part =
          parent.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      auto pfd = fs::open_beneath(root, made.empty() ? "." : made, O_PATH | O_DIRECTORY);
      if (!pfd) return pfd.error();
      if (::mkdirat(pfd->get(), part.c_str(), 0755) != 0 && errno != EEXIST)
        return make_error("cannot create " + (made.empty() ? part : made + "/" + part) + ": " +
                          errno_text());
      made += (made.empty() ? "" : "/") + part;
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  auto dir = fs::open_beneath(root, parent, O_PATH | O_DIRECTORY);
  if (!dir) return dir.error();
  struct stat st {};
  if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode))
      return make_error("destination " + rel + " is a symlink; refusing to write through it",
                        Errc::Invalid);
    if (S_ISDIR(st.st_mode))
      return make_error("destination " + rel + " is a directory", Errc::Invalid);
  }
  const std::string tmp = "." + name + ".drover-tmp-" + random_uuid().substr(0, 8);
  int raw =
      ::openat(dir->get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (raw < 0) return make_error("cannot create " + rel + ": " + errno_text());
  fs::Fd fd(raw);
  auto fail = [&](const std::string& what) {
    ::unlinkat(dir->get(), tmp.c_str(), 0);
    return make_error(what + " " + rel + ": " + errno_text());
  };
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("writing");
    done += static_cast<std::size_t>(n);
  }
  if ((uid || gid) && ::fchown(fd.get(), uid ? *uid : -1, gid ? *gid : -1) != 0)
    return fail("chown of");
  if (::fchmod(fd.get(), mode) != 0) return fail("chmod of");
  if (::fsync(fd.get()) != 0) return fail("syncing");
  if (::renameat(dir->get(), tmp.c_str(), dir->get(), name.c_str()) != 0)
    return fail("renaming over");
  return {};
}

Result<std::map<std::string, std::string>> parse_env_lines(const std::string& text) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    line = line.substr(b);
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    auto eq = line.find('=');
    if (eq == std::string::npos)
      return make_error("line " + std::to_string(line_no) + ": expected KEY=value", Errc::Invalid);
    std::string key = line.substr(0, eq);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    bool ok = !key.empty();
    for (char c : key)
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    if (!ok)
      return make_error("line " + std::to_string(line_no) + ": bad variable name \"" + key + "\"",
                        Errc::Invalid);
    std::string v = line.substr(eq + 1);
    auto vb = v.find_first_not_of(" \t");
    v = vb == std::string::npos ? "" : v.substr(vb);
    std::string value;
    if (!v.empty() && (v[0] == '"' || v[0] == '\'')) {
      const char q = v[0];
      std::size_t i = 1;
      bool closed = false;
      for (; i < v.size(); ++i) {
        if (v[i] == q) {
          closed = true;
          break;
        }
        if (q == '"' && v[i] == '\\' && i + 1 < v.size()) {
          char e = v[++i];
          value += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        } else {
          value += v[i];
        }
      }
      if (!closed)
        return make_error("line " + std::to_string(line_no) + ": unterminated quote",
                          Errc::Invalid);
    } else {
      // An unquoted value ends at a " #" comment; trailing white space is dropped.
      auto hash = v.find(" #");
      value = v.substr(0, hash);
      while (!value.empty() &&
             (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
        value.pop_back();
    }
    out[key] = value;
  }
  return out;
}

}  // namespace drover::runner
