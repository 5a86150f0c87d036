// The server's routes that launch children of a job, on the leader (a follower forwards them):
// Nomad's POST /v1/job/:id/periodic/force (a periodic child now, whatever the schedule) and
// POST /v1/job/:id/dispatch (a parameterized job's child with a payload and meta, Nomad's
// IdempotencyToken answered with the child it made before), each child written as a new job in
// a txn guarded by the leader key; and GET /v1/job/:id/summary, with Nomad's Children counts
// that `job status` shows for a parent (docs/cluster.md, "Periodic and parameterized jobs").
#pragma once

#include "server/server_api.hpp"

namespace drover::server {

// Before register_server_routes: its /v1/job/:id would take these paths.
void register_launch_routes(ServerApiContext& ctx, httplib::Server& s);

}  // namespace drover::server
