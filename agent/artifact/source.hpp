// What an artifact block means, read without touching the network: its source split into a
// getter (http, file, git) and go-getter's own arguments (checksum, archive, ref, depth,
// sshkey), its checksum syntax, and its destination beneath the task dir. Pure, so that the
// job validator (jobspec/validate.cpp) refuses at submit what the fetcher would refuse later
// (docs/artifacts.md).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "drover/common/result.hpp"

namespace drover::artifact {

// A checksum option, "sha256:<hex>": the algorithm and the lower-case hex digest.
struct Checksum {
  std::string algo;  // md5, sha1, sha256, sha512
  std::string hex;
  std::string text() const { return algo + ":" + hex; }
};

// "type:hex" with a known type and a hex digest of that type's length. Errors say which.
Result<Checksum> parse_checksum(const std::string& text);

enum class Getter { Http, File, Git };

// How a fetched file is unpacked: not at all, a multi-file archive into a dir, or a single
// compressed file (plain .gz, .bz2, .xz) into one file.
enum class ArchiveKind { None, Tar, Zip, Gzip, Bzip2, Xz };

struct Source {
  Getter getter = Getter::Http;
  // For http: the URL without go-getter's own query arguments; for file: an absolute path;
  // for git: what `git clone` gets.
  std::string url;
  std::string subdir;    // git's `//subdir`: only that part of the repository is installed
  std::string filename;  // the last path segment, for a file placed into a dir ("download")
  std::optional<Checksum> checksum;
  // From the file name (or options.archive); None with archive = false.
  ArchiveKind archive = ArchiveKind::None;
  bool compressed_tar = false;  // Tar through a filter (gz, bz2, xz): only for the message
  std::string ref;              // git
  int depth = 0;                // git, 0: full history
  std::string sshkey;           // git, base64 of a private key
};

// Reads `source` with the artifact's `options` (which win over the same arguments in the
// URL's query). Errors are Errc::Invalid and start with the field they concern ("source: ",
// "options.checksum: "), so that a caller only prefixes its path. s3, gcs and hg are
// refused naming the scheme.
Result<Source> parse_source(const std::string& source,
                            const std::map<std::string, std::string>& options);

// `mode`: "any", "file" or "dir" (empty: any).
Status check_mode(const std::string& mode);

// The destination, relative to the dir it is written to (Request::root): no absolute path, no
// `..` leaving it. Returns it normalized ("local/x", "." for the dir itself); empty input is
// "local". Which dirs a job may write to is the caller's rule (beneath_task_or_shared).
Result<std::string> normalize_destination(const std::string& destination);

// A header name is an HTTP token and its value has no CR, LF or NUL.
Status check_header(const std::string& name, const std::string& value);

// Which archive a file name says it is ("x.tar.gz" -> Tar, "x.gz" -> Gzip); None for others.
ArchiveKind archive_kind_of(const std::string& filename, bool* compressed_tar = nullptr);

}  // namespace drover::artifact
