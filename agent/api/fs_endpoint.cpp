#include "api/fs_endpoint.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/query_params.hpp"
#include "drover/common/encoding.hpp"
#include "drover/common/relative_path.hpp"
#include "drover/common/split.hpp"
#include "drover/sdk/utf8.hpp"
#include "fs/beneath.hpp"
#include "runner/alloc_dir.hpp"
#include "runner/alloc_manager.hpp"
#include "state/alloc.hpp"

namespace drover::api {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

// Go's os.FileMode.String(), which Nomad's FileMode field carries: type letters, then rwx.
std::string file_mode(mode_t m) {
  std::string out;
  if (S_ISDIR(m)) out += 'd';
  if (S_ISLNK(m)) out += 'L';
  if (S_ISBLK(m) || S_ISCHR(m)) out += 'D';
  if (S_ISFIFO(m)) out += 'p';
  if (S_ISSOCK(m)) out += 'S';
  if (m & S_ISUID) out += 'u';
  if (m & S_ISGID) out += 'g';
  if (S_ISCHR(m)) out += 'c';
  if (m & S_ISVTX) out += 't';
  if (out.empty()) out += '-';
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) out += (m & (1u << (8 - i))) ? rwx[i] : '-';
  return out;
}

// Nomad's AllocFileInfo.
nlohmann::json file_info(const std::string& name, const struct stat& st) {
  const int64_t ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return {{"Name", name},
          {"IsDir", S_ISDIR(st.st_mode)},
          {"Size", static_cast<int64_t>(st.st_size)},
          {"FileMode", file_mode(st.st_mode)},
          {"ModTime", state::rfc3339(ns)}};
}

// What Go's http.DetectContentType would mostly say of a file's first bytes.
std::string content_type(std::string_view head) {
  if (head.find('\0') != std::string_view::npos) return "application/octet-stream";
  // A multi-byte character cut at the end of the sample is not a reason to call it binary.
  std::size_t whole = head.size();
  while (whole > 0 && head.size() - whole < 4 &&
         (static_cast<unsigned char>(head[whole - 1]) & 0xC0) == 0x80)
    --whole;
  if (whole > 0 && static_cast<unsigned char>(head[whole - 1]) >= 0xC0) --whole;
  return sdk::utf8_valid(head.substr(0, whole)) ? "text/plain; charset=utf-8"
                                                : "application/octet-stream";
}

struct Target {
  std::filesystem::path root;  // the alloc dir
  std::string rel;             // beneath it, normalized; "." for the alloc dir itself
  std::string shown;           // the path as asked
};

// The alloc and the `path` parameter, checked; false when `res` holds the refusal.
bool resolve(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
             Target& t) {
  auto* m = ctx.allocs;
  auto id = m->resolve_alloc_id(req.matches[1]);
  if (!id) {
    reply_error(res, id.error());
    return false;
  }
  auto alloc = m->alloc(id.value());
  if (!alloc) {
    reply_error(res, 404, "alloc not found");
    return false;
  }
  t.shown = req.has_param("path") ? req.get_param_value("path") : "/";
  if (t.shown.find('\0') != std::string::npos || !sdk::utf8_valid(t.shown)) {
    reply_error(res, 400, "path: must be UTF-8 text without NUL bytes");
    return false;
  }
  std::string_view p = t.shown;
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  auto beneath = lexically_beneath(p);
  if (!beneath) {
    reply_error(res, 400, "path: \"" + t.shown + "\" escapes the alloc dir");
    return false;
  }
  // A task's secrets (tokens, rendered credentials) are the task's alone, as in Nomad.
  auto parts = split(*beneath, '/');
  if (parts.size() >= 2 && parts[1] == "secrets" && alloc->tasks.count(std::string(parts[0]))) {
    reply_error(res, 403, "path: \"" + t.shown + "\" is in task \"" + std::string(parts[0]) +
                              "\"'s secrets dir, which the API does not read");
    return false;
  }
  t.root = runner::alloc_dir_for(m->ctx().data_dir, id.value()).root;
  t.rel = beneath->empty() ? "." : *beneath;
  return true;
}

