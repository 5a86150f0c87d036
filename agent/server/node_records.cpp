// Down nodes: marks, status and lookup; see node_records.hpp.
#include "server/node_records.hpp"

#include <spdlog/spdlog.h>

#include "drover/common/json_text.hpp"
#include "server/leader_election.hpp"
#include "upstream/etcd_txn.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

// The compares that hold while node `id` is down as read: its record still at `revision`, and
// its key absent (a node that registered again rewrote its record too, but be sure).
json still_down(const Keys& keys, const std::string& id, int64_t revision) {
  return json::array({upstream::txn::modified_at(keys.node_record(id), revision),
                      upstream::txn::absent(keys.nodes() + id)});
}

}  // namespace

std::vector<DownMark> down_marks(const ClusterState& st, const Keys& keys, int64_t now_ns) {
  std::vector<DownMark> out;
  for (const auto& [id, down] : st.down_nodes) {
    if (down.record.value("Status", "") == "down") continue;
    json r = down.record;
    r["Status"] = "down";
    r["StatusDescription"] = "node heartbeat missed: its lease lapsed";
    r["StatusUpdatedAt"] = now_ns / 1'000'000'000;
    out.push_back({id, keys.node_record(id), json_text(r), down.revision});
  }
  return out;
}

Result<int> write_down_marks(upstream::EtcdClient& etcd, const Keys& keys, const ClusterState& st,
                             const std::string& me, const std::vector<DownMark>& marks) {
  int written = 0;
  for (const auto& m : marks) {
    json compare = still_down(keys, m.node_id, m.revision);
    for (auto& c : leader_term(keys, me, st.leader_created)) compare.push_back(std::move(c));
    json success = json::array({upstream::txn::put(m.key, m.value)});
    auto r = etcd.txn({{"compare", compare}, {"success", success}});
    if (!r) return make_error("marking node " + m.node_id + " down: " + r.message(), r.code());
    if (!r.value().value("succeeded", false)) continue;  // back meanwhile, or not the leader
    spdlog::info("server: node {} is down: its lease lapsed", m.node_id);
    ++written;
  }
  return written;
}

Result<int64_t> purge_down_node(upstream::EtcdClient& etcd, const Keys& keys,
                                const std::string& id, int64_t revision) {
  const json compare = still_down(keys, id, revision);
  json success = json::array(
      {upstream::txn::del(keys.node_record(id)), upstream::txn::del(keys.node_control(id))});
  auto r = etcd.txn({{"compare", compare}, {"success", success}});
  if (!r) return make_error("purging node " + id + ": " + r.message(), r.code());
  if (!r.value().value("succeeded", false))
    return make_error("node " + id + " registered again meanwhile: not purged", Errc::Conflict);
  spdlog::info("server: node {} purged", id);
  return upstream::EtcdClient::header_revision(r.value()).value_or(revision);
}

std::string down_status(const ClusterState& st, const std::string& id) {
  auto unknown = [](const AllocView& a) { return a.client_status() == "unknown"; };
  if (st.indexed) {
    if (auto on = st.allocs_by_node.find(id); on != st.allocs_by_node.end())
      for (const auto& alloc_id : on->second)
        if (auto a = st.allocs.find(alloc_id); a != st.allocs.end() && unknown(a->second))
          return "disconnected";
    return "down";
  }
  for (const auto& [alloc_id, a] : st.allocs)
    if (a.node_id == id && unknown(a)) return "disconnected";
  return "down";
}

json node_json(const ClusterState& st, const std::string& id) {
  if (auto n = st.nodes.find(id); n != st.nodes.end()) return n->second;
  auto down = st.down_nodes.find(id);
  if (down == st.down_nodes.end()) return nullptr;
  auto control = st.controls.find(id);
  json n = node_with_control(down->second.record,
                             control == st.controls.end() ? nullptr : &control->second);
  n["Status"] = down_status(st, id);
  return n;
}

std::vector<json> all_nodes(const ClusterState& st) {
  std::vector<json> out;
  out.reserve(st.nodes.size() + st.down_nodes.size());
  auto live = st.nodes.begin();
  auto down = st.down_nodes.begin();
  // Both maps are ordered by id, and no id is in both (a node's key put ends its down entry).
  while (live != st.nodes.end() || down != st.down_nodes.end()) {
    if (down == st.down_nodes.end() || (live != st.nodes.end() && live->first < down->first)) {
      out.push_back(live->second);
      ++live;
    } else {
      out.push_back(node_json(st, down->first));
      ++down;
    }
  }
  return out;
}

Result<std::string> resolve_node(const ClusterState& st, const std::string& id) {
  if (st.nodes.count(id) || st.down_nodes.count(id)) return id;
  std::string found;
  int n = 0;
  auto scan = [&](const auto& m) {
    for (auto it = m.lower_bound(id); it != m.end() && it->first.rfind(id, 0) == 0; ++it) {
      found = it->first;
      ++n;
    }
  };
  scan(st.nodes);
  scan(st.down_nodes);
  if (n == 1) return found;
  if (n > 1)
    return make_error("node prefix \"" + id + "\" matches " + std::to_string(n),
                      Errc::Ambiguous);
  return make_error("node \"" + id + "\" not found", Errc::NotFound);
}

}  // namespace drover::server
