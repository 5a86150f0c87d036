// The three ways drover fetches an artifact: HTTP(S) through libcurl (http_getter.cpp), a
// local path from a directory the operator allows (file_getter.cpp), and `git clone`
// (git_getter.cpp). Each leaves what it got in an agent-private scratch dir; fetch.cpp puts
// it into the task dir.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "artifact/entry_writer.hpp"
#include "artifact/limits.hpp"
#include "artifact/source.hpp"
#include "drover/common/result.hpp"

namespace drover::artifact {

// GETs `url` into the file `out`: redirects capped, a size cap, a total timeout and a stall
// timeout, retries with backoff on errors worth retrying, each retry resuming with a Range
// request where the server allows it.
Status http_download(const std::string& url, const std::map<std::string, std::string>& headers,
                     const std::filesystem::path& out, const Limits& limits);

// The real path of a file source, when it lies beneath one of the agent config's
// artifact.file_allowed_dirs; refused otherwise (and always when none is configured).
Result<std::filesystem::path> allowed_file_source(const std::string& path, const Limits& limits);

// `git clone` of the source into `dir` (not existing yet), at its ref and depth, within
// git_timeout; `scratch` holds the ssh key file when there is one.
Status git_clone(const Source& source, const std::filesystem::path& dir,
                 const std::filesystem::path& scratch, const Limits& limits);

// Copies the tree at `from` (a git checkout, an allowed dir) into `out`, symlinks as
// symlinks; device files and fifos are refused. Does not finish `out`.
Status copy_tree(const std::filesystem::path& from, EntryWriter& out);

}  // namespace drover::artifact
