// Nomad Variables over HTTP (docs/variables.md): GET /v1/vars?prefix=&namespace=, GET, PUT
// (?cas=) and DELETE (?cas=) /v1/var/:path, and the keyring: PUT|POST
// /v1/operator/keyring/rotate[?full=true], GET /v1/operator/keyring/keys. A workload identity
// (a task's token, vars/workload_identity.hpp) may read its own job's variables, and do what
// the ACL policies attached to its job grant.
#pragma once

#include <optional>
#include <string>

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace drover::api {

struct ApiContext;

void register_vars_endpoints(httplib::Server& server, ApiContext& ctx);

// For the pre-routing token check: nullopt when `secret` is not a workload identity; else ""
// when the request is one a live workload identity may make (a read of variables, which the
// endpoint judges; or what the ACL policies attached to its job grant), or the reason to
// refuse it with 403.
std::optional<std::string> workload_token_refusal(const ApiContext& ctx,
                                                  const httplib::Request& req,
                                                  const std::string& secret);

}  // namespace drover::api
