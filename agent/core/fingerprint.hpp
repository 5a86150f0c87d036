// The node's own attributes, with Nomad's names (docs/nomad-compat.md, "Node attributes"):
// cpu, memory, kernel, os, hostname, storage of the data dir, cgroup mode.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace drover::agent {

std::map<std::string, std::string> fingerprint_node(const std::filesystem::path& data_dir);

}  // namespace drover::agent
