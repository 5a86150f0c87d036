// The alloc network: one network namespace per alloc for a group `network { mode = "bridge" }`,
// `mode = "none"` or `mode = "cni/<name>"`, created before any task starts and wired by CNI
// plugins: for bridge the reference plugins as Nomad chains them (bridge + host-local IPAM on
// Nomad's `nomad` bridge, loopback, firewall, portmap), for cni/<name> the operator's network
// config from cni_config_dir. Torn down when the alloc ends (docs/networking.md, "Bridge
// mode", "CNI networks").
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"
#include "runner/cni_config.hpp"
#include "state/alloc.hpp"

namespace drover::plugins {
class DriverPlugin;
class PluginRegistry;
}  // namespace drover::plugins

namespace drover::runner {

// Where the namespaces and their records live: /run/drover/netns/<alloc> (a bind mount of the
// namespace) and <alloc>.json (what teardown and recovery need).
inline constexpr const char* kNetnsDir = "/run/drover/netns";
// Nomad's defaults (client/allocrunner/networking_bridge_linux.go).
inline constexpr const char* kBridgeName = "nomad";
inline constexpr const char* kBridgeSubnet = "172.26.64.0/20";
inline constexpr const char* kAllocIfname = "eth0";

using jobspec::is_cni_mode;  // the job model's: which modes there are (jobspec/job.hpp)
using jobspec::isolated_network_mode;

// The CNI network config list for "bridge" (Nomad's conflist) or "none" (loopback alone).
nlohmann::json cni_conflist(const std::string& mode);
// The list an alloc in `mode` is wired with: cni_conflist's, or for cni/<name> the network
// from cni_config_dir with loopback before its plugins. NotFound when there is no such network.
Result<nlohmann::json> alloc_conflist(const std::string& mode, const CniSettings& cni);
// CNI_ARGS for a network's `cni { args }`: `IgnoreUnknown=true` and the job's pairs, joined
// by ';' (Nomad's).
std::string cni_args_env(const std::map<std::string, std::string>& args);
// The portmap plugin's runtimeConfig.portMappings for the alloc's group ports.
nlohmann::json cni_port_mappings(const std::vector<state::AllocatedPort>& ports);
// The alloc's IPv4 address from a CNI result, without the prefix: the first ips[].address of
// an interface inside the namespace (one with a sandbox), else the first (a result of spec
// 0.1/0.2: ip4.ip). An error naming what is missing.
Result<std::string> cni_result_ip(const nlohmann::json& result);

// The network config and plugins `mode` needs, each named when missing from the host, and
// root: "" when the host can run it.
std::string network_host_problem(const std::string& mode, const CniSettings& cni);

struct AllocNetworkStatus {
  std::string netns_path;  // what the tasks join
  std::string ip;          // the alloc's address on the bridge ("" in mode none)
  // What the driver that made the namespace said of it (plugin.h, create_network): its
  // tasks get it back as "NetworkLabels". Empty when the agent made the namespace.
  std::map<std::string, std::string> labels;
};

// Who makes the namespace: the agent itself (driver null), or a driver whose tasks can only
// join a namespace of its own making (plugin.h, MustInitiateNetwork: docker's pause
// container), asked through create_network; either way the agent bind-mounts and wires it.
struct NetworkMaker {
  plugins::DriverPlugin* driver = nullptr;
  std::string alloc_dir;  // passed to the driver (its leftovers are told apart by it)
  nlohmann::json dns;     // the group network's dns block (Nomad's DNSConfig), or null
  std::string hostname;   // the group network's hostname, interpolated; "": none
};

class AllocNetwork {
 public:
  // Creates the namespace and runs CNI ADD; a failure halfway removes what was made.
  // `data_dir` marks the record as this agent's (leftover cleanup touches only its own);
  // `cni_args`: the group network's `cni { args }`.
  static Result<AllocNetworkStatus> setup(const std::string& alloc_id, const std::string& mode,
                                          const std::vector<state::AllocatedPort>& ports,
                                          const std::filesystem::path& data_dir,
                                          const NetworkMaker& maker = {},
                                          const CniSettings& cni = {},
                                          const std::map<std::string, std::string>& cni_args = {});
  // The namespace an earlier run of the agent made, when it is still there.
  static Result<AllocNetworkStatus> recover(const std::string& alloc_id);
  // CNI DEL with the config, plugin dirs and args of the ADD, the driver's destroy_network when a driver made it (found in `plugins`), unmount,
  // remove; nothing when there is no record. The record stays when the driver could not
  // remove its part, so that the next agent start tries again.
  static Status teardown(const std::string& alloc_id, plugins::PluginRegistry* plugins);
  // Tears down every namespace this agent (`data_dir`) made for an alloc not in `live`.
  static void remove_leftovers(const std::filesystem::path& data_dir,
                               const std::set<std::string>& live,
                               plugins::PluginRegistry* plugins);
};

}  // namespace drover::runner
