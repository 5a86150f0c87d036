// Reads a task's rotated log files (<task>.<stream>.N, the live one the highest N) as one
// stream: from an offset at the start or the end, and optionally following the live file as
// it grows and rotates. Every open goes through fs::open_beneath, so a task that swaps a log
// name for a symlink gets nothing.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "fs/beneath.hpp"

namespace drover::api {

class LogStream {
 public:
  // `root` is the alloc dir; `base` is "<task>.<stdout|stderr>".
  LogStream(std::filesystem::path root, std::string base);

  // Positions the stream `offset` bytes from the start, or from the end when `from_end`.
  Status seek(long long offset, bool from_end);
  // Bytes from the position seek() chose to the end of what was written at that moment: what
  // a read without follow serves, so a task writing fast cannot make it endless.
  long long remaining_at_seek() const { return remaining_at_seek_; }
  // Reads up to `max` bytes; 0 at the end of what is written so far (follow by calling again).
  // A refused open (symlink, escape) is an error.
  Result<std::size_t> read(char* buf, std::size_t max);

 private:
  std::vector<int> indexes() const;
  Status open_index(int index);

  std::filesystem::path root_;
  std::string base_;
  int index_ = -1;
  fs::Fd fd_;
  long long pos_ = 0;
  long long remaining_at_seek_ = 0;
};

}  // namespace drover::api
