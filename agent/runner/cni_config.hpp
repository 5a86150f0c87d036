// Where a node's CNI plugins and network configs are, and the configs read as libcni reads them
// (docs/networking.md, "CNI networks"): the files of `cni_config_dir` ending .conflist, .conf
// or .json, in name order; a network is found by its "name", among the .conflist files first,
// then among the single-plugin .conf/.json files, each made a list of one.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::runner {

// Nomad's client settings `cni_path` and `cni_config_dir`. The plugins are looked for in
// Debian's directory first (containernetworking-plugins), then in Nomad's.
struct CniSettings {
  std::vector<std::string> plugin_dirs{"/usr/lib/cni", "/opt/cni/bin"};
  std::filesystem::path config_dir = "/opt/cni/config";
  // How long one plugin call may take before it is killed (ADD or DEL of one plugin).
  std::chrono::seconds call_timeout{60};

  // CNI_PATH: the plugin dirs joined by ':'.
  std::string path_env() const;
  // The plugin binary for `type`; "" when no dir holds an executable of that name.
  std::string find_plugin(const std::string& type) const;
};

// Reads `cni_path` as Nomad does: absolute dirs joined by ':'. An error names the bad entry.
Result<std::vector<std::string>> parse_cni_path(const std::string& text);

struct CniNetwork {
  std::string name;
  std::filesystem::path file;
  nlohmann::json conflist;  // {cniVersion, name, plugins: [...]}
};

struct CniScan {
  std::vector<CniNetwork> networks;  // each name once: the first file that names it
  std::vector<std::string> problems;  // a file that could not be read, each naming it
};

// Every network config in `dir`; a missing dir is an empty scan.
CniScan scan_cni_configs(const std::filesystem::path& dir);

// The network `name` from `dir`; NotFound naming the dir and the networks it has.
Result<CniNetwork> find_cni_network(const std::filesystem::path& dir, const std::string& name);

}  // namespace drover::runner
