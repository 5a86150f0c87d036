// The part of artifact fetching that needs libcurl and libarchive (http_download, unpack), in
// a module of its own that the agent loads on its first artifact (docs/artifacts.md, "The I/O
// module"). Linked into the drover binary, those two libraries and what they pull in (GnuTLS,
// Kerberos, LDAP, libxml2, ICU, ...) cost every agent 8.6 MiB of RSS at start, whether a job
// ever fetches anything or not (BENCHMARKS.md).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "artifact/entry_writer.hpp"
#include "artifact/limits.hpp"
#include "artifact/source.hpp"
#include "drover/common/result.hpp"

namespace drover::artifact {

// What the module gives: the same functions as getters.hpp's http_download and unpack.hpp's
// unpack. The module is built with the agent, from the same sources and compiler, so C++ types
// cross the boundary; its one exported symbol is the C function below, checked by version.
struct IoFunctions {
  int version;  // kIoVersion
  Status (*http_download)(const std::string& url, const std::map<std::string, std::string>& headers,
                          const std::filesystem::path& out, const Limits& limits);
  Status (*unpack)(const std::filesystem::path& archive, ArchiveKind kind,
                   const std::string& single_name, EntryWriter& out);
  // pack.hpp's pack_tar_gz: `operator debug`'s bundle, written with the same libarchive.
  Status (*pack_tar_gz)(int fd, const std::vector<std::pair<std::string, std::string>>& files);
};
inline constexpr int kIoVersion = 2;
inline constexpr const char* kIoEntry = "drover_artifact_io";
using IoEntry = const IoFunctions* (*)();

// The module's functions, loaded once: from $DROVER_ARTIFACT_IO when set (tests, unusual
// layouts), else from ../lib/drover/artifact-io.so beside the running binary (the package puts
// drover in /usr/bin and the module in /usr/lib/drover; a build tree in bin/ and lib/drover/).
// An error names the path and dlopen's reason, and stays: later calls get it too.
Result<const IoFunctions*> io_functions();

}  // namespace drover::artifact
