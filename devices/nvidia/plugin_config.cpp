// Parsing of the nvidia plugin's config object (plugin_config.hpp).
#include "plugin_config.hpp"

#include <cctype>
#include <stdexcept>

namespace drover::devices::nvidia {
namespace {

std::chrono::milliseconds parse_duration(const nlohmann::json& v) {
  using namespace std::chrono;
  if (v.is_number_integer() || v.is_number_unsigned()) {
    return duration_cast<milliseconds>(nanoseconds(v.get<long long>()));
  }
  if (!v.is_string()) throw std::invalid_argument("fingerprint_period: not a duration");
  const std::string s = v.get<std::string>();
  std::size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0 || i > 12)
    throw std::invalid_argument("fingerprint_period: bad duration \"" + s + "\"");
  const long long n = std::stoll(s.substr(0, i));
  const std::string unit = s.substr(i);
  if (unit == "ms") return milliseconds(n);
  if (unit == "s") return seconds(n);
  if (unit == "m") return minutes(n);
  if (unit == "h") return hours(n);
  throw std::invalid_argument("fingerprint_period: bad duration \"" + s + "\" (use ms, s, m or h)");
}

}  // namespace

PluginConfig parse_config(const nlohmann::json& config) {
  PluginConfig c;
  if (!config.is_object()) return c;
  for (const auto& [key, value] : config.items()) {
    if (key != "enabled" && key != "fingerprint_period" && key != "ignored_gpu_ids" &&
        key != "nvml_path") {
      throw std::invalid_argument(key + ": unknown key");
    }
  }
  if (auto it = config.find("enabled"); it != config.end() && !it->is_null()) {
    if (!it->is_boolean()) throw std::invalid_argument("enabled: must be true or false");
    c.enabled = it->get<bool>();
  }
  if (auto it = config.find("fingerprint_period"); it != config.end() && !it->is_null()) {
    c.fingerprint_period = parse_duration(*it);
    // A tighter loop than this only burns NVML calls; stats have their own path.
    if (c.fingerprint_period < std::chrono::milliseconds(100)) {
      throw std::invalid_argument("fingerprint_period: must be at least 100ms");
    }
  }
  if (auto it = config.find("ignored_gpu_ids"); it != config.end() && !it->is_null()) {
    if (!it->is_array()) throw std::invalid_argument("ignored_gpu_ids: must be a list of UUIDs");
    for (const auto& id : *it) {
      if (!id.is_string()) throw std::invalid_argument("ignored_gpu_ids: must be a list of UUIDs");
      c.ignored_gpu_ids.insert(id.get<std::string>());
    }
  }
  if (auto it = config.find("nvml_path"); it != config.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().empty()) {
      throw std::invalid_argument("nvml_path: must be a non-empty path");
    }
    c.nvml_path = it->get<std::string>();
  }
  return c;
}

}  // namespace drover::devices::nvidia
