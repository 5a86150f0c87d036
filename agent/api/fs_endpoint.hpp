// Nomad's alloc filesystem API: GET /v1/client/fs/{ls,stat,cat,readat}/:alloc_id?path=...
// (docs/nomad-compat.md, "Alloc files"). Paths are relative to the alloc dir; every open goes
// through fs::open_beneath, so no symlink is followed and nothing outside the alloc dir is
// reached, and a task's secrets dir is never listed or read.
#pragma once

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

void register_fs_endpoint(httplib::Server& server, const ApiContext& ctx);

}  // namespace drover::api
