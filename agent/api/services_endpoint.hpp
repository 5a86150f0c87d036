// Nomad's service API over the catalog (catalog/catalog.hpp): GET /v1/services,
// GET /v1/service/:name (?tag=, ?filter=, ?choose=n|key, ?index= blocking), and
// DELETE /v1/service/:name/:id.
#pragma once

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

void register_services_endpoints(httplib::Server& server, const ApiContext& ctx);

}  // namespace drover::api
