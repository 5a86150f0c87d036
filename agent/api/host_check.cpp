// Host header allow-list against DNS rebinding (api/host_check.hpp).
#include "api/host_check.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace drover::api {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_ip(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// "name:port" -> "name", "[::1]:port" -> "::1"; a trailing dot (an absolute name) is dropped.
std::string host_part(std::string_view h) {
  std::string host;
  if (!h.empty() && h.front() == '[') {
    auto end = h.find(']');
    host =
        std::string(h.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1));
  } else {
    auto colon = h.find(':');
    // More than one colon without brackets: a bare IPv6 address, no port.
    host = std::string(colon != std::string_view::npos &&
                               h.find(':', colon + 1) == std::string_view::npos
                           ? h.substr(0, colon)
                           : h);
  }
  if (!host.empty() && host.back() == '.') host.pop_back();
  return lower(host);
}

}  // namespace

std::vector<std::string> allowed_host_names(const std::string& node_name,
                                            const std::string& bind_addr,
                                            const std::vector<std::string>& extra) {
  std::vector<std::string> out{"localhost"};
  auto add = [&](const std::string& n) {
    auto h = host_part(n);
    if (!h.empty() && !is_ip(h) && std::find(out.begin(), out.end(), h) == out.end())
      out.push_back(h);
  };
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0) {
    add(name);
    add(std::string(name).substr(0, std::string(name).find('.')));
  }
  add(node_name);
  add(bind_addr);
  for (const auto& e : extra) add(e);
  return out;
}

bool read_allowed_hosts(const nlohmann::json& value, std::vector<std::string>& out) {
  if (!value.is_array()) return false;
  for (const auto& h : value) {
    auto s = h.is_string() ? h.get<std::string>() : std::string();
    if (s.empty() || s.find_first_of(":/ \t@") != std::string::npos) return false;
    out.push_back(s);
  }
  return true;
}

std::string host_refusal(std::string_view host_header, const std::vector<std::string>& allowed) {
  if (host_header.empty()) return {};
  auto host = host_part(host_header);
  if (is_ip(host) || std::find(allowed.begin(), allowed.end(), host) != allowed.end()) return {};
  // *.localhost resolves to loopback by definition (RFC 6761) and no one else can own it.
  if (host.size() > 10 && host.ends_with(".localhost")) return {};
  return "Permission denied: this agent does not answer to the name \"" + host +
         "\" (Host header); reach it by IP address, localhost or its host name, or add the name "
         "to http_allowed_hosts in the agent's config";
}

}  // namespace drover::api
