// Nomad's node pools on a server (Nomad 1.6; docs/cluster.md, "Node pools"): the built-in
// `all` and `default`, every pool a node names, and the pools an operator described, kept under
// `<prefix>/node_pools/<name>`. GET /v1/node/pools, /v1/node/pool/:name, .../nodes and .../jobs
// read them; PUT|POST /v1/node/pools {Name, Description, Meta} describes one; DELETE
// /v1/node/pool/:name forgets one no node or live job is in. Registered before the node routes,
// whose /v1/node/:id would take /v1/node/pools.
#pragma once

#include "server/server_api.hpp"

namespace drover::server {

void register_node_pool_routes(ServerApiContext& ctx, httplib::Server& s);

}  // namespace drover::server
