// Nomad's dynamic host volume API on a server (docs/volumes.md, "On a cluster"): a create goes
// to the node it names (NodeID), else to a ready node of its pool (NodePool, default
// "default") with the fewest host volumes, and is made there by its agent; a register needs
// its NodeID. GET /v1/volumes?type=host lists the volumes every node's key carries; a volume's
// GET and DELETE go to the node that has it.
#pragma once

#include "server/server_api.hpp"

namespace drover::server {

void register_host_volume_routes(ServerApiContext& ctx, httplib::Server& s);

}  // namespace drover::server
