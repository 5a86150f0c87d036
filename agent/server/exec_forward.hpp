// The exec websocket (api/exec_endpoint.hpp, docs/nomad-compat.md "alloc exec") asked of a
// server: the server answers the upgrade itself, then passes the session on to the node that
// runs the alloc, byte for byte both ways, so that `drover alloc exec -i -t` works against a
// server as against the alloc's agent (docs/cluster.md, "Server API"). What the server can
// check it checks first, as the agent does: the upgrade, then the token (in a header, by the
// pre-routing check; with ws_handshake=true, in the first message, read here and checked
// against the same `operate` policy before anything is looked up), then the alloc and its
// node. That first message goes on to the node unchanged.
#pragma once

#include "server/server_api.hpp"

namespace drover::api {
class TokenStore;
}

namespace drover::server {

// `tokens`: the server's ACL tokens, or null when ACLs are off.
void register_exec_forward_route(ServerApiContext& ctx, httplib::Server& s,
                                 const api::TokenStore* tokens);

// GET /v1/job/:job/action?allocID=... (Nomad's `job action`): the same, to the node of the
// alloc the parameter names, which looks the action up in the alloc's job. Registered before
// GET /v1/job/:id, which would take the path.
void register_action_forward_route(ServerApiContext& ctx, httplib::Server& s,
                                   const api::TokenStore* tokens);

}  // namespace drover::server
