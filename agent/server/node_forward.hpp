// What only the node that runs an alloc can answer — its logs (followed too), stats, checks,
// restart, signal and exec — the server forwards to that node's API (the Node's HTTPAddr), so that
// `drover alloc logs|status|exec` work against a server (docs/cluster.md, "Server API").
#pragma once

#include "server/server_api.hpp"

namespace drover::server {

void register_node_forward_routes(ServerApiContext& ctx, httplib::Server& s);

}  // namespace drover::server
