// The API's DNS-rebinding refusal: a web page on a name its owner controls (evil.example) can
// point that name at 127.0.0.1 after the page loads; the browser then treats the agent as the
// page's own origin, so same-origin reads and writes (and the Origin check of
// api/origin_check.hpp) pass. The one thing such a request cannot fake is its Host header,
// which names the attacker's domain: the agent answers only requests whose Host is an IP
// address, "localhost", the machine's or the node's name, or a name the operator allows
// (`http_allowed_hosts`, docs/ui.md "Security").
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace drover::api {

// The names a Host header may carry besides IP addresses: localhost, this machine's host
// name (and its name without the domain), `node_name` and `bind_addr` when they are names,
// then `extra` (the config's allow-list). Lower case.
std::vector<std::string> allowed_host_names(const std::string& node_name,
                                            const std::string& bind_addr,
                                            const std::vector<std::string>& extra);

// Reads a config's `http_allowed_hosts` (a list of host names: no scheme, port or path) into
// `out`; false when it is not one (the caller names the key in its error).
bool read_allowed_hosts(const nlohmann::json& value, std::vector<std::string>& out);

// Empty when a request with this Host header may go on; otherwise why it is refused (a 403).
// A request without Host (HTTP/1.0, not a browser) goes on.
std::string host_refusal(std::string_view host_header, const std::vector<std::string>& allowed);

}  // namespace drover::api