// Opens the target beneath the alloc dir; false when `res` holds why not (404 for a path that
// is not there, 400 for a file where a dir was wanted, 403 for one through a symlink).
bool open_target(const Target& t, int flags, httplib::Response& res, fs::Fd& out) {
  auto fd = fs::open_beneath(t.root, t.rel, flags);
  if (!fd) {
    const int status = fd.code() == Errc::NotFound ? 404 : fd.code() == Errc::Invalid ? 400 : 403;
    reply_error(res, status, "path: " + t.shown + ": " + fd.message());
    return false;
  }
  out = std::move(fd.value());
  return true;
}

// A regular file opened for reading; anything else (a FIFO a task planted would block the
// read) is refused. O_NONBLOCK makes the open itself safe for a FIFO.
bool open_regular(const Target& t, httplib::Response& res, fs::Fd& out, struct stat& st) {
  if (!open_target(t, O_RDONLY | O_NONBLOCK, res, out)) return false;
  if (::fstat(out.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    reply_error(res, 400, "path: \"" + t.shown + "\" is not a regular file");
    return false;
  }
  return true;
}

// A file's bytes from `offset`, `left` of them, sent a chunk at a time from disk.
struct FileBody {
  fs::Fd fd;
  off_t offset = 0;
  int64_t left = 0;

  bool send(httplib::DataSink& sink) {
    std::string chunk(static_cast<std::size_t>(std::min<int64_t>(left, kChunk)), '\0');
    ssize_t n = chunk.empty() ? 0 : ::pread(fd.get(), chunk.data(), chunk.size(), offset);
    if (n <= 0) {  // the end, or the file shrank meanwhile: what was there is sent
      sink.done();
      return true;
    }
    offset += n;
    left -= n;
    return sink.write(chunk.data(), static_cast<std::size_t>(n));
  }
};

void send_file(httplib::Response& res, fs::Fd fd, off_t offset, int64_t length) {
  auto body = std::make_shared<FileBody>();
  body->fd = std::move(fd);
  body->offset = offset;
  body->left = length;
  // Task-written bytes: plain text, never sniffed into HTML (as the logs).
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_chunked_content_provider(
      "text/plain; charset=utf-8",
      [body](std::size_t, httplib::DataSink& sink) { return body->send(sink); });
}

// GET /v1/client/fs/stream: a file's bytes as Nomad's StreamFrames, one JSON object a line:
// {"Offset": where the data ends, "Data": base64, "File": path}; {"File", "FileEvent": "file
// truncated"} when it shrank under the position (read again from 0), {"File", "FileEvent":
// "file deleted"} as the last frame when it was removed; {} when nothing came for a second (a
// heartbeat, which also finds a client gone). Read through the descriptor opened beneath the
// alloc dir, never by path again.
struct FileStream {
  fs::Fd fd;
  std::string file;  // the path as asked, for the frames
  int64_t offset = 0;
  bool follow = true;
  std::chrono::steady_clock::time_point last_sent = std::chrono::steady_clock::now();

  static constexpr auto kPoll = std::chrono::milliseconds(50);
  static constexpr auto kHeartbeat = std::chrono::seconds(1);

  bool frame(httplib::DataSink& sink, const nlohmann::json& f) {
    last_sent = std::chrono::steady_clock::now();
    const std::string line = f.dump() + "\n";
    return sink.write(line.data(), line.size());
  }

  bool send(httplib::DataSink& sink) {
    std::string chunk(kChunk, '\0');
    while (sink.is_writable()) {
      ssize_t n = ::pread(fd.get(), chunk.data(), chunk.size(), offset);
      if (n > 0) {
        offset += n;
        if (!frame(sink, {{"Offset", offset},
                          {"Data", base64_encode(std::string_view(chunk.data(), static_cast<std::size_t>(n)))},
                          {"File", file}}))
          return false;
        continue;
      }
      if (!follow) break;
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0 || st.st_nlink == 0) {
        (void)frame(sink, {{"File", file}, {"FileEvent", "file deleted"}});
        break;
      }
      if (st.st_size < offset) {
        offset = 0;
        if (!frame(sink, {{"File", file}, {"FileEvent", "file truncated"}})) return false;
        continue;
      }
      if (std::chrono::steady_clock::now() - last_sent >= kHeartbeat && !frame(sink, nlohmann::json::object()))
        return false;
      std::this_thread::sleep_for(kPoll);
    }
    sink.done();
    return true;
  }
};

}  // namespace

