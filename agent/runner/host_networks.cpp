// Port lists, host networks and their addresses on this host; see host_networks.hpp.
#include "runner/host_networks.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <charconv>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

namespace drover::runner {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int> port_number(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > 65535) return std::nullopt;
  return v;
}

// Every IPv4 address of the host with its interface, in getifaddrs order.
std::vector<std::pair<std::string, in_addr>> ipv4_addresses() {
  std::vector<std::pair<std::string, in_addr>> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> guard(list, freeifaddrs);
  for (auto* a = list; a; a = a->ifa_next)
    if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && (a->ifa_flags & IFF_UP))
      out.emplace_back(a->ifa_name, reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr);
  return out;
}

std::string text(in_addr a) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

}  // namespace

Result<std::set<int>> parse_port_list(std::string_view text) {
  std::set<int> out;
  std::string errors;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string_view part = trim(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    if (part.empty()) {
      if (comma != std::string_view::npos) errors += "; an empty entry between commas";
      continue;
    }
    auto dash = part.find('-');
    auto lo = port_number(trim(part.substr(0, dash)));
    auto hi = dash == std::string_view::npos ? lo : port_number(trim(part.substr(dash + 1)));
    if (!lo || !hi) {
      errors += "; \"" + std::string(part) + "\" is not a port (1-65535) or a range like 8500-8600";
    } else if (*lo > *hi) {
      errors += "; \"" + std::string(part) + "\": the range is reversed";
    } else {
      for (int p = *lo; p <= *hi; ++p) out.insert(p);
    }
  }
  if (!errors.empty()) return make_error(errors.substr(2), Errc::Invalid);
  return out;
}

std::string format_port_list(const std::set<int>& ports) {
  std::string out;
  for (auto it = ports.begin(); it != ports.end();) {
    int lo = *it, hi = lo;
    while (++it != ports.end() && *it == hi + 1) ++hi;
    out +=
        (out.empty() ? "" : ",") + std::to_string(lo) + (hi > lo ? "-" + std::to_string(hi) : "");
  }
  return out;
}

std::string interface_address(const std::string& name) {
  for (const auto& [iface, addr] : ipv4_addresses())
    if (iface == name) return text(addr);
  return "";
}

std::string default_route_interface() {
  // Columns: Iface Destination Gateway ...; the default route has destination 00000000.
  std::ifstream in("/proc/net/route");
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string iface, destination;
    if (fields >> iface >> destination && destination == "00000000") return iface;
  }
  return "";
}

Result<std::pair<std::string, std::string>> address_in_cidr(const std::string& cidr) {
  auto slash = cidr.find('/');
  in_addr net{};
  int bits = -1;
  if (slash != std::string::npos) {
    std::string_view b(cidr.data() + slash + 1, cidr.size() - slash - 1);
    auto [end, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (ec != std::errc() || end != b.data() + b.size()) bits = -1;
  }
  if (slash == std::string::npos || bits < 0 || bits > 32 ||
      inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &net) != 1)
    return make_error("\"" + cidr + "\" is not an IPv4 CIDR such as 10.0.0.0/8", Errc::Invalid);
  uint32_t mask = bits == 0 ? 0 : htonl(~uint32_t{0} << (32 - bits));
  for (const auto& [iface, addr] : ipv4_addresses())
    if ((addr.s_addr & mask) == (net.s_addr & mask)) return std::pair{text(addr), iface};
  return std::pair<std::string, std::string>{};
}

Result<std::vector<HostNetwork>> resolve_host_networks(const std::vector<HostNetworkConfig>& cfg) {
  std::vector<HostNetwork> out;
  std::string errors;
  for (const auto& c : cfg) {
    HostNetwork n;
    n.name = c.name;
    n.cidr = c.cidr;
    n.interface = c.interface;
    if (auto r = parse_port_list(c.reserved_ports); !r)
      errors += "\n  host_network." + c.name + ".reserved_ports: " + r.message();
    else
      n.reserved = std::move(r.value());
    if (!c.cidr.empty()) {
      auto found = address_in_cidr(c.cidr);
      if (!found) {
        errors += "\n  host_network." + c.name + ".cidr: " + found.message();
      } else {
        n.address = found->first;
        n.interface = found->second;
      }
    } else {
      n.address = interface_address(c.interface);
    }
    out.push_back(std::move(n));
  }
  if (!errors.empty()) return make_error("agent config:" + errors, Errc::Invalid);
  return out;
}

}  // namespace drover::runner
