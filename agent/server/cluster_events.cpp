// etcd changes as Nomad events; see cluster_events.hpp.
#include "server/cluster_events.hpp"

#include "drover/common/json_text.hpp"

namespace drover::server {

using nlohmann::json;

namespace {


api::Event make(std::string topic, std::string type, std::string key, int64_t index,
                const json& payload, std::string ns = {}) {
  return {std::move(topic),
          std::move(type),
          std::move(key),
          static_cast<uint64_t>(index),
          std::make_shared<const api::EventPayload>(json_text(payload)),
          std::move(ns)};
}

// "<a>/<b>" -> a, b (the last slash: a launched child's job id has one of its own).
bool split_last(const std::string& s, std::string& a, std::string& b) {
  auto at = s.rfind('/');
  if (at == std::string::npos || at == 0 || at + 1 == s.size()) return false;
  a = s.substr(0, at);
  b = s.substr(at + 1);
  return true;
}

}  // namespace

std::optional<api::Event> cluster_event(const Keys& keys, const upstream::EtcdWatchEvent& change) {
  const std::string& k = change.kv.key;
  const int64_t index = change.kv.mod_revision;
  const json value =
      change.deleted ? json() : json::parse(change.kv.value, nullptr, false);
  if (!change.deleted && !value.is_object()) return std::nullopt;
  if (k.starts_with(keys.jobs())) {
    std::string ns, id;
    const std::string rest = k.substr(keys.jobs().size());
    auto slash = rest.find('/');
    if (slash == std::string::npos) return std::nullopt;
    ns = rest.substr(0, slash);
    id = rest.substr(slash + 1);
    // Nomad's job stop deregisters; drover keeps the stopped job (Stop: true) until purged.
    if (change.deleted || value.value("Stop", false)) {
      json job = change.deleted ? json{{"ID", id}, {"Namespace", ns}}
                                : value.value("Job", json::object());
      if (!change.deleted) job["Stop"] = true;
      return make("job", "JobDeregistered", id, index, {{"Job", job}}, ns);
    }
    return make("job", "JobRegistered", id, index, {{"Job", value.value("Job", json::object())}},
                ns);
  }
  if (k.starts_with(keys.allocs()) || k.starts_with(keys.status())) {
    const bool placed = k.starts_with(keys.allocs());
    std::string node, id;
    if (!split_last(k.substr((placed ? keys.allocs() : keys.status()).size()), node, id))
      return std::nullopt;
    if (change.deleted) return std::nullopt;  // garbage collection, not news
    // The server's placement (or its stop and lost marks), or the node's report of it.
    json alloc = placed ? value : json::object();
    if (!placed) {
      for (const char* f : {"ClientStatus", "ClientDescription", "TaskStates", "DeploymentStatus"})
        if (value.contains(f)) alloc[f] = value[f];
    }
    alloc["ID"] = id;
    alloc["NodeID"] = node;
    // A node's status report does not say the alloc's namespace: the stream looks it up
    // when a token's policies need it (server/events_api.cpp).
    return make("alloc", placed ? "PlanResult" : "AllocationUpdated", id, index,
                {{"Allocation", alloc}},
                placed ? value.value("Namespace", std::string("default")) : "");
  }
  if (k.starts_with(keys.nodes())) {
    const std::string id = k.substr(keys.nodes().size());
    // A node's key lives on its lease: gone means down (its agent stopped or lost etcd).
    if (change.deleted)
      return make("node", "NodeDeregistration", id, index,
                  {{"Node", {{"ID", id}, {"Status", "down"}}}});
    json node = value;
    node["ID"] = id;
    node["Status"] = "ready";
    return make("node",
                change.kv.create_revision == change.kv.mod_revision ? "NodeRegistration"
                                                                     : "NodeEvent",
                id, index, {{"Node", node}});
  }
  if (k.starts_with(keys.evals())) {
    if (change.deleted) return std::nullopt;
    return make("eval", "EvaluationUpdated", k.substr(keys.evals().size()), index,
                {{"Evaluation", value}}, value.value("Namespace", std::string("default")));
  }
  return std::nullopt;
}

}  // namespace drover::server
