// Dynamic host volumes; see dynamic_host_volumes.hpp.
#include "runner/dynamic_host_volumes.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"
#include "drover/common/names.hpp"
#include "jobspec/constraint.hpp"
#include "jobspec/job.hpp"
#include "proc/bounded_command.hpp"
#include "state/alloc.hpp"
#include "state/state_store.hpp"

namespace drover::runner {

using nlohmann::json;

namespace {

constexpr const char* kMetaPrefix = "host_volume/";
constexpr auto kPluginTimeout = std::chrono::minutes(1);

DynamicHostVolume from_json(const json& j) {
  DynamicHostVolume v;
  v.id = j.value("ID", "");
  v.name = j.value("Name", "");
  v.ns = j.value("Namespace", "default");
  v.plugin_id = j.value("PluginID", "");
  v.host_path = j.value("HostPath", "");
  v.capacity_bytes = j.value("CapacityBytes", int64_t{0});
  v.capacity_min_bytes = j.value("RequestedCapacityMinBytes", int64_t{0});
  v.capacity_max_bytes = j.value("RequestedCapacityMaxBytes", int64_t{0});
  const json params = j.value("Parameters", json::object());  // alive for the loop
  for (const auto& [k, val] : params.items())
    if (val.is_string()) v.parameters[k] = val.get<std::string>();
  v.capabilities = capabilities_from_json(j.value("RequestedCapabilities", json::array()));
  const json constraints = j.value("Constraints", json::array());  // alive for the loop
  if (constraints.is_array())
    for (const auto& c : constraints)
      if (c.is_object())
        v.constraints.push_back(
            {c.value("LTarget", ""), c.value("Operand", "="), c.value("RTarget", "")});
  v.create_time_ns = j.value("CreateTime", int64_t{0});
  v.modify_time_ns = j.value("ModifyTime", int64_t{0});
  return v;
}

// The plugin's answer: its stdout's JSON object (the last line that is one, should it log
// there too).
std::optional<json> plugin_json(const std::string& out) {
  json whole = json::parse(out, nullptr, false);
  if (whole.is_object()) return whole;
  std::size_t end = out.size();
  while (end > 0) {
    std::size_t start = out.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    json line = json::parse(out.substr(start, end - start), nullptr, false);
    if (line.is_object()) return line;
    if (start == 0) break;
    end = start - 1;
  }
  return std::nullopt;
}

// The mkdir plugin's parameters: mode (octal, default 0700), uid and gid (default: unchanged).
Result<std::tuple<mode_t, int, int>> mkdir_parameters(const std::map<std::string, std::string>& p) {
  mode_t mode = 0700;
  int uid = -1, gid = -1;
  for (const auto& [k, v] : p) {
    try {
      std::size_t used = 0;
      if (k == "mode") {
        unsigned long m = std::stoul(v, &used, 8);
        if (used != v.size() || m > 07777) throw std::invalid_argument(v);
        mode = static_cast<mode_t>(m);
      } else if (k == "uid" || k == "gid") {
        int n = std::stoi(v, &used);
        if (used != v.size() || n < 0) throw std::invalid_argument(v);
        (k == "uid" ? uid : gid) = n;
      } else {
        return make_error("Volume.Parameters." + k + ": not a parameter of the mkdir plugin "
                          "(mode, uid, gid)", Errc::Invalid);
      }
    } catch (const std::exception&) {
      return make_error("Volume.Parameters." + k + ": \"" + v + "\" is not " +
                            (k == "mode" ? "an octal mode (0755)" : "a number"),
                        Errc::Invalid);
    }
  }
  return std::make_tuple(mode, uid, gid);
}

// The external plugin's command for `op` on `v`, with Nomad's environment (and a PATH, nothing
// of the agent's own) and a minute to run.
proc::BoundedCommand plugin_command(const DynamicHostVolumes::Options& opts,
                                    const DynamicHostVolume& v, const std::string& op) {
  json params = json::object();
  for (const auto& [k, val] : v.parameters) params[k] = val;
  proc::BoundedCommand cmd;
  cmd.exe = opts.plugin_dir / v.plugin_id;
  cmd.args = {op};
  cmd.env = {{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
             {"DHV_OPERATION", op},
             {"DHV_VOLUMES_DIR", opts.volumes_dir.string()},
             {"DHV_PLUGIN_DIR", opts.plugin_dir.string()},
             {"DHV_NODE_ID", opts.node_id},
             {"DHV_NODE_POOL", opts.node_pool},
             {"DHV_NAMESPACE", v.ns},
             {"DHV_VOLUME_NAME", v.name},
             {"DHV_VOLUME_ID", v.id},
             {"DHV_PARAMETERS", json_text(params)}};
  cmd.deadline = std::chrono::steady_clock::now() + kPluginTimeout;
  return cmd;
}

}  // namespace

json to_json(const DynamicHostVolume& v, const std::string& node_id, const std::string& node_pool) {
  json params = json::object();
  for (const auto& [k, val] : v.parameters) params[k] = val;
  json constraints = json::array();
  for (const auto& c : v.constraints)
    constraints.push_back({{"LTarget", c.attribute}, {"Operand", c.op}, {"RTarget", c.value}});
  return {{"ID", v.id},
          {"Name", v.name},
          {"Namespace", v.ns},
          {"PluginID", v.plugin_id},
          {"NodeID", node_id},
          {"NodePool", node_pool},
          {"HostPath", v.host_path},
          {"State", "ready"},
          {"CapacityBytes", v.capacity_bytes},
          {"RequestedCapacityMinBytes", v.capacity_min_bytes},
          {"RequestedCapacityMaxBytes", v.capacity_max_bytes},
          {"RequestedCapabilities", capabilities_to_json(v.capabilities)},
          {"Constraints", constraints},
          {"Parameters", params},
          {"CreateTime", v.create_time_ns},
          {"ModifyTime", v.modify_time_ns}};
}

Result<std::vector<jobspec::Constraint>> volume_constraints(const json& list) {
  std::vector<jobspec::Constraint> out;
  if (list.is_null()) return out;
  if (!list.is_array())
    return make_error("Volume.Constraints: must be a list of {LTarget, Operand, RTarget}",
                      Errc::Invalid);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string f = "Volume.Constraints[" + std::to_string(i) + "]";
    const json& c = list[i];
    if (!c.is_object()) return make_error(f + ": must be an object", Errc::Invalid);
    for (const char* k : {"LTarget", "Operand", "RTarget"})
      if (c.contains(k) && !c[k].is_null() && !c[k].is_string())
        return make_error(f + "." + k + ": must be a string", Errc::Invalid);
    // Absent or null: "" (an Operand: "=", Nomad's default).
    auto text = [&c](const char* k) {
      auto it = c.find(k);
      return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    jobspec::Constraint con{text("LTarget"), text("Operand"), text("RTarget")};
    if (con.op.empty()) con.op = "=";
    if (!jobspec::known_constraint_operator(con.op))
      return make_error(f + ".Operand: \"" + con.op + "\" is not a constraint operator",
                        Errc::Invalid);
    if (con.op == "distinct_hosts" || con.op == "distinct_property")
      return make_error(f + ".Operand: " + con.op + " counts allocs; a volume has none",
                        Errc::Invalid);
    if (con.attribute.empty()) return make_error(f + ".LTarget: is required", Errc::Invalid);
    if (auto why = jobspec::constraint_value_problem(con.op, con.value))
      return make_error(f + ".RTarget: " + *why, Errc::Invalid);
    out.push_back(std::move(con));
  }
  return out;
}

Result<DynamicHostVolume> volume_from_request(const json& body, bool registering) {
  if (!body.is_object() || !body.contains("Volume") || !body["Volume"].is_object())
    return make_error("the body must be {\"Volume\": {...}}", Errc::Invalid);
  const json& j = body["Volume"];
  auto bad = [](const std::string& field, const std::string& why) {
    return make_error("Volume." + field + ": " + why, Errc::Invalid);
  };
  for (const char* k : {"Name", "Namespace", "PluginID", "HostPath", "ID", "NodeID", "NodePool"})
    if (j.contains(k) && !j[k].is_null() && !j[k].is_string()) return bad(k, "must be a string");
  for (const char* k : {"RequestedCapacityMinBytes", "RequestedCapacityMaxBytes", "CapacityBytes"})
    if (j.contains(k) && !j[k].is_null() && !j[k].is_number_integer())
      return bad(k, "must be a whole number of bytes");
  if (j.contains("Parameters") && !j["Parameters"].is_null()) {
    if (!j["Parameters"].is_object()) return bad("Parameters", "must be an object of strings");
    for (const auto& [k, v] : j["Parameters"].items())
      if (!v.is_string()) return bad("Parameters." + k, "must be a string");
  }
  auto constraints = volume_constraints(j.value("Constraints", json()));
  if (!constraints) return constraints.error();
  DynamicHostVolume v = from_json(j);
  v.constraints = std::move(constraints.value());
  if (v.ns.empty()) v.ns = "default";
  if (auto why = plain_name_problem(v.name)) return bad("Name", *why);
  if (registering) {
    if (v.host_path.empty() || v.host_path[0] != '/')
      return bad("HostPath", "an absolute path is required to register a volume");
    if (!v.plugin_id.empty()) return bad("PluginID", "a registered volume has no plugin");
  } else {
    if (!v.host_path.empty()) return bad("HostPath", "is the plugin's to choose (register a "
                                                     "directory that exists instead)");
    if (v.plugin_id.empty()) v.plugin_id = "mkdir";
    if (auto why = plain_name_problem(v.plugin_id)) return bad("PluginID", *why);
  }
  if (v.capacity_min_bytes < 0 || v.capacity_max_bytes < 0)
    return bad("RequestedCapacityMinBytes", "must not be negative");
  if (v.capacity_max_bytes > 0 && v.capacity_max_bytes < v.capacity_min_bytes)
    return bad("RequestedCapacityMaxBytes", "must not be less than the minimum");
  if (v.capabilities.empty()) v.capabilities.emplace_back("single-node-writer", "file-system");
  for (std::size_t i = 0; i < v.capabilities.size(); ++i) {
    const auto& [access, attachment] = v.capabilities[i];
    const std::string f = "RequestedCapabilities[" + std::to_string(i) + "]";
    if (!jobspec::host_volume_access_mode(access))
      return bad(f + ".AccessMode", "must be single-node-reader-only, single-node-writer, "
                                    "single-node-single-writer or single-node-multi-writer");
    if (attachment != "file-system" && attachment != "block-device")
      return bad(f + ".AttachmentMode", "must be file-system or block-device");
  }
  return v;
}

DynamicHostVolumes::DynamicHostVolumes(Options opts, HostVolumes configured,
                                       state::StateStore* store)
    : opts_(std::move(opts)), configured_(std::move(configured)), store_(store) {}

Status DynamicHostVolumes::load() {
  auto kept = store_->meta_with_prefix(kMetaPrefix);
  if (!kept) return make_error(kept.message());
  std::lock_guard lock(mu_);
  for (const auto& [key, text] : kept.value()) {
    json j = json::parse(text, nullptr, false);
    if (!j.is_object()) return make_error("state store meta key " + key + ": not a JSON object");
    auto v = from_json(j);
    by_id_[v.id] = std::move(v);
  }
  ++generation_;
  return {};
}

Status DynamicHostVolumes::keep_locked(const DynamicHostVolume& v) {
  json j = to_json(v, opts_.node_id, opts_.node_pool);
  if (auto st = store_->put_meta(kMetaPrefix + v.id, json_text(j)); !st) return st;
  by_id_[v.id] = v;
  ++generation_;
  return {};
}

Result<std::pair<std::string, int64_t>> DynamicHostVolumes::run_create(
    const DynamicHostVolume& v) const {
  if (v.plugin_id == "mkdir") {
    auto params = mkdir_parameters(v.parameters);
    if (!params) return make_error(params.message(), Errc::Invalid);
    const auto [mode, uid, gid] = params.value();
    std::error_code ec;
    std::filesystem::create_directories(opts_.volumes_dir, ec);
    const std::string path = (opts_.volumes_dir / v.id).string();
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
      return make_error("mkdir " + path + ": " + std::strerror(errno));
    // mkdir's mode passes through the umask: set it as asked.
    if (::chmod(path.c_str(), mode) != 0 || ((uid >= 0 || gid >= 0) && ::chown(path.c_str(), uid, gid) != 0))
      return make_error(path + ": " + std::strerror(errno));
    return std::make_pair(path, int64_t{0});
  }
  const auto exe = opts_.plugin_dir / v.plugin_id;
  if (::access(exe.c_str(), X_OK) != 0)
    return make_error("Volume.PluginID: no plugin \"" + v.plugin_id + "\" (mkdir, or an executable in " +
                          opts_.plugin_dir.string() + ")",
                      Errc::Invalid);
  proc::BoundedCommand cmd = plugin_command(opts_, v, "create");
  cmd.env["DHV_CAPACITY_MIN_BYTES"] = std::to_string(v.capacity_min_bytes);
  cmd.env["DHV_CAPACITY_MAX_BYTES"] = std::to_string(v.capacity_max_bytes);
  cmd.max_output = 64 * 1024;
  auto run = proc::run_bounded(cmd);
  if (!run) return make_error("plugin " + v.plugin_id + ": " + run.message());
  if (run->timed_out) return make_error("plugin " + v.plugin_id + ": create ran past 1m");
  auto answer = plugin_json(run->output);
  if (run->exit_code != 0)
    return make_error("plugin " + v.plugin_id + ": create exited " +
                      std::to_string(run->exit_code) + ": " +
                      (answer && answer->contains("error") ? answer->value("error", "")
                                                           : run->output.substr(0, 512)));
  if (!answer || !answer->contains("path") || !(*answer)["path"].is_string() ||
      (*answer)["path"].get<std::string>().empty() || (*answer)["path"].get<std::string>()[0] != '/')
    return make_error("plugin " + v.plugin_id +
                      ": create printed no {\"path\": \"/absolute\"} JSON: " +
                      run->output.substr(0, 512));
  const json bytes = answer->value("bytes", json(0));
  return std::make_pair((*answer)["path"].get<std::string>(),
                        bytes.is_number_integer() ? bytes.get<int64_t>() : int64_t{0});
}

Status DynamicHostVolumes::run_delete(const DynamicHostVolume& v) const {
  if (v.plugin_id.empty()) return {};  // registered: the directory is the operator's
  if (v.plugin_id == "mkdir") {
    std::error_code ec;
    std::filesystem::remove_all(opts_.volumes_dir / v.id, ec);
    if (ec) return make_error("removing " + (opts_.volumes_dir / v.id).string() + ": " + ec.message());
    return {};
  }
  proc::BoundedCommand cmd = plugin_command(opts_, v, "delete");
  cmd.env["DHV_CREATED_PATH"] = v.host_path;
  auto run = proc::run_bounded(cmd);
  if (!run) return make_error("plugin " + v.plugin_id + ": " + run.message());
  if (run->timed_out || run->exit_code != 0)
    return make_error("plugin " + v.plugin_id + ": delete failed: " + run->output.substr(0, 512));
  return {};
}

Result<DynamicHostVolume> DynamicHostVolumes::create(DynamicHostVolume v) {
  {
    std::lock_guard lock(mu_);
    if (configured_.count(v.name))
      return make_error("Volume.Name: \"" + v.name + "\" is a host_volume of the agent config",
                        Errc::Conflict);
    for (const auto& [id, have] : by_id_)
      if (have.name == v.name) {
        if (have.plugin_id != v.plugin_id)
          return make_error("Volume.Name: volume \"" + v.name + "\" exists with plugin \"" +
                                (have.plugin_id.empty() ? "none (registered)" : have.plugin_id) + "\"",
                            Errc::Conflict);
        return have;  // Nomad's create by a name that exists updates it; here it is the same
      }
  }
  if (v.id.empty()) v.id = random_uuid();
  else if (auto why = plain_name_problem(v.id)) return make_error("Volume.ID: " + *why, Errc::Invalid);
  // The plugin runs without the lock: admission and task starts read the volumes meanwhile.
  auto made = run_create(v);
  if (!made) return make_error(made.message(), made.code());
  v.host_path = made->first;
  v.capacity_bytes = made->second;
  v.create_time_ns = v.modify_time_ns = state::now_ns();
  std::lock_guard lock(mu_);
  for (const auto& [id, have] : by_id_)
    if (have.name == v.name) {
      (void)run_delete(v);
      return make_error("Volume.Name: volume \"" + v.name + "\" was made meanwhile", Errc::Conflict);
    }
  if (auto st = keep_locked(v); !st) return make_error(st.message());
  spdlog::info("host volume {} ({}) created by plugin {} at {}", v.name, v.id, v.plugin_id, v.host_path);
  return v;
}

Result<DynamicHostVolume> DynamicHostVolumes::register_existing(DynamicHostVolume v) {
  struct stat st {};
  if (::stat(v.host_path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error("Volume.HostPath: " + v.host_path + ": not a directory on this node",
                      Errc::Invalid);
  std::lock_guard lock(mu_);
  if (configured_.count(v.name))
    return make_error("Volume.Name: \"" + v.name + "\" is a host_volume of the agent config",
                      Errc::Conflict);
  for (const auto& [id, have] : by_id_)
    if (have.name == v.name && have.id != v.id)
      return make_error("Volume.Name: volume \"" + v.name + "\" exists (" + id + ")", Errc::Conflict);
  if (v.id.empty()) v.id = random_uuid();
  else if (auto why = plain_name_problem(v.id)) return make_error("Volume.ID: " + *why, Errc::Invalid);
  v.plugin_id.clear();
  v.create_time_ns = v.modify_time_ns = state::now_ns();
  if (auto s = keep_locked(v); !s) return make_error(s.message());
  spdlog::info("host volume {} ({}) registered at {}", v.name, v.id, v.host_path);
  return v;
}

Status DynamicHostVolumes::remove(const std::string& id) {
  DynamicHostVolume v;
  {
    std::lock_guard lock(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return make_error("host volume \"" + id + "\" not found", Errc::NotFound);
    v = it->second;
  }
  if (auto st = run_delete(v); !st) return st;
  std::lock_guard lock(mu_);
  if (auto st = store_->delete_meta(kMetaPrefix + id); !st) return st;
  by_id_.erase(id);
  ++generation_;
  spdlog::info("host volume {} ({}) deleted", v.name, id);
  return {};
}

std::vector<DynamicHostVolume> DynamicHostVolumes::list() const {
  std::lock_guard lock(mu_);
  std::vector<DynamicHostVolume> out;
  for (const auto& [id, v] : by_id_) out.push_back(v);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::optional<DynamicHostVolume> DynamicHostVolumes::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<DynamicHostVolume> DynamicHostVolumes::by_name(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, v] : by_id_)
    if (v.name == name) return v;
  return std::nullopt;
}

HostVolumes DynamicHostVolumes::merged() const {
  HostVolumes out = configured_;
  std::lock_guard lock(mu_);
  for (const auto& [id, v] : by_id_) {
    HostVolume hv;
    hv.path = v.host_path;
    hv.id = v.id;
    hv.ns = v.ns;
    hv.plugin_id = v.plugin_id;
    hv.capabilities = v.capabilities;
    // Offering reader-only access alone, the volume is mounted read-only.
    hv.read_only = std::all_of(v.capabilities.begin(), v.capabilities.end(),
                               [](const auto& c) { return c.first == "single-node-reader-only"; });
    out.emplace(v.name, std::move(hv));
  }
  return out;
}

uint64_t DynamicHostVolumes::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

}  // namespace drover::runner
