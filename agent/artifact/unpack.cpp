// Archives through libarchive into an EntryWriter (unpack.hpp).
#include "artifact/unpack.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace drover::artifact {

namespace {

const char* kind_name(ArchiveKind k) {
  switch (k) {
    case ArchiveKind::Tar:
      return "tar";
    case ArchiveKind::Zip:
      return "zip";
    case ArchiveKind::Gzip:
      return "gzip";
    case ArchiveKind::Bzip2:
      return "bzip2";
    case ArchiveKind::Xz:
      return "xz";
    case ArchiveKind::None:
      break;
  }
  return "plain";
}

}  // namespace

Status unpack(const std::filesystem::path& path, ArchiveKind kind, const std::string& single_name,
              EntryWriter& out) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  if (!a) return make_error("libarchive: out of memory");
  const bool single =
      kind == ArchiveKind::Gzip || kind == ArchiveKind::Bzip2 || kind == ArchiveKind::Xz;
  archive_read_support_filter_all(a.get());
  if (single) {
    archive_read_support_format_raw(a.get());
  } else {
    archive_read_support_format_tar(a.get());
    archive_read_support_format_zip(a.get());
  }
  auto lib_error = [&](const std::string& what) {
    const char* e = archive_error_string(a.get());
    return make_error(what + ": " + (e ? e : "unknown error"), Errc::Invalid);
  };
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return lib_error(std::string("not a readable ") + kind_name(kind) + " archive");
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return lib_error(std::string("reading the ") + kind_name(kind) + " archive");
    const char* raw_name = archive_entry_pathname(e);
    std::string name = single ? single_name : raw_name ? raw_name : "";
    if (name.empty()) return make_error("an archive entry has no name", Errc::Invalid);
    auto reader = [&](char* buf, std::size_t size) -> Result<std::size_t> {
      la_ssize_t n = archive_read_data(a.get(), buf, size);
      if (n < 0) return lib_error("unpacking");
      return static_cast<std::size_t>(n);
    };
    Status st;
    if (const char* link = archive_entry_hardlink(e); link && !single) {
      st = out.hardlink(name, link);
    } else {
      switch (archive_entry_filetype(e)) {
        case AE_IFREG:
          st = out.file(name, archive_entry_perm(e), reader);
          break;
        case AE_IFDIR:
          st = out.dir(name, archive_entry_perm(e));
          break;
        case AE_IFLNK: {
          const char* target = archive_entry_symlink(e);
          st = out.symlink(name, target ? target : "");
          break;
        }
        case AE_IFCHR:
        case AE_IFBLK:
          return make_error("entry \"" + name + "\": refused: a device file", Errc::Invalid);
        case AE_IFIFO:
          return make_error("entry \"" + name + "\": refused: a fifo", Errc::Invalid);
        case AE_IFSOCK:
          return make_error("entry \"" + name + "\": refused: a socket", Errc::Invalid);
        default:
          // The raw format reports no type: a single compressed file is a regular file.
          if (single)
            st = out.file(name, 0644, reader);
          else
            return make_error("entry \"" + name + "\": refused: not a file, dir or link",
                              Errc::Invalid);
      }
    }
    if (!st) return st;
    if (single) break;
  }
  return out.finish();
}

}  // namespace drover::artifact
