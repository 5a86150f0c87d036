// The node's networks for ports (docs/networking.md): Nomad's port-list syntax
// ("22,80,8500-8600"), the agent config's host networks (`host_network`), and the addresses
// they resolve to on this host (an interface's address, or the host's address inside a CIDR).
// Part of the agent config library: `drover config validate` checks the same syntax.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::runner {

// Nomad's reserved_ports syntax: ports and inclusive ranges separated by commas, spaces
// allowed around them. Errors name the part that is wrong ("\"90-80\": the range is reversed").
Result<std::set<int>> parse_port_list(std::string_view text);

// The set back in that syntax, ranges joined: {22, 80, 81, 82} -> "22,80-82".
std::string format_port_list(const std::set<int>& ports);

// `host_network "name" { cidr | interface, reserved_ports }` as the agent config says it.
struct HostNetworkConfig {
  std::string name;
  std::string cidr;       // "10.0.0.0/8": the host's address inside it
  std::string interface;  // "eth1": that interface's address
  std::string reserved_ports;
  bool operator==(const HostNetworkConfig&) const = default;
};

// A host network as found on this host.
struct HostNetwork {
  std::string name;             // "default" for the node's default network
  std::string cidr, interface;  // as configured (interface: the one the address is on)
  std::string address;          // "" when nothing on this host matches
  std::set<int> reserved;
};

// The IPv4 address of interface `name`; "" when it has none (or does not exist).
std::string interface_address(const std::string& name);
// The interface of the IPv4 default route (/proc/net/route); "" when there is none.
std::string default_route_interface();
// The first IPv4 address of this host inside `cidr` and the interface it is on, or
// {"", ""}; an error when `cidr` is not an IPv4 CIDR.
Result<std::pair<std::string, std::string>> address_in_cidr(const std::string& cidr);

// Resolves each configured host network on this host. A network that matches nothing keeps an
// empty address (a port asking for it does not fit); a bad CIDR or port list is an error.
Result<std::vector<HostNetwork>> resolve_host_networks(const std::vector<HostNetworkConfig>& cfg);

}  // namespace drover::runner
