#include "api/logs_endpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/log_stream.hpp"
#include "api/query_params.hpp"
#include "fs/beneath.hpp"
#include "runner/alloc_dir.hpp"
#include "runner/alloc_manager.hpp"

namespace drover::api {
namespace {

constexpr auto kFollowPoll = std::chrono::milliseconds(50);
constexpr std::size_t kChunk = 64 * 1024;

struct LogRequest {
  std::string alloc_id, task, type;
  bool follow = false;
  long long offset = 0;
  bool from_end = false;
};

// The task is done writing once it is dead and not about to restart.
bool task_finished(runner::AllocManager& m, const std::string& alloc_id, const std::string& task) {
  auto a = m.alloc(alloc_id);
  if (!a) return true;
  auto it = a->tasks.find(task);
  return it == a->tasks.end() || it->second.state == state::TaskPhase::Dead;
}

// A read without follow: the bytes the log had when the request came (so a task writing as
// fast as we send cannot keep it going), sent one chunk at a time.
struct BoundedLogBody {
  std::shared_ptr<LogStream> stream;
  long long left = 0;
  std::string chunk;

  Status read_chunk() {
    chunk.resize(static_cast<std::size_t>(std::min<long long>(kChunk, left)));
    if (chunk.empty()) return {};
    auto n = stream->read(chunk.data(), chunk.size());
    if (!n) return n.error();
    chunk.resize(n.value());
    // Nothing where the log had bytes: it was cut meanwhile; what is left is gone.
    left = n.value() == 0 ? 0 : left - static_cast<long long>(n.value());
    return {};
  }

  bool send(httplib::DataSink& sink) {
    if (chunk.empty()) {
      sink.done();
      return true;
    }
    if (!sink.write(chunk.data(), chunk.size())) return false;
    // A file refused or gone halfway: end the connection, so the cut shows.
    return static_cast<bool>(read_chunk());
  }
};

}  // namespace

void register_logs_endpoint(httplib::Server& server, const ApiContext& ctx) {
  auto* m = ctx.allocs;
  server.Get(R"(/v1/client/fs/logs/([^/]+))", [m](const httplib::Request& req,
                                                   httplib::Response& res) {
    auto id = m->resolve_alloc_id(req.matches[1]);
    if (!id) return reply_error(res, id.error());
    auto alloc = m->alloc(id.value());
    if (!alloc) return reply_error(res, 404, "alloc not found");
    LogRequest lr;
    lr.alloc_id = id.value();
    lr.task = req.get_param_value("task");
    lr.type = req.has_param("type") ? req.get_param_value("type") : "stdout";
    auto follow = req.get_param_value("follow");
    lr.follow = follow == "true" || follow == "1";
    auto origin = req.has_param("origin") ? req.get_param_value("origin") : "start";
    if (lr.task.empty()) {
      std::string names;
      for (const auto& [n, _] : alloc->tasks) names += (names.empty() ? "" : ", ") + n;
      return reply_error(res, 400, "task: required (tasks of this alloc: " + names + ")");
    }
    // Only a task of this alloc: the name becomes part of a file name.
    if (!alloc->tasks.count(lr.task))
      return reply_error(res, 404, "task \"" + lr.task + "\" is not in alloc " + lr.alloc_id);
    if (lr.type != "stdout" && lr.type != "stderr")
      return reply_error(res, 400, "type: must be stdout or stderr, not \"" + lr.type + "\"");
    if (origin != "start" && origin != "end")
      return reply_error(res, 400, "origin: must be start or end, not \"" + origin + "\"");
    lr.from_end = origin == "end";
    auto offset = non_negative_param(req, "offset");
    if (!offset) return reply_error(res, offset.error());
    lr.offset = offset->value_or(0);
    auto root = runner::alloc_dir_for(m->ctx().data_dir, lr.alloc_id).root;
    auto stream = std::make_shared<LogStream>(root, lr.task + "." + lr.type);
    if (auto st = stream->seek(lr.offset, lr.from_end); !st) return reply_error(res, 403, st.message());
    res.set_header("X-Content-Type-Options", "nosniff");
    if (!lr.follow) {
      // Streamed from disk one chunk at a time: a whole log held in memory took the agent to
      // twice the log's size. The first chunk is read now, so a refused open is still a 403.
      auto body = std::make_shared<BoundedLogBody>();
      body->stream = stream;
      body->left = stream->remaining_at_seek();
      if (auto st = body->read_chunk(); !st) return reply_error(res, 403, st.message());
      res.set_chunked_content_provider(
          "text/plain; charset=utf-8",
          [body](std::size_t, httplib::DataSink& sink) { return body->send(sink); });
      return;
    }
    res.set_chunked_content_provider(
        "text/plain; charset=utf-8", [m, lr, stream](std::size_t, httplib::DataSink& sink) {
          std::string buf(kChunk, '\0');
          while (sink.is_writable()) {
            // Read before checking the task: all it wrote before ending is sent.
            bool finished = task_finished(*m, lr.alloc_id, lr.task);
            auto n = stream->read(buf.data(), buf.size());
            if (!n) break;
            if (n.value() > 0) {
              if (!sink.write(buf.data(), n.value())) return false;
              continue;
            }
            if (finished) break;
            std::this_thread::sleep_for(kFollowPoll);
          }
          sink.done();
          return true;
        });
  });
}

}  // namespace drover::api
