// Host volume checks (host_volumes.hpp).
#include "runner/host_volumes.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace drover::runner {

Status check_host_volume(const HostVolume& v) {
  if (v.path.empty() || v.path[0] != '/')
    return make_error("path: must be absolute (got \"" + v.path + "\")", Errc::Invalid);
  if (v.path.find("/../") != std::string::npos || v.path.ends_with("/.."))
    return make_error("path: must not contain \"..\"", Errc::Invalid);
  struct stat st {};
  if (::stat(v.path.c_str(), &st) != 0)
    return make_error("path: " + v.path + ": " + std::strerror(errno), Errc::Invalid);
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
    return make_error("path: " + v.path + ": must be a directory or a regular file", Errc::Invalid);
  return {};
}

std::vector<std::string> single_writer_sources(const jobspec::TaskGroup& group) {
  std::vector<std::string> out;
  for (const auto& v : group.volumes)
    if (v.type == "host" && !v.read_only && v.access_mode == "single-node-single-writer")
      out.push_back(v.source);
  return out;
}

nlohmann::json capabilities_to_json(const VolumeCapabilities& caps) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [access, attachment] : caps)
    out.push_back({{"AccessMode", access}, {"AttachmentMode", attachment}});
  return out;
}

VolumeCapabilities capabilities_from_json(const nlohmann::json& list) {
  VolumeCapabilities out;
  if (!list.is_array()) return out;
  for (const auto& c : list)
    if (c.is_object()) out.emplace_back(c.value("AccessMode", ""), c.value("AttachmentMode", ""));
  return out;
}

}  // namespace drover::runner
