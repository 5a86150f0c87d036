// Nomad 1.9's job version tags on a server (docs/cluster.md, "Version tags"): a name, unique
// among a job's versions, and a description put on one version, kept in that version's record
// (`PUT /v1/job/:id/versions/:name/tag` {Version, Latest, Description}; `DELETE` the same path
// takes it off). `job history` shows them and `job revert` takes a tag's name for its version.
// Registered before the server's `/v1/job/:id` route, which would otherwise take these paths.
#pragma once

#include "server/server_api.hpp"

namespace drover::server {

void register_version_tag_routes(ServerApiContext& ctx, httplib::Server& s);

}  // namespace drover::server
