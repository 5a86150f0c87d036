// The agent config's `artifact` block (docs/artifacts.md, "Agent config"): how long, how big
// and from where artifacts may be fetched, and how far an archive may unpack. Nomad's names
// where Nomad has the setting (http_read_timeout, http_max_size, git_timeout,
// decompression_size_limit, decompression_file_count_limit).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace drover::artifact {

struct Limits {
  // One whole HTTP download, across its retries.
  std::chrono::milliseconds http_read_timeout = std::chrono::minutes(30);
  std::chrono::milliseconds http_connect_timeout = std::chrono::seconds(30);
  // A download that moves no byte for this long is given up (then retried).
  std::chrono::milliseconds http_stall_timeout = std::chrono::seconds(60);
  std::uint64_t http_max_size = std::uint64_t{2} << 30;  // bytes of one download
  int http_max_redirects = 10;
  int http_retries = 3;  // after the first try; each waits twice as long as the last
  std::chrono::milliseconds http_retry_backoff = std::chrono::seconds(1);
  std::chrono::milliseconds git_timeout = std::chrono::minutes(30);
  // A decompression bomb stops here: bytes written and entries made by one artifact.
  std::uint64_t decompression_size_limit = std::uint64_t{4} << 30;
  std::uint64_t decompression_file_count_limit = 4096;
  // `file://` sources: only beneath these directories; none: file sources are refused.
  std::vector<std::filesystem::path> file_allowed_dirs;
  // A git `sshkey` option is refused unless the operator allows it.
  bool git_allow_sshkey = false;
};

}  // namespace drover::artifact
