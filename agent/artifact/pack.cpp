#include "artifact/pack.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <ctime>

namespace drover::artifact {

Status pack_tar_gz(int fd, const std::vector<std::pair<std::string, std::string>>& files) {
  archive* a = archive_write_new();
  if (!a) return make_error("libarchive: out of memory");
  std::string failed;
  auto why = [&] {
    const char* e = archive_error_string(a);
    return std::string(e ? e : "write failed");
  };
  if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
      archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
      archive_write_open_fd(a, fd) != ARCHIVE_OK)
    failed = why();
  const std::time_t now = std::time(nullptr);
  for (const auto& [name, content] : files) {
    if (!failed.empty()) break;
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0600);
    archive_entry_set_mtime(e, now, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        archive_write_data(a, content.data(), content.size()) != static_cast<la_ssize_t>(content.size()))
      failed = why();
    archive_entry_free(e);
  }
  if (archive_write_close(a) != ARCHIVE_OK && failed.empty()) failed = why();
  archive_write_free(a);
  if (!failed.empty()) return make_error(failed);
  return {};
}

}  // namespace drover::artifact
