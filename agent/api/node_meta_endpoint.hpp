// Nomad's dynamic node metadata (1.5): GET /v1/client/metadata answers {Meta, Dynamic, Static}
// (the merged metadata, the keys `node meta apply` set or unset, the agent config's);
// PUT|POST /v1/client/metadata {"NodeID", "Meta": {"k": "v", "gone": null}} changes the dynamic
// keys and answers the same. A `node_id` (query or body) other than this node's is a 400
// (a server forwards by it: server/node_forward.hpp). docs/nomad-compat.md, "Node metadata".
#pragma once

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

void register_node_meta_endpoint(httplib::Server& server, const ApiContext& ctx);

}  // namespace drover::api
