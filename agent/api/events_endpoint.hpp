// GET /v1/event/stream: newline-delimited JSON, one frame per event in Nomad's framing
// {"Index": N, "Events": [{"Topic", "Type", "Key", "Index", "Payload"}]}, and "{}" as a
// heartbeat every 10 s. Topics: alloc, task, node, health (Nomad's Allocation and Node are
// accepted as aliases); the server's stream adds job and eval. ?topic=alloc&topic=health filters (topic:key narrows to one key);
// ?index=N resumes from event N, as far back as the ring of recent events reaches.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace httplib {
class Server;
struct Request;
}

namespace drover::api {
struct ApiContext;
class Acl;

// An event's payload as JSON text, shared by every reader: a JSON tree costs several times
// its text in memory, and the ring holds thousands of them on a busy node. A deferred one is
// made when a reader first wants it, so a change nobody follows costs no serialisation (an
// alloc's JSON on every change was a measurable part of a task's start).
class EventPayload {
 public:
  explicit EventPayload(std::string text) : text_(std::move(text)), made_(true) {}
  explicit EventPayload(std::function<nlohmann::json()> make) : make_(std::move(make)) {}
  const std::string& text() const;

 private:
  mutable std::mutex mu_;
  mutable std::function<nlohmann::json()> make_;
  mutable std::string text_;
  mutable bool made_ = false;
};

struct Event {
  std::string topic, type, key;
  uint64_t index = 0;
  std::shared_ptr<const EventPayload> payload;
  std::string ns;  // the namespace of a job's, alloc's or evaluation's event; "" for a node's
};

// A bounded ring of recent events that stream readers follow.
class EventBroker {
 public:
  explicit EventBroker(std::size_t capacity = 1024) : capacity_(capacity) {}
  // Assigns the next index.
  uint64_t publish(std::string topic, std::string type, std::string key, nlohmann::json payload,
                   std::string ns = {});
  // The same with the payload made only when a reader wants it (from what `make` captured).
  uint64_t publish(std::string topic, std::string type, std::string key,
                   std::function<nlohmann::json()> make, std::string ns = {});
  // Events with index >= from (the oldest kept when `from` fell off the ring), waiting up
  // to `wait` for one to arrive. Empty after close().
  std::vector<Event> since(uint64_t from, std::chrono::milliseconds wait);
  uint64_t last_index() const;
  void close();
  bool closed() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> ring_;
  uint64_t next_ = 1;
  bool closed_ = false;
};

void register_events_endpoint(httplib::Server& server, const ApiContext& ctx);

// What the agent's stream and the server's (server/events_api.hpp) share.
// ?topic=alloc&topic=job:web: topic -> keys ("*": any key); empty: every topic. Nomad's names
// (Allocation, Node, Job, Evaluation, Deployment) are read as ours.
using TopicFilters = std::map<std::string, std::set<std::string>>;
Result<TopicFilters> topic_filters(const httplib::Request& req);
bool wanted(const TopicFilters& filters, const Event& e);
// What a stream shows, as Nomad's: a namespaced event (job, alloc, task, health, eval) when
// the request asked for its namespace (?namespace=, "default" when absent; "*": every one),
// a node's always. A client token of ACL policies (docs/security.md, "ACL policies") sees
// besides only the namespaces where it holds read-job, and node events with node read.
struct EventScope {
  std::shared_ptr<const Acl> acl;
  std::string ns;  // ?namespace=, "default" when absent
};
EventScope event_scope(const httplib::Request& req);
bool visible(const EventScope& scope, const Event& e);
// ?index=N, digits only; nothing when absent.
Result<std::optional<uint64_t>> index_param(const httplib::Request& req);
// One event as a line of the stream: {"Index": N, "Events": [{Topic, Type, Key, Index, Payload}]}.
std::string event_frame(const Event& e);

}  // namespace drover::api
