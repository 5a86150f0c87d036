// Nodes that went down (docs/cluster.md, "Down nodes"). A node's key lives on its lease and
// goes when its agent stops or loses etcd; its record (keys.hpp node_record), written by the
// agent with the key, stays. The leader marks a record whose key is gone `down`, with the
// time, and the API lists it as Nomad does: `down`, or `disconnected` while allocs of it are
// `unknown` (disconnect.hpp). Node GC (gc.hpp) deletes it once it has been down for
// node_gc_threshold with nothing on it left to run.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "server/cluster_state.hpp"
#include "server/keys.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

// A record to mark down: the node's record with Status "down", StatusDescription and
// StatusUpdatedAt (unix seconds, as Nomad's), written only if the record is still at
// `revision` and the node key still absent.
struct DownMark {
  std::string node_id, key, value;
  int64_t revision = 0;
};

// The down nodes of `st` whose record does not say so yet.
std::vector<DownMark> down_marks(const ClusterState& st, const Keys& keys, int64_t now_ns);

// Writes each mark in a transaction guarded by the leader's term (its key's value `me` and
// create revision as `st` read it) and the mark's own compares; a mark whose compare fails
// (the node came back) is left. The number written.
Result<int> write_down_marks(upstream::EtcdClient& etcd, const Keys& keys, const ClusterState& st,
                             const std::string& me, const std::vector<DownMark>& marks);

// Deletes the down node `id`'s record and control key, if the record is still at `revision`
// and the node key absent (`PUT /v1/node/:id/purge`). The revision of the delete; a Conflict
// when the node came back meanwhile.
Result<int64_t> purge_down_node(upstream::EtcdClient& etcd, const Keys& keys,
                                const std::string& id, int64_t revision);

// "disconnected" while an alloc on the down node `id` is `unknown`, else "down".
std::string down_status(const ClusterState& st, const std::string& id);

// A node as GET /v1/node/:id answers: the live node, or the down one with its status; null
// when `id` is neither.
nlohmann::json node_json(const ClusterState& st, const std::string& id);

// Every node, live and down, ordered by id, as `node_json` gives them.
std::vector<nlohmann::json> all_nodes(const ClusterState& st);

// A node's id from the id or a unique prefix of it, among live and down nodes alike.
Result<std::string> resolve_node(const ClusterState& st, const std::string& id);

}  // namespace drover::server
