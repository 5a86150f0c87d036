// `drover alloc logs`: stream a task's stdout or stderr from the agent.
#pragma once

#include <cstdint>
#include <string>

#include "cli/command_context.hpp"

namespace drover::cli {

struct LogsOptions {
  std::string alloc_id;  // full id or unique prefix
  std::string task;      // empty: the alloc's only task
  bool follow = false;   // -f
  bool stderr_stream = false;
  bool tail = false;        // -tail: start near the end
  std::int64_t lines = -1;  // -n: with -tail, how many lines (default 10)
  std::int64_t bytes = -1;  // -c: with -tail, how many bytes
};

int alloc_logs(Context& ctx, const LogsOptions& opts);

// The last `n` lines of `text` (a final line without '\n' counts as a line).
std::string last_lines(const std::string& text, std::int64_t n);

// Where -tail starts reading, counted back from the end (-c bytes, else a guess at the bytes
// of -n lines, 10 by default), and how many lines to keep of what it reads (-1: all of it).
struct TailStart {
  std::int64_t back;
  std::int64_t lines;
};
TailStart tail_start(std::int64_t lines, std::int64_t bytes);

}  // namespace drover::cli
