// What only the node that runs an alloc can answer — its logs (followed too), stats, checks,
// restart, signal and exec — the server forwards to that node's API (the Node's HTTPAddr), so that
// `drover alloc logs|status|exec` work against a server (docs/cluster.md, "Server API"); so
// is a node's metadata (`node meta read|apply -node-id`), which its agent keeps.
#pragma once

#include <optional>
#include <string>

#include "server/server_api.hpp"

namespace drover::server {

void register_node_forward_routes(ServerApiContext& ctx, httplib::Server& s);

// The alloc (by id or unique prefix) and its node's API as a URL.
struct NodeTarget {
  std::string alloc_id, base;
};
// Finds them, or says why not: NotFound (no such alloc, or its node is down), Ambiguous (a
// prefix of several), Internal (etcd did not answer, the node has no address): a gateway's
// failure, which gateway_status() answers with 502.
Result<NodeTarget> node_target(const ServerApiContext& ctx, const std::string& id);
int gateway_status(Errc code);
// The request's path with the alloc id (maybe a prefix) replaced by the full id, and its query.
std::string forwarded_target(const httplib::Request& req, const std::string& short_id,
                             const std::string& full_id);

}  // namespace drover::server
