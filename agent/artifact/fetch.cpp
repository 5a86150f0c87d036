// Fetching and installing one artifact (fetch.hpp).
#include "artifact/fetch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "artifact/checksum.hpp"
#include "artifact/entry_writer.hpp"
#include "artifact/getters.hpp"
#include "artifact/io_module.hpp"
#include "artifact/source.hpp"

namespace drover::artifact {

namespace {

// unpack and http_download live in the I/O module (io_module.hpp), loaded on first use.
Status module_unpack(const std::filesystem::path& archive, ArchiveKind kind,
                     const std::string& single_name, EntryWriter& out) {
  auto io = io_functions();
  if (!io) return io.error();
  return io.value()->unpack(archive, kind, single_name, out);
}

Status module_http_download(const std::string& url,
                            const std::map<std::string, std::string>& headers,
                            const std::filesystem::path& out, const Limits& limits) {
  auto io = io_functions();
  if (!io) return io.error();
  return io.value()->http_download(url, headers, out, limits);
}

// "app.gz" -> "app": the one file a plain compressed file unpacks to.
std::string without_extension(const std::string& name) {
  auto dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? name + ".out" : name.substr(0, dot);
}

// The scratch dir, removed on every way out.
struct Scratch {
  std::filesystem::path dir;
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Status copy_file_into(EntryWriter& w, const std::string& name, const std::filesystem::path& from,
                      unsigned mode) {
  int fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("reading " + from.string() + ": " + std::strerror(errno));
  auto st = w.file(name, mode, [fd](char* buf, std::size_t size) -> Result<std::size_t> {
    for (;;) {
      ssize_t n = ::read(fd, buf, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error(std::string("reading the download: ") + std::strerror(errno));
      return static_cast<std::size_t>(n);
    }
  });
  ::close(fd);
  return st;
}

// A downloaded (or allowed local) file: checksum first, then unpack or place it.
Status install_file(const Request& r, const Source& s, const std::string& dest,
                    const std::filesystem::path& file, unsigned file_mode, const Limits& limits) {
  if (s.checksum)
    if (auto st = verify_checksum(file, *s.checksum); !st) return st;
  const bool single = s.archive == ArchiveKind::Gzip || s.archive == ArchiveKind::Bzip2 ||
                      s.archive == ArchiveKind::Xz;
  if (r.mode == "file") {
    if (dest == ".")
      return make_error("mode file: the destination must name a file", Errc::Invalid);
    if (s.archive != ArchiveKind::None && !single)
      return make_error("mode file: \"" + s.filename +
                            "\" is an archive of many files; use mode any or dir, or "
                            "options.archive = false",
                        Errc::Invalid);
    auto w = EntryWriter::open(r.root, parent_of(dest), limits);
    if (!w) return w.error();
    if (single) return module_unpack(file, s.archive, base_of(dest), *w);
    if (auto st = copy_file_into(*w, base_of(dest), file, file_mode); !st) return st;
    return w->finish();
  }
  auto w = EntryWriter::open(r.root, dest, limits);
  if (!w) return w.error();
  if (s.archive != ArchiveKind::None)
    return module_unpack(file, s.archive, without_extension(s.filename), *w);
  if (r.mode == "dir")
    return make_error("mode dir: \"" + s.filename +
                          "\" is not an archive (tar, zip, gz, bz2, xz); use mode any or file",
                      Errc::Invalid);
  if (s.filename.empty() || s.filename == "." || s.filename == "..")
    return make_error(
        "source: the URL names no file; use mode = \"file\" with a destination, "
        "or options.filename",
        Errc::Invalid);
  if (auto st = copy_file_into(*w, s.filename, file, file_mode); !st) return st;
  return w->finish();
}

}  // namespace

Status fetch(const Request& r, const Limits& limits) {
  auto src = parse_source(r.source, r.options);
  if (!src) return src.error();
  const Source& s = *src;
  if (auto st = check_mode(r.mode); !st) return st;
  auto dest = normalize_destination(r.destination);
  if (!dest) return dest.error();
  for (const auto& [k, v] : r.headers)
    if (auto st = check_header(k, v); !st)
      return make_error("headers: " + st.message(), Errc::Invalid);
  std::error_code ec;
  std::filesystem::remove_all(r.scratch, ec);
  std::filesystem::create_directories(r.scratch, ec);
  if (ec) return make_error("making " + r.scratch.string() + ": " + ec.message());
  std::filesystem::permissions(r.scratch, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  Scratch cleanup{r.scratch};

  switch (s.getter) {
    case Getter::Http: {
      const auto file = r.scratch / "download";
      if (auto st = module_http_download(s.url, r.headers, file, limits); !st) return st;
      return install_file(r, s, *dest, file, 0644, limits);
    }
    case Getter::File: {
      auto real = allowed_file_source(s.url, limits);
      if (!real) return real.error();
      struct stat st {};
      if (::stat(real->c_str(), &st) != 0)
        return make_error("file source " + s.url + ": " + std::strerror(errno), Errc::Invalid);
      if (S_ISREG(st.st_mode)) return install_file(r, s, *dest, *real, st.st_mode, limits);
      if (!S_ISDIR(st.st_mode))
        return make_error("file source " + s.url + ": not a file or a directory", Errc::Invalid);
      if (r.mode == "file")
        return make_error("mode file: file source " + s.url + " is a directory", Errc::Invalid);
      if (s.checksum)
        return make_error("options.checksum: file source " + s.url + " is a directory",
                          Errc::Invalid);
      auto w = EntryWriter::open(r.root, *dest, limits);
      if (!w) return w.error();
      if (auto cs = copy_tree(*real, *w); !cs) return cs;
      return w->finish();
    }
    case Getter::Git: {
      if (r.mode == "file")
        return make_error("mode file: a git source is a directory; use mode any or dir",
                          Errc::Invalid);
      const auto repo = r.scratch / "repo";
      if (auto st = git_clone(s, repo, r.scratch, limits); !st) return st;
      auto from = s.subdir.empty() ? repo : repo / s.subdir;
      // The subdir must be a dir of the checkout itself, not reached through a symlink in it.
      auto real_repo = std::filesystem::canonical(repo, ec);
      auto real_from = std::filesystem::canonical(from, ec);
      struct stat st {};
      if (ec || ::lstat(from.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
          real_from.string().rfind(real_repo.string(), 0) != 0)
        return make_error("source: the repository has no directory " + s.subdir, Errc::Invalid);
      auto w = EntryWriter::open(r.root, *dest, limits);
      if (!w) return w.error();
      if (auto cs = copy_tree(from, *w); !cs) return cs;
      return w->finish();
    }
  }
  return make_error("unknown getter");
}

}  // namespace drover::artifact
