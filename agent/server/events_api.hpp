// GET /v1/event/stream on a server: the agent's stream (api/events_endpoint.hpp: its framing,
// ?topic= filters, "{}" heartbeats every 10 s) fed by an etcd watch of the cluster's prefix
// (server/cluster_events.hpp). Each event's Index is the etcd revision of the change, so
// ?index=N resumes from revision N on any server, as far back as etcd has not compacted.
#pragma once

namespace httplib {
class Server;
}

namespace drover::server {

struct ServerApiContext;

void register_events_route(ServerApiContext& ctx, httplib::Server& s);

}  // namespace drover::server
