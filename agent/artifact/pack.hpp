// Writes a gzipped tar of in-memory files (libarchive), for `drover operator debug`'s bundle
// (cli/operator_debug.cpp). It lives in the artifact I/O module with unpack, so that the
// drover binary maps libarchive only when it is used (io_module.hpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::artifact {

// `files`: (path inside the archive, content), each a regular file of mode 0600 stamped now,
// written in order to `fd` (not closed here).
Status pack_tar_gz(int fd, const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace drover::artifact
