// Streams task logs from GET /v1/client/fs/logs/:alloc (see alloc_logs.hpp).
#include "cli/alloc_logs.hpp"

#include <algorithm>
#include <ostream>
#include <vector>

namespace drover::cli {

namespace {

// How far back from the end -tail -n N starts reading: a guess at the bytes per line, as
// Nomad makes one; the extra lines are cut here.
constexpr std::int64_t kBytesPerLineGuess = 256;
constexpr std::int64_t kMinTailBytes = 16 * 1024;
constexpr std::int64_t kDefaultTailLines = 10;

// A followed log may be silent for hours; not following, an answer is due promptly.
constexpr auto kFollowReadTimeout = std::chrono::hours(24);
constexpr auto kReadTimeout = std::chrono::seconds(60);

std::vector<std::string> task_names(const nlohmann::json& alloc) {
  std::vector<std::string> names;
  const auto states = alloc.value("TaskStates", nlohmann::json::object());
  if (states.is_object()) {
    for (const auto& [name, state] : states.items()) names.push_back(name);
  }
  if (!names.empty()) return names;
  // Before any task state is recorded the job's group still names the tasks.
  const auto job = alloc.value("Job", nlohmann::json::object());
  const auto groups =
      job.is_object() ? job.value("TaskGroups", nlohmann::json::array()) : nlohmann::json::array();
  for (const auto& group : groups) {
    if (str_field(group, "Name") != str_field(alloc, "TaskGroup")) continue;
    for (const auto& task : group.value("Tasks", nlohmann::json::array())) {
      names.push_back(str_field(task, "Name"));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string join(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

}  // namespace

std::string last_lines(const std::string& text, std::int64_t n) {
  if (n <= 0) return "";
  std::size_t end = text.size();
  // A trailing newline ends the last line; it does not start an empty one.
  std::size_t pos = end > 0 && text[end - 1] == '\n' ? end - 1 : end;
  std::int64_t found = 0;
  while (pos > 0) {
    --pos;
    if (text[pos] == '\n' && ++found == n) return text.substr(pos + 1);
  }
  return text;
}

TailStart tail_start(std::int64_t lines, std::int64_t bytes) {
  if (bytes >= 0) return {bytes, lines};
  const std::int64_t n = lines >= 0 ? lines : kDefaultTailLines;
  return {std::max(n * kBytesPerLineGuess, kMinTailBytes), n};
}

int alloc_logs(Context& ctx, const LogsOptions& opts) {
  // Look the alloc up first: it resolves a prefix to the full id and names the tasks.
  auto alloc = ctx.api.get_json("/v1/allocation/" + url_escape(opts.alloc_id));
  if (!alloc) return print_error(ctx, alloc.message());
  const std::string alloc_id =
      str_field(*alloc, "ID").empty() ? opts.alloc_id : str_field(*alloc, "ID");
  const auto tasks = task_names(*alloc);

  std::string task = opts.task;
  if (task.empty()) {
    if (tasks.size() != 1) {
      return print_error(ctx, "allocation \"" + short_id(alloc_id) + "\" has " +
                                  std::to_string(tasks.size()) + " tasks (" + join(tasks) +
                                  "); name one: drover alloc logs ALLOC TASK");
    }
    task = tasks.front();
  } else if (!tasks.empty() && std::find(tasks.begin(), tasks.end(), task) == tasks.end()) {
    return print_error(ctx, "task \"" + task + "\" is not in allocation \"" + short_id(alloc_id) +
                                "\"; its tasks: " + join(tasks));
  }

  const bool tail = opts.tail || opts.lines >= 0 || opts.bytes >= 0;
  std::int64_t lines = -1;
  std::int64_t offset = 0;
  if (tail) {
    const TailStart start = tail_start(opts.lines, opts.bytes);
    offset = start.back;
    lines = start.lines;
  }

  const std::string path =
      "/v1/client/fs/logs/" + url_escape(alloc_id) + "?task=" + url_escape(task) +
      "&type=" + (opts.stderr_stream ? "stderr" : "stdout") +
      "&follow=" + (opts.follow ? "true" : "false") + "&origin=" + (tail ? "end" : "start") +
      "&offset=" + std::to_string(offset) + "&plain=true";

  // With -n the first part of the answer is cut to its last lines: all of it when not
  // following, the first chunk (the backlog) when following. Best effort, as with Nomad.
  std::string held;
  bool trimming = lines >= 0;
  auto on_data = [&](const char* data, std::size_t size) {
    if (trimming && !opts.follow) {
      held.append(data, size);
      return true;
    }
    if (trimming) {
      ctx.out << last_lines(std::string(data, size), lines);
      trimming = false;
    } else {
      ctx.out.write(data, static_cast<std::streamsize>(size));
    }
    ctx.out.flush();
    return static_cast<bool>(ctx.out);
  };
  auto response = ctx.api.stream(
      path, on_data,
      opts.follow ? std::chrono::duration_cast<std::chrono::seconds>(kFollowReadTimeout)
                  : kReadTimeout);
  if (!response) return print_error(ctx, response.message());
  if (response->status < 200 || response->status >= 300) {
    return print_error(ctx, describe_api_error(*response));
  }
  if (trimming) ctx.out << last_lines(held, lines);
  ctx.out.flush();
  return 0;
}

}  // namespace drover::cli
