// `drover server`: the cluster's scheduler process. It keeps no state of its own: jobs,
// evaluations and allocs live in etcd (docs/cluster.md, "Servers"). Three threads: the
// election (leader_election.hpp), the leader's planning loop (scheduler.hpp, committed by
// plan_committer.hpp) and the HTTP API (server_api.hpp).
#pragma once

#include "server/server_flags.hpp"
