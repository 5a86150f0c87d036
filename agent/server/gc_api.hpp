// PUT (or POST) /v1/system/gc on a server: Nomad's forced garbage collection (server/gc.hpp) of whatever
// is collectable now, whatever its age; `drover system gc` calls it. Any server answers (its
// deletes are guarded, so it never races the leader's own collection into harm). And the
// leader's collection every job_gc_interval.
#pragma once

#include <stop_token>

#include "server/gc.hpp"

namespace httplib {
class Server;
}

namespace drover::server {

struct ServerApiContext;
class LeaderElection;

void register_gc_route(ServerApiContext& ctx, httplib::Server& s);

// While this server leads, collects every `interval` with `t`; logs what went.
void collect_when_leader(std::stop_token stop, const LeaderElection& election,
                         const upstream::EtcdConfig& etcd, const Keys& keys,
                         std::chrono::nanoseconds interval, const GcThresholds& t);

}  // namespace drover::server
