// Test helper: archives (tar with any filter, zip, raw gz) written with libarchive's writer,
// including what no honest tool makes (`../` names, absolute names, device nodes, fifos).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <string>
#include <vector>

namespace drover::artifact::testing {

struct Entry {
  std::string name;
  char type = 'f';   // f file, d dir, l symlink, h hard link, c char device, p fifo
  std::string data;  // file contents; the target of a link
  unsigned mode = 0644;
};

// format: "tar", "zip" or "raw"; filter: "", "gzip", "bzip2", "xz".
inline void make_archive(const std::string& path, const std::string& format,
                         const std::string& filter, const std::vector<Entry>& entries) {
  archive* a = archive_write_new();
  if (format == "zip")
    archive_write_set_format_zip(a);
  else if (format == "raw")
    archive_write_set_format_raw(a);
  else
    archive_write_set_format_pax_restricted(a);
  if (filter == "gzip")
    archive_write_add_filter_gzip(a);
  else if (filter == "bzip2")
    archive_write_add_filter_bzip2(a);
  else if (filter == "xz")
    archive_write_add_filter_xz(a);
  archive_write_open_filename(a, path.c_str());
  for (const auto& e : entries) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    archive_entry_set_perm(ae, e.mode);
    switch (e.type) {
      case 'd':
        archive_entry_set_filetype(ae, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_symlink(ae, e.data.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_hardlink(ae, e.data.c_str());
        break;
      case 'c':
        archive_entry_set_filetype(ae, AE_IFCHR);
        archive_entry_set_rdev(ae, makedev(1, 3));
        break;
      case 'p':
        archive_entry_set_filetype(ae, AE_IFIFO);
        break;
      default:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
    }
    archive_write_header(a, ae);
    if (e.type == 'f' && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace drover::artifact::testing
