// The event broker and GET /v1/event/stream; see events_endpoint.hpp.
#include "api/events_endpoint.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/request_authz.hpp"
#include "drover/common/json_text.hpp"

namespace drover::api {

const std::string& EventPayload::text() const {
  std::lock_guard lock(mu_);
  if (!made_) {
    text_ = json_text(make_());
    make_ = nullptr;  // what it captured goes now
    made_ = true;
  }
  return text_;
}

uint64_t EventBroker::publish(std::string topic, std::string type, std::string key,
                              nlohmann::json payload, std::string ns) {
  return publish(
      std::move(topic), std::move(type), std::move(key), [p = std::move(payload)] { return p; },
      std::move(ns));
}

uint64_t EventBroker::publish(std::string topic, std::string type, std::string key,
                              std::function<nlohmann::json()> make, std::string ns) {
  auto text = std::make_shared<const EventPayload>(std::move(make));
  uint64_t index;
  {
    std::lock_guard lock(mu_);
    index = next_++;
    ring_.push_back(
        {std::move(topic), std::move(type), std::move(key), index, std::move(text), std::move(ns)});
    while (ring_.size() > capacity_) ring_.pop_front();
  }
  cv_.notify_all();
  return index;
}

std::vector<Event> EventBroker::since(uint64_t from, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait,
               [&] { return closed_ || (!ring_.empty() && ring_.back().index >= from); });
  std::vector<Event> out;
  if (closed_) return out;
  for (const auto& e : ring_)
    if (e.index >= from) out.push_back(e);
  return out;
}

uint64_t EventBroker::last_index() const {
  std::lock_guard lock(mu_);
  return next_ - 1;
}

void EventBroker::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool EventBroker::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

namespace {

std::string canonical_topic(const std::string& t) {
  if (t == "Allocation" || t == "alloc") return "alloc";
  if (t == "Node" || t == "node") return "node";
  if (t == "Task" || t == "task") return "task";
  if (t == "Health" || t == "health" || t == "Deployment") return "health";
  // The server's (server/cluster_events.hpp): jobs and evaluations.
  if (t == "Job" || t == "job") return "job";
  if (t == "Evaluation" || t == "eval") return "eval";
  if (t == "*") return "*";
  return "";
}

}  // namespace

Result<TopicFilters> topic_filters(const httplib::Request& req) {
  TopicFilters filters;
  for (std::size_t i = 0; i < req.get_param_value_count("topic"); ++i) {
    auto v = req.get_param_value("topic", i);
    auto colon = v.find(':');
    auto topic = canonical_topic(v.substr(0, colon));
    if (topic.empty())
      return make_error("unknown topic \"" + v.substr(0, colon) +
                            "\" (use alloc, task, node, health, job, eval or *)",
                        Errc::Invalid);
    filters[topic].insert(colon == std::string::npos ? "*" : v.substr(colon + 1));
  }
  return filters;
}

bool wanted(const TopicFilters& filters, const Event& e) {
  if (filters.empty()) return true;
  for (const auto& t : {e.topic, std::string("*")}) {
    auto it = filters.find(t);
    if (it != filters.end() && (it->second.count("*") || it->second.count(e.key))) return true;
  }
  return false;
}

Result<std::optional<uint64_t>> index_param(const httplib::Request& req) {
  if (!req.has_param("index")) return std::optional<uint64_t>{};
  // Digits only: std::stoull reads "-1" as 2^64-1, a stream that never sends anything.
  auto text = req.get_param_value("index");
  bool digits = !text.empty() && text.size() <= 19 &&
                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits)
    return make_error("index: must be a non-negative integer (got \"" + text.substr(0, 32) + "\")",
                      Errc::Invalid);
  return std::optional<uint64_t>{std::stoull(text)};
}

EventScope event_scope(const httplib::Request& req) {
  EventScope scope{request_acl_shared(), req.get_param_value("namespace")};
  if (scope.ns.empty()) scope.ns = "default";
  return scope;
}

bool visible(const EventScope& scope, const Event& e) {
  if (e.ns.empty()) return !scope.acl || scope.acl->allow_level("node", "read");
  if (scope.ns != "*" && scope.ns != e.ns) return false;
  return !scope.acl || scope.acl->allow_namespace(e.ns, "read-job");
}

// {"Index": N, "Events": [{"Topic", "Type", "Key", "Index", "Payload"}]}, with the payload's
// text spliced in (made at the first reader's asking, then shared).
std::string event_frame(const Event& e) {
  auto str = [](const std::string& v) { return json_text(nlohmann::json(v)); };
  auto index = std::to_string(e.index);
  return "{\"Index\":" + index + ",\"Events\":[{\"Topic\":" + str(e.topic) + ",\"Type\":" +
         str(e.type) + ",\"Key\":" + str(e.key) + ",\"Index\":" + index +
         ",\"Payload\":" + (e.payload ? e.payload->text() : std::string("null")) + "}]}";
}

void register_events_endpoint(httplib::Server& s, const ApiContext& ctx) {
  EventBroker* broker = ctx.events;
  s.Get("/v1/event/stream", [broker](const httplib::Request& req, httplib::Response& res) {
    if (!broker) return reply_error(res, 501, "the event stream is not enabled");
    auto scope = std::make_shared<const EventScope>(event_scope(req));
    auto parsed = topic_filters(req);
    if (!parsed) return reply_error(res, 400, parsed.message());
    auto filters = std::make_shared<TopicFilters>(std::move(parsed.value()));
    auto index = index_param(req);
    if (!index) return reply_error(res, 400, index.message());
    uint64_t from = broker->last_index() + 1;
    // Indexes start over when the agent restarts (the ring is in memory): an index past the
    // newest is a client resuming from the agent's earlier life, and waiting for it to come
    // round again would stall its stream. It follows from now (and refetches what it shows).
    if (index.value()) from = std::min(*index.value(), from);
    auto next = std::make_shared<uint64_t>(from);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "application/json", [broker, filters, next, scope](size_t, httplib::DataSink& sink) {
          auto events = broker->since(*next, std::chrono::seconds(10));
          if (broker->closed()) {
            sink.done();
            return false;
          }
          std::string out;
          for (const auto& e : events) {
            *next = e.index + 1;
            if (wanted(*filters, e) && visible(*scope, e)) out += event_frame(e) + "\n";
          }
          if (events.empty()) out = "{}\n";  // heartbeat: lets a client see the stream is alive
          if (out.empty()) return true;
          return sink.write(out.data(), out.size());
        });
  });
}

}  // namespace drover::api
