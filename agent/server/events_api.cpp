// The server's event stream; see events_api.hpp.
#include "server/events_api.hpp"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "api/events_endpoint.hpp"
#include "api/json_reply.hpp"
#include "api/request_authz.hpp"
#include "drover/common/json_text.hpp"
#include "server/cluster_events.hpp"
#include "server/server_api.hpp"

namespace drover::server {

using api::reply_error;

namespace {

constexpr auto kHeartbeat = std::chrono::seconds(10);

struct Stream {
  api::TopicFilters filters;
  int64_t next = 0;  // the first revision not yet sent
  api::EventScope scope;                        // what a client token of ACL policies may see
  std::map<std::string, std::string> alloc_ns;  // alloc id -> its namespace, once looked up
};

// The namespace of the alloc a node's status key reports on (status/<node>/<id>), from its
// alloc key; nullopt when that is gone.
std::optional<std::string> status_namespace(const ServerApiContext& ctx, Stream& stream,
                                            upstream::EtcdClient& etcd, const std::string& key) {
  const std::string rest = key.substr(ctx.keys.status().size());
  const auto slash = rest.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string id = rest.substr(slash + 1);
  if (auto it = stream.alloc_ns.find(id); it != stream.alloc_ns.end()) return it->second;
  auto v = etcd.get(ctx.keys.alloc(rest.substr(0, slash), id));
  if (!v || !v.value()) return std::nullopt;
  auto alloc = nlohmann::json::parse(*v.value(), nullptr, false);
  if (!alloc.is_object()) return std::nullopt;
  std::string ns = alloc.value("Namespace", std::string());
  if (ns.empty() && alloc.contains("Job") && alloc["Job"].is_object())
    ns = alloc["Job"].value("Namespace", std::string());
  if (ns.empty()) ns = "default";
  return stream.alloc_ns[id] = ns;
}

// One round of the stream: the watch from stream.next for up to kHeartbeat, each event that
// passes the filters written as it comes; a heartbeat when none did. False when the stream is
// over (the client left, or the revision was compacted away).
bool stream_round(const ServerApiContext& ctx, Stream& stream, httplib::DataSink& sink) {
  upstream::EtcdClient etcd(ctx.etcd);
  bool client_gone = false, sent = false;
  auto server_stopping = [&ctx] { return ctx.stopping && ctx.stopping->load(); };
  // The watch blocks until something changes: cut it after kHeartbeat, so that a quiet stream
  // still sends its heartbeat and notices a client that left, or at once when the server stops.
  std::jthread timer([&etcd, &server_stopping](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    const auto until = std::chrono::steady_clock::now() + kHeartbeat;
    while (!stop.stop_requested() && !server_stopping() && std::chrono::steady_clock::now() < until)
      cv.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; });
    if (!stop.stop_requested()) etcd.interrupt();
  });
  std::unique_ptr<upstream::EtcdClient> lookup;  // a token's alloc namespaces, while watching
  auto st = etcd.watch_prefix(
      ctx.keys.all(), stream.next,
      [&](const std::vector<upstream::EtcdWatchEvent>& changes, int64_t) {
        std::string out;
        for (const auto& c : changes) {
          stream.next = std::max(stream.next, c.kv.mod_revision + 1);
          auto e = cluster_event(ctx.keys, c);
          if (!e || !api::wanted(stream.filters, *e)) continue;
          if (stream.scope.acl && e->topic == "alloc" && e->ns.empty()) {
            if (!lookup) lookup = std::make_unique<upstream::EtcdClient>(ctx.etcd);
            auto ns = status_namespace(ctx, stream, *lookup, c.kv.key);
            if (!ns) continue;
            e->ns = *ns;
          }
          if (api::visible(stream.scope, *e)) out += api::event_frame(*e) + "\n";
        }
        if (out.empty()) return;
        sent = true;
        if (!sink.write(out.data(), out.size())) {
          client_gone = true;
          etcd.interrupt();
        }
      });
  timer.request_stop();
  if (client_gone) return false;
  if (server_stopping()) {
    sink.done();
    return false;
  }
  if (!st && st.code() == Errc::Gone) {
    const std::string end =
        json_text(nlohmann::json{{"Error", "index: " + st.message() + "; resume without ?index="}}) +
        "\n";
    sink.write(end.data(), end.size());
    sink.done();
    return false;
  }
  // etcd unreachable: the heartbeat goes on while the next round tries again.
  if (!st && st.message() != "interrupted") std::this_thread::sleep_for(std::chrono::seconds(1));
  if (sent) return true;
  static const std::string heartbeat = "{}\n";
  return sink.write(heartbeat.data(), heartbeat.size());
}

}  // namespace

void register_events_route(ServerApiContext& ctx, httplib::Server& s) {
  s.Get("/v1/event/stream", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto filters = api::topic_filters(req);
    if (!filters) return reply_error(res, 400, filters.message());
    auto index = api::index_param(req);
    if (!index) return reply_error(res, 400, index.message());
    auto stream = std::make_shared<Stream>();
    stream->filters = std::move(filters.value());
    stream->scope = api::event_scope(req);
    if (index.value()) {
      stream->next = static_cast<int64_t>(*index.value());
    } else {
      // From now: the store's revision as read, so no change between two rounds is missed.
      upstream::EtcdClient etcd(ctx.etcd);
      auto now = etcd.range_prefix(ctx.keys.leader());
      if (!now) return reply_error(res, 503, now.message());
      stream->next = now->revision + 1;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "application/json", [&ctx, stream](size_t, httplib::DataSink& sink) {
          return stream_round(ctx, *stream, sink);
        });
  });
}

}  // namespace drover::server
