// The node's ports (docs/networking.md): gives each alloc its static and dynamic ports, never
// one that another live alloc holds, the agent config reserves, or (for a dynamic port)
// something on the host already listens on. The allocator keeps no state of its own: what
// is held is read from the live allocs, whose ports are persisted with them, so an agent
// restart keeps them and an alloc that ends (terminal) frees them.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"
#include "runner/host_networks.hpp"
#include "state/alloc.hpp"

namespace drover::runner {

struct PortConfig {
  int min_dynamic = 20000;  // Nomad's defaults
  int max_dynamic = 32000;
  std::set<int> reserved;       // reserved.reserved_ports: on every address
  HostNetwork default_network;  // name "default": network_interface's address
  std::vector<HostNetwork> host_networks;
};

// Who holds a port, for a conflict's message.
struct PortHolder {
  std::string alloc_id, job_id;
  // An alloc that this submit replaces: its static ports are free for the new version (it is
  // being stopped), but no dynamic port of it is handed out again.
  bool replaced = false;
  // An alloc of the submit being placed (not yet created).
  bool placing = false;
};

// The ports live allocs hold, by address and port.
class PortUsage {
 public:
  void add(const std::vector<state::AllocatedNetwork>& networks, const PortHolder& holder);
  void take(const std::string& ip, int port, const PortHolder& holder);
  // The holder of `port` on `ip`, or null.
  const PortHolder* on(const std::string& ip, int port) const;
  // Whether any alloc holds `port`, on any address.
  bool anywhere(int port) const { return by_port_.count(port) > 0; }

 private:
  std::map<std::pair<std::string, int>, PortHolder> held_;
  std::set<int> by_port_;
};

// Whether nothing on this host listens on TCP `port`: a bind to the IPv4 and IPv6 wildcard
// addresses with SO_REUSEADDR (so TIME_WAIT leftovers do not count) succeeds.
bool host_port_free(int port);

class PortAllocator {
 public:
  using HostProbe = std::function<bool(int port)>;
  explicit PortAllocator(PortConfig cfg, HostProbe probe = host_port_free);

  // The networks of one alloc of `group` (its own and its tasks' older resources.network),
  // its ports added to `usage` so that the next alloc of the same submit gets others. A static
  // port that is held or reserved, an unknown host network or a full dynamic range is a
  // Conflict naming the port and its holder.
  Result<std::vector<state::AllocatedNetwork>> allocate(const jobspec::TaskGroup& group,
                                                        PortUsage& usage,
                                                        const PortHolder& self) const;

  const PortConfig& config() const { return cfg_; }

 private:
  // The network a port asks for ("" : the default), or null when not configured.
  const HostNetwork* network(const std::string& name) const;
  Result<int> dynamic_port(const HostNetwork& net, const PortUsage& usage) const;

  PortConfig cfg_;
  HostProbe probe_;
};

}  // namespace drover::runner
