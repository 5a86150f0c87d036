// What a change in etcd means to a user, as a Nomad event (docs/cluster.md, "Event stream"):
// a job registered or deregistered, an alloc placed or updated with its node's client status,
// a node up or down, an evaluation written. The event's index is the etcd revision that made
// the change, so a stream resumes with ?index= from any revision etcd still keeps.
#pragma once

#include <optional>

#include "api/events_endpoint.hpp"
#include "server/keys.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

// The event for one watched change under the prefix; nothing for keys users do not follow
// (versions, the leader, members, launches).
std::optional<api::Event> cluster_event(const Keys& keys, const upstream::EtcdWatchEvent& change);

}  // namespace drover::server
