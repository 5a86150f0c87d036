// A write from a browser is allowed only from the agent's own origin (api/origin_check.hpp).
#include "api/origin_check.hpp"

namespace drover::api {

std::string cross_origin_refusal(std::string_view method, std::string_view origin,
                                 std::string_view host, std::string_view sec_fetch_site) {
  if (method == "GET" || method == "HEAD" || method == "OPTIONS") return {};
  if (sec_fetch_site == "cross-site" || sec_fetch_site == "same-site")
    return "Permission denied: a cross-origin browser request may not change anything "
           "(Sec-Fetch-Site: " +
           std::string(sec_fetch_site) + ")";
  if (origin.empty()) return {};
  // Origin is scheme://host[:port]; it must name the host the request was sent to.
  auto scheme_end = origin.find("://");
  std::string_view origin_host =
      scheme_end == std::string_view::npos ? std::string_view{} : origin.substr(scheme_end + 3);
  if (origin == "null" || origin_host.empty() || origin_host != host)
    return "Permission denied: a request from origin " + std::string(origin) +
           " may not change anything on this agent (" + std::string(host) + ")";
  return {};
}

}  // namespace drover::api
