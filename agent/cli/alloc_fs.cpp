// `drover alloc fs` (see alloc_fs.hpp).
#include "cli/alloc_fs.hpp"

#include <algorithm>
#include <functional>
#include <cstdio>
#include <thread>
#include <ostream>

#include "cli/alloc_logs.hpp"
#include "cli/table.hpp"

namespace drover::cli {

namespace {

constexpr auto kReadTimeout = std::chrono::seconds(60);
constexpr auto kFollowPoll = std::chrono::milliseconds(250);

std::string size_of(const nlohmann::json& info, bool machine) {
  const std::int64_t n = info.value("Size", std::int64_t{0});
  return machine ? std::to_string(n) : human_size(n);
}

// Seconds precision, as Nomad's listing shows it.
std::string mod_time(const nlohmann::json& info) {
  std::string t = str_field(info, "ModTime");
  auto dot = t.find('.');
  return dot == std::string::npos ? t : t.substr(0, dot) + "Z";
}

std::string shown_name(const nlohmann::json& info) {
  return str_field(info, "Name") + (bool_field(info, "IsDir") ? "/" : "");
}

}  // namespace

std::string human_size(std::int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

int alloc_fs(Context& ctx, const FsOptions& opts) {
  // The alloc first: a prefix becomes the full id, and a server passes the rest to its node.
  auto alloc = ctx.api.get_json("/v1/allocation/" + url_escape(opts.alloc_id));
  if (!alloc) return print_error(ctx, alloc.message());
  const std::string id = str_field(*alloc, "ID").empty() ? opts.alloc_id : str_field(*alloc, "ID");
  const std::string query = url_escape(id) + "?path=" + url_escape(opts.path);
  auto info = ctx.api.get_json("/v1/client/fs/stat/" + query);
  if (!info) return print_error(ctx, info.message());

  if (opts.stat) {
    if (ctx.json) {
      print_json(ctx, *info);
      return 0;
    }
    Table t({"Mode", "Size", "Modified Time", "Content Type", "Name"});
    t.add_row({str_field(*info, "FileMode"), size_of(*info, opts.machine_sizes), mod_time(*info),
               str_field(*info, "ContentType"), shown_name(*info)});
    t.render(ctx.out);
    return 0;
  }
  if (bool_field(*info, "IsDir")) {
    auto list = ctx.api.get_json("/v1/client/fs/ls/" + query);
    if (!list) return print_error(ctx, list.message());
    if (ctx.json) {
      print_json(ctx, *list);
      return 0;
    }
    Table t({"Mode", "Size", "Modified Time", "Name"});
    for (const auto& e : *list)
      t.add_row({str_field(e, "FileMode"), size_of(e, opts.machine_sizes), mod_time(e), shown_name(e)});
    t.render(ctx.out);
    return 0;
  }
  // A file: from its start, or its end; then, with -f, what is appended, read as it comes.
  const bool tail = opts.tail || opts.lines >= 0 || opts.bytes >= 0;
  const std::int64_t size = info->value("Size", std::int64_t{0});
  std::int64_t lines = -1, offset = 0;
  if (tail) {  // as `alloc logs -tail` (alloc_logs.hpp)
    const TailStart start = tail_start(opts.lines, opts.bytes);
    offset = std::max<std::int64_t>(0, size - start.back);
    lines = start.lines;
  }
  // Bytes from `from` to the file's end, each chunk handed to `sink` as it arrives; how many.
  auto read_from = [&](std::int64_t from, const std::function<void(const char*, std::size_t)>& sink)
      -> Result<std::int64_t> {
    std::int64_t got = 0;
    auto r = ctx.api.stream(
        "/v1/client/fs/readat/" + query + "&offset=" + std::to_string(from),
        [&](const char* data, std::size_t n) {
          got += static_cast<std::int64_t>(n);
          sink(data, n);
          return static_cast<bool>(ctx.out);
        },
        kReadTimeout);
    if (!r) return r.error();
    if (r->status < 200 || r->status >= 300) return make_error(describe_api_error(*r));
    return got;
  };
  auto print = [&](const char* data, std::size_t n) { ctx.out.write(data, static_cast<std::streamsize>(n)); };
  std::string held;  // with -n: the tail's bytes, cut to its last lines once read
  auto first = read_from(offset, lines >= 0 ? std::function<void(const char*, std::size_t)>(
                                                  [&](const char* d, std::size_t n) { held.append(d, n); })
                                            : print);
  if (!first) return print_error(ctx, first.message());
  if (lines >= 0) ctx.out << last_lines(held, lines);
  ctx.out.flush();
  std::int64_t at = offset + *first;
  // Followed until the alloc has ended and what it wrote is read, as `alloc logs -f` does.
  bool ended = false;
  while (opts.follow && ctx.out) {
    if (!ended) std::this_thread::sleep_for(kFollowPoll);
    auto n = read_from(at, print);
    if (!n) return print_error(ctx, n.message());  // the alloc was collected, the file removed
    at += *n;
    ctx.out.flush();
    if (*n > 0) continue;
    if (ended) break;
    auto now = ctx.api.get_json("/v1/allocation/" + url_escape(id));
    const std::string status = now ? str_field(*now, "ClientStatus") : "";
    ended = status == "complete" || status == "failed" || status == "lost";  // one last read
  }
  return 0;
}

}  // namespace drover::cli
