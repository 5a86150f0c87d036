// exec's task Config checks (see task_config.hpp).
#include "task_config.hpp"

#include <algorithm>

#include "plugin_config.hpp"
#include "work_dir.hpp"

namespace drover::exec {
namespace {

bool valid_hostname(const std::string& h) {
  if (h.empty() || h.size() > 63) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
         }) && h.front() != '-';
}

void string_list(const nlohmann::json& config, const char* key, std::vector<std::string>& problems) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return;
  if (!it->is_array()) {
    problems.push_back(std::string("config.") + key + ": must be an array of strings");
    return;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& a = (*it)[i];
    if (!a.is_string() || a.get_ref<const std::string&>().find('\0') != std::string::npos)
      problems.push_back(std::string("config.") + key + "[" + std::to_string(i) + "]: must be a string without NUL");
  }
}

std::vector<std::string> caps_of(const nlohmann::json& config, const char* key) {
  std::vector<std::string> out;
  if (auto it = config.find(key); it != config.end() && it->is_array())
    for (const auto& c : *it)
      if (c.is_string()) out.push_back(normalize_cap(c.get<std::string>()));
  return out;
}

}  // namespace

std::vector<std::string> config_problems(const nlohmann::json& config,
                                         const std::vector<std::string>& allow_caps) {
  std::vector<std::string> problems;
  if (!config.is_object()) {
    problems.push_back("config: must be an object with at least \"command\"");
    return problems;
  }
  auto cmd = config.find("command");
  if (cmd == config.end() || cmd->is_null()) problems.push_back("config.command: required");
  else if (!cmd->is_string() || cmd->get_ref<const std::string&>().empty() ||
           cmd->get_ref<const std::string&>().find('\0') != std::string::npos)
    problems.push_back("config.command: must be a non-empty string without NUL");
  string_list(config, "args", problems);
  string_list(config, "cap_add", problems);
  string_list(config, "cap_drop", problems);
  if (auto h = config.find("hostname"); h != config.end() && !h->is_null()) {
    if (!h->is_string() || !valid_hostname(h->get<std::string>()))
      problems.push_back("config.hostname: must be a host name (letters, digits, '-', '.', at most 63)");
  }
  if (auto n = config.find("network_mode"); n != config.end() && !n->is_null()) {
    if (!n->is_string() || (*n != "host" && *n != "none" && *n != ""))
      problems.push_back("config.network_mode: must be \"host\" or \"none\"");
  }
  for (const auto& cap : caps_of(config, "cap_add")) {
    bool all_allowed = std::find(allow_caps.begin(), allow_caps.end(), "ALL") != allow_caps.end();
    if (!all_allowed && (cap == "ALL" || std::find(allow_caps.begin(), allow_caps.end(), cap) == allow_caps.end()))
      problems.push_back("config.cap_add: " + cap + " is not in the plugin's allow_caps");
  }
  if (auto p = monitored::work_dir_problem(config); !p.empty()) problems.push_back(p);
  static const char* kKnown[] = {"command", "args",    "hostname", "network_mode",
                                 "cap_add", "cap_drop", "work_dir"};
  for (const auto& [key, value] : config.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
      problems.push_back("config." + key + ": unknown key for the exec driver");
  }
  return problems;
}

TaskConfig read_config(const nlohmann::json& config) {
  TaskConfig c;
  c.command = config.at("command").get<std::string>();
  if (auto a = config.find("args"); a != config.end() && a->is_array()) c.args = a->get<std::vector<std::string>>();
  if (auto h = config.find("hostname"); h != config.end() && h->is_string()) c.hostname = h->get<std::string>();
  if (auto w = config.find("work_dir"); w != config.end() && w->is_string()) c.work_dir = *w;
  if (auto n = config.find("network_mode"); n != config.end() && n->is_string()) c.network_none = *n == "none";
  c.cap_add = caps_of(config, "cap_add");
  c.cap_drop = caps_of(config, "cap_drop");
  return c;
}

std::vector<std::string> task_caps(const TaskConfig& c) {
  std::vector<std::string> caps;
  bool drop_all = std::find(c.cap_drop.begin(), c.cap_drop.end(), "ALL") != c.cap_drop.end();
  if (!drop_all)
    for (const auto& d : default_caps())
      if (std::find(c.cap_drop.begin(), c.cap_drop.end(), d) == c.cap_drop.end()) caps.push_back(d);
  for (const auto& a : c.cap_add)
    if (a != "ALL" && std::find(caps.begin(), caps.end(), a) == caps.end()) caps.push_back(a);
  return caps;
}

}  // namespace drover::exec
