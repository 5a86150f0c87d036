// One artifact, from its source to its destination in the task dir: fetch (http, file, git)
// into an agent-private scratch dir, check the checksum, then unpack or copy beneath the
// destination as go-getter's modes say (docs/artifacts.md).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "artifact/limits.hpp"
#include "drover/common/result.hpp"

namespace drover::artifact {

struct Request {
  std::string source;
  std::map<std::string, std::string> options;
  std::map<std::string, std::string> headers;
  std::string mode = "any";           // any, file, dir
  // The task dir, or the alloc's shared dir for a destination in ../alloc: nothing is written
  // outside it, and no link in an archive points out of it.
  std::filesystem::path root;
  std::string destination = "local";  // relative to root; normalize_destination checks it
  // An agent-private dir for the download (the task cannot see it); made and emptied here.
  std::filesystem::path scratch;
};

// Fetches and installs one artifact. Errors say what failed (a checksum mismatch gives both
// sums; a refused archive entry names it) and are Errc::Invalid when the job or its source
// is at fault.
Status fetch(const Request& request, const Limits& limits);

}  // namespace drover::artifact
