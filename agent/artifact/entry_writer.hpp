// Writes an artifact's entries (an archive's, a git checkout's, a copied dir's) beneath its
// destination in the task dir, and nowhere else: names with `..` or a leading '/' are
// refused, every open goes through fs::open_beneath (no symlink followed, nothing outside
// the task dir), symlinks are made last and only when they resolve inside the destination,
// and the bytes and entries of one artifact stop at the agent's caps (a decompression bomb).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "artifact/limits.hpp"
#include "drover/common/result.hpp"

namespace drover::artifact {

class EntryWriter {
 public:
  // `root` is the task dir (or the alloc's shared dir); `dest` the destination relative to it (normalize_destination),
  // created if missing.
  static Result<EntryWriter> open(std::filesystem::path root, std::string dest,
                                  const Limits& limits);

  // Fills `buf` with up to `size` bytes of the entry's data; 0 at its end.
  using Reader = std::function<Result<std::size_t>(char* buf, std::size_t size)>;

  // Entry names are as an archive holds them ("./bin/app", "dir/"); each call checks its own.
  Status dir(const std::string& name, unsigned mode);
  Status file(const std::string& name, unsigned mode, const Reader& read);
  // Symlinks are only recorded here and made by finish(), once every entry is known.
  Status symlink(const std::string& name, const std::string& target);
  // A hard link to a file written earlier from the same artifact: written as a copy.
  Status hardlink(const std::string& name, const std::string& target);
  // Makes the symlinks, refusing any that resolves outside the destination.
  Status finish();

  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t entries() const { return entries_; }

 private:
  EntryWriter(std::filesystem::path root, std::string dest, const Limits& limits)
      : root_(std::move(root)), dest_(std::move(dest)), limits_(&limits) {}
  Result<std::string> clean(const std::string& name) const;
  std::string under_root(const std::string& rel) const;
  Status count_entry(const std::string& name);
  Status make_dirs(const std::string& rel_to_root);
  bool link_escapes(const std::string& name, std::string& why) const;
  std::optional<std::string> existing_link(const std::string& rel_to_root) const;

  std::filesystem::path root_;
  std::string dest_;
  const Limits* limits_;
  std::uint64_t bytes_ = 0, entries_ = 0;
  std::set<std::string> made_dirs_;              // relative to root_
  std::set<std::string> files_;                  // relative to dest_
  std::map<std::string, std::string> symlinks_;  // name (relative to dest_) -> target
};

// A relative path's parent ("." for a bare name) and its last component.
std::string parent_of(const std::string& rel);
std::string base_of(const std::string& rel);

}  // namespace drover::artifact
