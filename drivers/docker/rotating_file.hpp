// One stream's log file, rotated as the task's LogConfig says, with Nomad's naming: the agent
// names the first file `<task>.<stream>.0`; a full file makes the next `.1`, `.2`... (the live
// file is the highest index) and only the newest max_files are kept. A path without a numeric
// suffix (e.g. /dev/null) is written as is, without rotation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace drover::docker {

class RotatingFile {
 public:
  // max_files <= 0 or max_size_bytes <= 0: no rotation. Resumes at the highest existing index.
  RotatingFile(const std::string& path, int max_files, int64_t max_size_bytes);
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // Where the next `len` bytes will go: rotates first when they would not fit. Lets a caller
  // record "about to write at (index, size)" before writing, to learn after a crash whether
  // the write happened.
  struct Position {
    long index;  // -1 for a plain (unrotated) file
    int64_t size;
  };
  Position prepare(size_t len);
  void write(const char* data, size_t len);  // call prepare(len) first for exact positions
  // The current size of the file at `index` (-1: the plain file); -1 when it does not exist.
  int64_t size_of(long index) const;

 private:
  bool open_index(long index);
  void drop_old();

  int dir_fd_ = -1;  // the log dir: every open and unlink is relative to it, never by path
  int fd_ = -1;
  std::string base_;  // "<task>.<stream>."
  long index_ = -1;   // -1: no rotation (plain path)
  int max_files_ = 0;
  int64_t max_size_ = 0;
  int64_t size_ = 0;
};

}  // namespace drover::docker
