// What the server's API files share: the cluster read for a request, the request's namespace,
// writes forwarded to the leader, and the wait for the leader to take an evaluation up.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/request_authz.hpp"
#include "drover/common/result.hpp"
#include "server/cluster_state.hpp"
#include "server/job_records.hpp"
#include "server/server_api.hpp"

namespace drover::server {

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// Nomad's write endpoints answer POST and PUT alike.
void post_and_put(httplib::Server& s, const std::string& pattern, const Handler& h);

// The cluster for a read: on the leader, a copy of its watch-fed view once that holds every
// write etcd had when the read began; else (a follower, a view behind or busy planning) every
// key under the prefix read and parsed (docs/cluster.md, "Reads").
Result<std::shared_ptr<const ClusterState>> read_state(const ServerApiContext& ctx);

// One alloc's key by its id or a unique prefix of one, found among the alloc keys alone
// (etcd's keys_only; every alloc's value holds its job, and reading them all took about 2 s
// at 10,000 jobs). NotFound, Ambiguous (a prefix of several), Internal (etcd).
struct AllocKey {
  std::string id, node_id, key;
};
Result<AllocKey> find_alloc_key(const ServerApiContext& ctx, const std::string& id);
// The alloc itself, without reading the cluster: its key found as above, then that key and
// its status key. NotFound also when it went meanwhile.
Result<AllocView> read_alloc(const ServerApiContext& ctx, const std::string& id);

// The request's ?namespace= ("default" when absent); checked before any route runs
// (register_server_routes), so it is a name, or "*" on a list.
std::string ns_of(const httplib::Request& req);

// The body of a POST as a JSON object, or a 400 naming why not.
std::optional<nlohmann::json> body_object(const httplib::Request& req, httplib::Response& res);

// The leader's HTTP address: as this server's election last saw it, or read from etcd when it
// has not seen one yet (a server that just started, between two of its tries). "" when there is
// none, and then `why` (when given) says so: etcd's error when it could not be asked.
std::string leader_addr(const ServerApiContext& ctx, std::string* why = nullptr);

// The caller's token headers (X-Nomad-Token, Authorization), for a request sent on to the
// leader or to an alloc's node, which check the token themselves.
std::vector<std::pair<std::string, std::string>> token_headers(const httplib::Request& req);

// A write on a follower goes to the leader as it came; with no leader, 503 naming why.
Handler leader_only(ServerApiContext& ctx, Handler h);

// The namespace of an alloc of the cluster, by id or unique prefix (the cluster read whole, as
// the alloc's own route reads it): what a token's ACL policies are judged in for the alloc's
// endpoints (api/request_authz.hpp).
api::AllocNamespaceLookup alloc_namespace_lookup(const ServerApiContext& ctx);

// A read handler with the cluster state read for it (read_state). On a follower the request
// goes to the leader as it came (Nomad's default consistency), unless it asks `?stale` or the
// leader cannot be reached: then it reads here, from etcd.
Handler with_state(
    ServerApiContext& ctx,
    std::function<void(const ClusterState&, const httplib::Request&, httplib::Response&)> h);

}  // namespace drover::server