void register_fs_endpoint(httplib::Server& server, const ApiContext& ctx) {
  server.Get(R"(/v1/client/fs/ls/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    Target t;
    fs::Fd dir;
    if (!resolve(ctx, req, res, t) || !open_target(t, O_RDONLY | O_DIRECTORY, res, dir)) return;
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(::dup(dir.get())), ::closedir);
    if (!d) return reply_error(res, 500, "path: " + t.shown + ": cannot list it");
    nlohmann::json out = nlohmann::json::array();
    std::vector<std::pair<std::string, struct stat>> entries;
    while (auto* e = ::readdir(d.get())) {
      std::string name = e->d_name;
      struct stat st {};
      if (name == "." || name == ".." || ::fstatat(dir.get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        continue;
      entries.emplace_back(std::move(name), st);
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [name, st] : entries) out.push_back(file_info(name, st));
    reply_json(res, out);
  });

  server.Get(R"(/v1/client/fs/stat/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    Target t;
    fs::Fd fd;
    if (!resolve(ctx, req, res, t) || !open_target(t, O_PATH, res, fd)) return;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return reply_error(res, 500, "path: " + t.shown + ": cannot stat it");
    const std::string name = t.rel == "." ? "/" : std::filesystem::path(t.rel).filename().string();
    auto info = file_info(name, st);
    info["ContentType"] = "";
    if (S_ISREG(st.st_mode)) {
      // The very file just stat'ed, reopened for reading through its O_PATH descriptor: no
      // second walk of the path.
      fs::Fd file(::open(("/proc/self/fd/" + std::to_string(fd.get())).c_str(), O_RDONLY | O_CLOEXEC));
      char head[512];
      ssize_t n = file ? ::pread(file.get(), head, sizeof head, 0) : 0;
      info["ContentType"] = content_type(std::string_view(head, n > 0 ? static_cast<std::size_t>(n) : 0));
    }
    reply_json(res, info);
  });

  server.Get(R"(/v1/client/fs/cat/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    Target t;
    fs::Fd fd;
    struct stat st {};
    if (!resolve(ctx, req, res, t) || !open_regular(t, res, fd, st)) return;
    send_file(res, std::move(fd), 0, st.st_size);
  });

  server.Get(R"(/v1/client/fs/stream/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("path") || req.get_param_value("path").empty())
      return reply_error(res, 400, "path: required");
    auto offset = non_negative_param(req, "offset");
    if (!offset) return reply_error(res, offset.error());
    const std::string origin = req.has_param("origin") ? req.get_param_value("origin") : "start";
    if (origin != "start" && origin != "end")
      return reply_error(res, 400, "origin: must be start or end, not \"" + origin + "\"");
    const std::string follow = req.get_param_value("follow");
    if (!follow.empty() && follow != "true" && follow != "false")
      return reply_error(res, 400, "follow: must be true or false");
    auto body = std::make_shared<FileStream>();
    Target t;
    struct stat st {};
    if (!resolve(ctx, req, res, t) || !open_regular(t, res, body->fd, st)) return;
    body->file = t.shown;
    body->follow = follow != "false";  // Nomad's default: follow
    const int64_t from = origin == "end" ? st.st_size - offset->value_or(0) : offset->value_or(0);
    body->offset = std::clamp<int64_t>(from, 0, st.st_size);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_chunked_content_provider(
        "application/json", [body](std::size_t, httplib::DataSink& sink) { return body->send(sink); });
  });

  server.Get(R"(/v1/client/fs/readat/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto offset = non_negative_param(req, "offset");
    if (!offset) return reply_error(res, offset.error());
    auto limit = non_negative_param(req, "limit");
    if (!limit) return reply_error(res, limit.error());
    Target t;
    fs::Fd fd;
    struct stat st {};
    if (!resolve(ctx, req, res, t) || !open_regular(t, res, fd, st)) return;
    const int64_t from = std::min<int64_t>(offset->value_or(0), st.st_size);
    const int64_t rest = st.st_size - from;
    send_file(res, std::move(fd), static_cast<off_t>(from), limit->has_value() ? std::min(**limit, rest) : rest);
  });
}

}  // namespace drover::api
