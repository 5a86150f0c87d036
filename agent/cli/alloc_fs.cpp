// `drover alloc fs` (see alloc_fs.hpp).
#include "cli/alloc_fs.hpp"

#include <cstdio>
#include <ostream>

#include "cli/table.hpp"

namespace drover::cli {

namespace {

constexpr auto kReadTimeout = std::chrono::seconds(60);

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
  auto response = ctx.api.stream(
      "/v1/client/fs/cat/" + query,
      [&](const char* data, std::size_t size) {
        ctx.out.write(data, static_cast<std::streamsize>(size));
        return static_cast<bool>(ctx.out);
      },
      kReadTimeout);
  if (!response) return print_error(ctx, response.message());
  if (response->status < 200 || response->status >= 300) return print_error(ctx, describe_api_error(*response));
  ctx.out.flush();
  return 0;
}

}  // namespace drover::cli
