// The API's cross-site request refusal: a browser page on another origin must not change
// anything through an agent it can reach (a job submitted by any website a user visits would
// run as root with raw_exec). Browsers send Origin on every cross-origin write; the CLI and
// other non-browser clients send none and are not affected.
#pragma once

#include <string>
#include <string_view>

namespace drover::api {

// Empty when the request may go on; otherwise why it is refused (a 403). Reads (GET, HEAD,
// OPTIONS) always go on: CORS keeps their replies from other origins' scripts.
std::string cross_origin_refusal(std::string_view method, std::string_view origin,
                                 std::string_view host, std::string_view sec_fetch_site);

}  // namespace drover::api
