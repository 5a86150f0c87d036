// GET /v1/operator/snapshot (Nomad's `operator snapshot save`; management only): the cluster's
// durable keys at one etcd revision as a snapshot file (server/snapshot_file.hpp), read by
// whichever server is asked. Restoring is not an API call: `drover operator snapshot restore
// -config server.yaml FILE` writes etcd itself (docs/cluster.md, "Snapshots").
#pragma once

namespace httplib {
class Server;
}

namespace drover::server {

struct ServerApiContext;

void register_snapshot_route(ServerApiContext& ctx, httplib::Server& s);

}  // namespace drover::server
