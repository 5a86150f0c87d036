// Writing an artifact's entries beneath its destination (entry_writer.hpp).
#include "artifact/entry_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

#include "fs/beneath.hpp"

namespace drover::artifact {

namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  for (std::size_t a = 0; a <= path.size();) {
    auto b = path.find('/', a);
    if (b == std::string::npos) b = path.size();
    if (b > a) out.push_back(path.substr(a, b - a));
    a = b + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n && i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out;
}

// The bits a task gets: no setuid, setgid or sticky bit, no write for group or others, and
// the owner (the agent, or the task after chown) can always read and write.
unsigned file_mode(unsigned mode) { return ((mode & 0777) & ~022u) | 0600u; }

Error refused(const std::string& name, const std::string& why) {
  return make_error("entry \"" + name + "\": refused: " + why, Errc::Invalid);
}

}  // namespace

std::string parent_of(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == std::string::npos ? "." : rel.substr(0, slash);
}

std::string base_of(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}


std::optional<std::string> EntryWriter::existing_link(const std::string& rel) const {
  auto parent = fs::open_beneath(root_, parent_of(rel), O_PATH | O_DIRECTORY);
  if (!parent) return std::nullopt;
  char buf[4096];
  ssize_t n = ::readlinkat(parent->get(), base_of(rel).c_str(), buf, sizeof buf);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

Result<EntryWriter> EntryWriter::open(std::filesystem::path root, std::string dest,
                                      const Limits& limits) {
  EntryWriter w(std::move(root), std::move(dest), limits);
  if (w.dest_ != ".")
    if (auto st = w.make_dirs(w.dest_); !st) return st.error();
  return w;
}

Result<std::string> EntryWriter::clean(const std::string& name) const {
  if (name.find('\0') != std::string::npos) return refused(name, "the name holds a NUL byte");
  if (!name.empty() && name[0] == '/') return refused(name, "an absolute path");
  std::vector<std::string> kept;
  for (auto& part : split(name)) {
    if (part == ".") continue;
    if (part == "..") return refused(name, "a \"..\" in the path leaves the destination");
    kept.push_back(part);
  }
  return join(kept, kept.size());
}

std::string EntryWriter::under_root(const std::string& rel) const {
  return dest_ == "." ? rel : rel.empty() ? dest_ : dest_ + "/" + rel;
}

Status EntryWriter::count_entry(const std::string& name) {
  if (++entries_ > limits_->decompression_file_count_limit)
    return make_error("stopped at entry \"" + name + "\": more than " +
                          std::to_string(limits_->decompression_file_count_limit) +
                          " entries (agent config artifact.decompression_file_count_limit)",
                      Errc::Invalid);
  return {};
}

Status EntryWriter::make_dirs(const std::string& rel) {
  auto parts = split(rel);
  for (std::size_t n = 1; n <= parts.size(); ++n) {
    std::string here = join(parts, n);
    if (made_dirs_.count(here)) continue;
    // Each dir is made from its parent's descriptor, opened without following a symlink.
    auto parent = fs::open_beneath(root_, n == 1 ? "." : join(parts, n - 1), O_PATH | O_DIRECTORY);
    if (!parent) return make_error("making " + here + ": " + parent.message(), Errc::Invalid);
    if (::mkdirat(parent->get(), parts[n - 1].c_str(), 0755) != 0 && errno != EEXIST)
      return make_error("making " + here + ": " + std::strerror(errno));
    // What exists there must be a real dir, not a symlink or a file.
    auto self = fs::open_beneath(root_, here, O_PATH | O_DIRECTORY);
    if (!self) return make_error("making " + here + ": " + self.message(), Errc::Invalid);
    made_dirs_.insert(here);
  }
  return {};
}

Status EntryWriter::dir(const std::string& name, unsigned mode) {
  auto rel = clean(name);
  if (!rel) return rel.error();
  if (rel->empty()) return {};  // "./": the destination itself
  if (auto st = count_entry(name); !st) return st;
  if (auto st = make_dirs(under_root(*rel)); !st) return st;
  auto fd = fs::open_beneath(root_, under_root(*rel), O_RDONLY | O_DIRECTORY);
  if (fd) ::fchmod(fd->get(), (mode & 0755) | 0700);
  return {};
}

Status EntryWriter::file(const std::string& name, unsigned mode, const Reader& read) {
  auto rel = clean(name);
  if (!rel) return rel.error();
  if (rel->empty()) return refused(name, "a file with no name");
  if (auto st = count_entry(name); !st) return st;
  const std::string path = under_root(*rel);
  if (parent_of(path) != ".")
    if (auto st = make_dirs(parent_of(path)); !st) return st;
  auto fd =
      fs::open_beneath(root_, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, file_mode(mode));
  if (!fd) return make_error("writing " + path + ": " + fd.message(), Errc::Invalid);
  ::fchmod(fd->get(), file_mode(mode));
  char buf[1 << 16];
  for (;;) {
    auto n = read(buf, sizeof buf);
    if (!n) return make_error("entry \"" + name + "\": " + n.message(), n.code());
    if (*n == 0) break;
    bytes_ += *n;
    if (bytes_ > limits_->decompression_size_limit)
      return make_error("stopped at entry \"" + name + "\": more than " +
                            std::to_string(limits_->decompression_size_limit) +
                            " bytes unpacked (agent config artifact.decompression_size_limit)",
                        Errc::Invalid);
    for (std::size_t done = 0; done < *n;) {
      ssize_t w = ::write(fd->get(), buf + done, *n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return make_error("writing " + path + ": " + std::strerror(errno));
      done += static_cast<std::size_t>(w);
    }
  }
  files_.insert(*rel);
  return {};
}

Status EntryWriter::symlink(const std::string& name, const std::string& target) {
  auto rel = clean(name);
  if (!rel) return rel.error();
  if (rel->empty()) return refused(name, "a symlink with no name");
  if (target.empty() || target[0] == '/')
    return refused(name, "a symlink to the absolute path \"" + target + "\"");
  if (auto st = count_entry(name); !st) return st;
  symlinks_[*rel] = target;
  return {};
}

Status EntryWriter::hardlink(const std::string& name, const std::string& target) {
  auto to = clean(target);
  if (!to) return refused(name, "a hard link to \"" + target + "\", which leaves the destination");
  if (!files_.count(*to))
    return refused(name, "a hard link to \"" + target + "\", which is not a file of this artifact");
  auto src = fs::open_beneath(root_, under_root(*to), O_RDONLY | O_NOFOLLOW);
  if (!src) return make_error("reading " + under_root(*to) + ": " + src.message(), Errc::Invalid);
  struct stat st {};
  ::fstat(src->get(), &st);
  int fd = src->get();
  return file(name, st.st_mode, [fd](char* buf, std::size_t size) -> Result<std::size_t> {
    for (;;) {
      ssize_t n = ::read(fd, buf, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        return make_error(std::string("reading the link's target: ") + std::strerror(errno));
      return static_cast<std::size_t>(n);
    }
  });
}

// Resolves the link as the kernel would, through the other links of this artifact, and says
// whether it ever steps above the destination.
bool EntryWriter::link_escapes(const std::string& name, std::string& why) const {
  auto stack = split(name);
  stack.pop_back();
  std::deque<std::string> todo;
  for (auto& p : split(symlinks_.at(name))) todo.push_back(p);
  int hops = 0;
  while (!todo.empty()) {
    std::string c = todo.front();
    todo.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      if (stack.empty()) {
        why = "a symlink to \"" + symlinks_.at(name) + "\", which points out of the destination";
        return true;
      }
      stack.pop_back();
      continue;
    }
    stack.push_back(c);
    const std::string here = join(stack, stack.size());
    std::string target;
    if (auto it = symlinks_.find(here); it != symlinks_.end()) {
      target = it->second;
    } else if (auto on_disk = existing_link(under_root(here))) {
      // A link already in the destination (an earlier artifact's) counts as well.
      target = *on_disk;
    } else {
      continue;
    }
    if (++hops > 40) {
      why = "a symlink loop through \"" + here + "\"";
      return true;
    }
    if (!target.empty() && target[0] == '/') {
      why = "a symlink through \"" + here + "\", which points to an absolute path";
      return true;
    }
    stack.pop_back();
    auto more = split(target);
    todo.insert(todo.begin(), more.begin(), more.end());
  }
  return false;
}

Status EntryWriter::finish() {
  for (const auto& [name, target] : symlinks_) {
    std::string why;
    if (link_escapes(name, why)) return refused(name, why);
  }
  for (const auto& [name, target] : symlinks_) {
    const std::string path = under_root(name);
    if (parent_of(path) != ".")
      if (auto st = make_dirs(parent_of(path)); !st) return st;
    auto parent = fs::open_beneath(root_, parent_of(path), O_PATH | O_DIRECTORY);
    if (!parent) return make_error("making " + path + ": " + parent.message(), Errc::Invalid);
    if (::symlinkat(target.c_str(), parent->get(), base_of(path).c_str()) != 0)
      return make_error("making the symlink " + path + ": " + std::strerror(errno),
                        errno == EEXIST ? Errc::Invalid : Errc::Internal);
  }
  return {};
}

}  // namespace drover::artifact
