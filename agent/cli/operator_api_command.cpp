// `drover operator api [-X METHOD] PATH`, Nomad's (1.5): any API path, with the CLI's address,
// token and namespace, its answer printed as it came; for PUT and POST the body is read from
// stdin. A non-2xx answer exits 1 (its body on stderr). Scripts need no curl and no token
// handling of their own.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/command_context.hpp"

namespace drover::cli {
namespace {

struct ApiOptions {
  std::string method = "GET";
  std::string path;
};

int operator_api(Context& ctx, const ApiOptions& o, std::istream& in) {
  std::string method = o.method;
  std::transform(method.begin(), method.end(), method.begin(), ::toupper);
  std::string path = o.path;
  // A whole URL (Nomad's CLI takes one): only its path and query are used, against -address.
  if (auto scheme = path.find("://"); scheme != std::string::npos) {
    auto slash = path.find('/', scheme + 3);
    path = slash == std::string::npos ? "/" : path.substr(slash);
  }
  if (path.empty() || path[0] != '/') path = "/" + path;
  if (path.rfind("/v1/", 0) != 0) return print_error(ctx, "path: \"" + o.path + "\" is not an API path (/v1/...)");
  if (!ctx.ns.empty() && path.find("namespace=") == std::string::npos) path = with_namespace(ctx, path);
  Result<ApiResponse> r = make_error("method: \"" + o.method + "\" is not GET, PUT, POST or DELETE");
  if (method == "GET") {
    r = ctx.api.get(path);
  } else if (method == "DELETE") {
    r = ctx.api.del(path);
  } else if (method == "PUT" || method == "POST") {
    const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    r = method == "PUT" ? ctx.api.put(path, body, "application/json")
                        : ctx.api.post(path, body, "application/json");
  }
  if (!r) return print_error(ctx, r.message());
  const bool ok = r->status >= 200 && r->status < 300;
  (ok ? ctx.out : ctx.err) << r->body << (r->body.empty() || r->body.back() == '\n' ? "" : "\n");
  return ok ? 0 : 1;
}

}  // namespace

void add_operator_api_command(CLI::App& op, Handler& selected) {
  auto* cmd = op.add_subcommand("api", "Call any API path with the CLI's address and token: api [-X METHOD] /v1/...");
  auto o = std::make_shared<ApiOptions>();
  cmd->add_option("-X,--X", o->method, "GET (default), PUT, POST (the body from stdin) or DELETE");
  cmd->add_option("path", o->path, "The API path, with its query (/v1/jobs?prefix=web)")->required();
  cmd->callback([&selected, o] {
    selected = [o](Context& ctx) { return operator_api(ctx, *o, std::cin); };
  });
}

}  // namespace drover::cli
