// GET /v1/agent/monitor; see monitor_endpoint.hpp.
#include "api/monitor_endpoint.hpp"

#include <httplib.h>

#include <memory>

#include "api/json_reply.hpp"
#include "api/query_params.hpp"
#include "core/log_monitor.hpp"
#include "drover/common/encoding.hpp"

namespace drover::api {

std::string monitor_options_refusal(const httplib::Request& req) {
  auto level = spdlog::level::info;
  const std::string level_name = req.get_param_value("log_level");
  if (!level_name.empty() && !agent::parse_log_level(level_name, &level))
    return "log_level: unknown log level \"" + level_name.substr(0, 32) +
           "\" (use trace, debug, info, warn or error)";
  for (const char* name : {"log_json", "plain"})
    if (auto v = bool_param(req, name, false); !v) return v.message();
  return {};
}

void serve_monitor(agent::LogMonitor* monitor, const httplib::Request& req,
                   httplib::Response& res) {
  if (!monitor) return reply_error(res, 501, "this process has no log monitor");
  if (auto bad = monitor_options_refusal(req); !bad.empty()) return reply_error(res, 400, bad);
  auto level = spdlog::level::info;
  const std::string level_name = req.get_param_value("log_level");
  if (!level_name.empty()) agent::parse_log_level(level_name, &level);
  const bool json = bool_param(req, "log_json", false).value();
  const bool plain = bool_param(req, "plain", false).value();
  auto reader = monitor->follow(level, json);
  if (!reader)
    return reply_error(res, 429,
                       std::to_string(agent::LogMonitor::kMaxReaders) +
                           " monitors already follow this log; try again when one has ended");
  // The reader goes when the connection does: httplib destroys the provider then.
  auto release = std::shared_ptr<void>(nullptr, [monitor, reader](void*) { monitor->stop(reader); });
  res.set_header("Cache-Control", "no-cache");
  const bool framed = !plain;
  // Each pass waits a second at most, then checks the connection: a client that went away
  // frees its reader within a second (readers are capped).
  auto last_write = std::make_shared<std::chrono::steady_clock::time_point>(
      std::chrono::steady_clock::now());
  res.set_chunked_content_provider(
      framed ? "application/json" : "text/plain",
      [reader, release, framed, last_write](size_t, httplib::DataSink& sink) {
        std::string text = reader->take(std::chrono::seconds(1));
        if (reader->closed()) {
          sink.done();
          return false;
        }
        const auto now = std::chrono::steady_clock::now();
        std::string out;
        if (!text.empty())
          // Nomad's StreamFrame: Data is the bytes, base64 (Go's []byte in JSON).
          out = framed ? "{\"Data\":\"" + base64_encode(text) + "\"}\n" : std::move(text);
        else if (framed && now - *last_write >= std::chrono::seconds(10))
          out = "{}\n";  // a heartbeat: the stream is alive
        // Quiet: is the client still there? (a FIN from it makes the sink unwritable,
        // api/http_server.cpp; httplib asks only when something is written)
        if (out.empty()) return sink.is_writable();
        *last_write = now;
        return sink.write(out.data(), out.size());
      },
      [release](bool) {});
}

void register_monitor_endpoint(httplib::Server& s, agent::LogMonitor* monitor,
                               std::string node_id) {
  s.Get("/v1/agent/monitor",
        [monitor, node_id](const httplib::Request& req, httplib::Response& res) {
          const std::string asked = req.get_param_value("node_id");
          if (!asked.empty() && node_id.rfind(asked, 0) != 0)
            return reply_error(res, 404,
                               "node_id: \"" + asked.substr(0, 64) +
                                   "\" is not this agent's node (" + node_id +
                                   "); ask a server, which passes it on");
          if (req.has_param("server_id"))
            return reply_error(res, 400, "server_id: this is an agent, not a server");
          serve_monitor(monitor, req, res);
        });
}

}  // namespace drover::api
