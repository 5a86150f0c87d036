// Nomad's `/v1/operator/scheduler/configuration` on a server: GET answers the configuration in
// force (the stored one, else server.yaml's) as {"SchedulerConfig", "Index"}; PUT/POST stores
// a new one (absent keys keep their values) under the `scheduler_config` key and answers
// {"Updated": true, "Index"}. Written straight to etcd from any server: the leader reads it at
// its next pass (docs/cluster.md, "Placement").
#pragma once

#include "server/server_api.hpp"

namespace drover::server {

void register_operator_routes(ServerApiContext& ctx, httplib::Server& s);

}  // namespace drover::server
