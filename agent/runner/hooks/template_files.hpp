// The files of the template hook: a template's path made relative to the task dir, a source
// read and a render written beneath it without following links (fs/beneath.hpp), the write
// atomic (a temp file renamed over the destination; the identity hook's token file too), and
// an env template's KEY=value lines.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "drover/common/result.hpp"

namespace drover::runner {

// `path` as a template gives it (already interpolated) relative to `task_dir`: "local/x"
// stays; an absolute path inside the task dir loses that prefix; any other absolute path is
// taken inside the task dir, as Nomad does ("/secrets/x" -> "secrets/x"). Invalid when it
// would leave the task dir.
Result<std::string> task_relative(const std::filesystem::path& task_dir, const std::string& path);

// At most 16 MiB of a file beneath `root`.
Result<std::string> read_beneath(const std::filesystem::path& root, const std::string& rel);

// Writes `content` to `rel` beneath `root`: parent dirs made as needed (0755), a temp file in
// the same dir with `mode` and the owner given, then renamed over the destination. A
// destination that is a symlink or a dir is refused.
Status write_beneath_atomically(const std::filesystem::path& root, const std::string& rel,
                                const std::string& content, unsigned mode, std::optional<int> uid,
                                std::optional<int> gid);

// KEY=value lines (an env template): blank lines and # comments skipped, `export ` allowed,
// values in "double" (with \n, \", \\ escapes) or 'single' quotes. A line without '=' or with
// a bad key is Invalid, naming its line number.
Result<std::map<std::string, std::string>> parse_env_lines(const std::string& text);

}  // namespace drover::runner
