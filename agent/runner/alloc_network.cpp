// The alloc network (alloc_network.hpp): a namespace made by unshare in a short-lived thread and
// kept by a bind mount, and the CNI plugins run on it as the CNI spec says (CNI_COMMAND,
// CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH, CNI_ARGS in the env, the plugin's config on
// stdin, its result on stdout), in conflist order for ADD and in reverse for DEL.
#include "runner/alloc_network.hpp"

#include <fcntl.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "drover/loader/registry.hpp"
#include "proc/bounded_command.hpp"

namespace drover::runner {
namespace {

namespace fs = std::filesystem;

fs::path netns_path(const std::string& alloc_id) { return fs::path(kNetnsDir) / alloc_id; }
fs::path record_path(const std::string& alloc_id) {
  return fs::path(kNetnsDir) / (alloc_id + ".json");
}

// What every plugin call of one alloc's chain is given besides its config.
struct ChainCall {
  std::string alloc_id;
  std::string netns;
  const CniSettings& cni;
  std::string args;  // CNI_ARGS
};

// One plugin call, bounded by cni.call_timeout (a plugin that hangs, a dhcp plugin without its
// daemon, is killed with what it started, and the alloc fails saying so). The result JSON on
// success; the plugin's error (its JSON msg, else stderr) otherwise.
Result<nlohmann::json> run_plugin(const std::string& command, const ChainCall& call,
                                  const nlohmann::json& conf) {
  const std::string type = conf.value("type", "");
  const std::string exe = call.cni.find_plugin(type);
  if (exe.empty())
    return make_error("CNI plugin \"" + type + "\" is not installed (looked in " +
                          call.cni.path_env() + ")",
                      Errc::Unsupported);
  proc::BoundedCommand cmd;
  cmd.exe = exe;
  cmd.env = {{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
             {"CNI_COMMAND", command},
             {"CNI_CONTAINERID", call.alloc_id},
             {"CNI_NETNS", call.netns},
             {"CNI_IFNAME", type == "loopback" ? "lo" : kAllocIfname},
             {"CNI_PATH", call.cni.path_env()}};
  if (!call.args.empty()) cmd.env["CNI_ARGS"] = call.args;
  cmd.input = conf.dump();
  cmd.separate_stderr = true;
  cmd.max_output = 1 << 20;  // a result names interfaces and addresses: far less than this
  cmd.deadline = std::chrono::steady_clock::now() + call.cni.call_timeout;
  auto run = proc::run_bounded(cmd);
  if (!run) return make_error("CNI plugin " + type + ": " + run.message());
  if (run->timed_out)
    return make_error("CNI " + command + " " + type + ": no answer in " +
                      std::to_string(call.cni.call_timeout.count()) + "s; killed");
  const int rc = run->exit_code;
  const std::string& se = run->error_output;
  nlohmann::json result = nlohmann::json::parse(run->output, nullptr, false);
  if (rc != 0) {
    std::string why =
        result.is_object() && result.contains("msg") ? result.value("msg", "") : se;
    if (result.is_object() && result.contains("details"))
      why += " (" + result.value("details", "") + ")";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return make_error("CNI " + command + " " + type + ": " +
                      (why.empty() ? "exit " + std::to_string(rc) : why));
  }
  if (command != "ADD") return nlohmann::json();
  if (!result.is_object())
    return make_error("CNI ADD " + type + ": its output is not a JSON result");
  return result;
}

// The stdin of one plugin of the list: its own config with the list's name and version, the
// previous result and, for plugins that ask for it, the port mappings.
nlohmann::json plugin_conf(const nlohmann::json& list, nlohmann::json plugin,
                           const nlohmann::json& prev, const nlohmann::json& mappings) {
  if (list.contains("cniVersion")) plugin["cniVersion"] = list["cniVersion"];
  plugin["name"] = list["name"];
  if (!prev.is_null()) plugin["prevResult"] = prev;
  if (plugin.contains("capabilities") && plugin["capabilities"].value("portMappings", false))
    plugin["runtimeConfig"] = {{"portMappings", mappings}};
  return plugin;
}

// DEL of every plugin of the list, last first; keeps going past a failure and returns the first.
Status del_chain(const ChainCall& call, const nlohmann::json& list, const nlohmann::json& result,
                 const nlohmann::json& mappings) {
  Status first;
  const auto& plugins = list["plugins"];
  for (auto it = plugins.rbegin(); it != plugins.rend(); ++it) {
    auto r = run_plugin("DEL", call, plugin_conf(list, *it, result, mappings));
    if (!r.ok() && first.ok()) first = r.error();
  }
  return first;
}

// The namespace named by `source` bound at `path`, so that it outlives whatever holds it now.
// `source` empty: a new namespace, made by unshare in a thread of its own (the namespace is
// the thread's alone, so the agent's other threads stay on the host's network), bound from
// /proc/self/task/<tid>/ns/net before the thread ends.
Status bind_netns(const fs::path& path, const std::string& source) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return make_error("creating " + path.parent_path().string() + ": " + ec.message());
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) return make_error("creating " + path.string() + ": " + std::strerror(errno));
  ::close(fd);
  std::string error;
  auto bind = [&](const std::string& from) {
    if (::mount(from.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0)
      error = "bind-mounting " + from + " on " + path.string() + ": " + std::strerror(errno);
  };
  if (!source.empty()) {
    bind(source);
  } else {
    std::thread([&] {
      if (::unshare(CLONE_NEWNET) != 0) {
        error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
        return;
      }
      bind("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/ns/net");
    }).join();
  }
  if (!error.empty()) {
    fs::remove(path, ec);
    return make_error("network namespace " + path.string() + ": " + error);
  }
  return {};
}

void remove_netns(const fs::path& path) {
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    spdlog::warn("unmounting {}: {}", path.string(), std::strerror(errno));
  std::error_code ec;
  fs::remove(path, ec);
}

bool is_mounted_netns(const fs::path& path) {
  // A bind-mounted namespace file is on nsfs; the bare file we create is on tmpfs.
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  const std::string needle = " " + path.string() + " ";
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) return true;
  return false;
}

Status write_record(const std::string& alloc_id, const nlohmann::json& record) {
  const fs::path tmp = record_path(alloc_id).string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << record.dump();
    if (!out) return make_error("writing " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, record_path(alloc_id), ec);
  if (ec) return make_error("writing " + record_path(alloc_id).string() + ": " + ec.message());
  return {};
}

nlohmann::json read_record(const std::string& alloc_id) {
  std::ifstream in(record_path(alloc_id));
  if (!in) return nullptr;
  return nlohmann::json::parse(in, nullptr, false);
}

}  // namespace

std::string cni_args_env(const std::map<std::string, std::string>& args) {
  // Nomad's: unknown keys are no plugin's error; the job's own keys after it, overriding it.
  std::map<std::string, std::string> all = {{"IgnoreUnknown", "true"}};
  for (const auto& [k, v] : args) all[k] = v;
  std::string out;
  for (const auto& [k, v] : all) out += (out.empty() ? "" : ";") + k + "=" + v;
  return out;
}

nlohmann::json cni_conflist(const std::string& mode) {
  nlohmann::json list = {
      {"cniVersion", "0.4.0"}, {"name", kBridgeName}, {"plugins", nlohmann::json::array()}};
  list["plugins"].push_back({{"type", "loopback"}});
  if (mode != "bridge") {
    list["name"] = "none";
    return list;
  }
  // Nomad's bridge conflist: the gateway on the `nomad` bridge, masquerade out, and the
  // firewall plugin's admin chain named as Nomad names it.
  list["plugins"].push_back(
      {{"type", "bridge"},
       {"bridge", kBridgeName},
       {"ipMasq", true},
       {"isGateway", true},
       {"forceAddress", true},
       {"hairpinMode", false},
       {"ipam",
        {{"type", "host-local"},
         {"ranges", nlohmann::json::array({nlohmann::json::array({{{"subnet", kBridgeSubnet}}})})},
         {"routes", nlohmann::json::array({{{"dst", "0.0.0.0/0"}}})}}}});
  list["plugins"].push_back(
      {{"type", "firewall"}, {"backend", "iptables"}, {"iptablesAdminChainName", "NOMAD-ADMIN"}});
  list["plugins"].push_back(
      {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}});
  return list;
}

Result<nlohmann::json> alloc_conflist(const std::string& mode, const CniSettings& cni) {
  if (!is_cni_mode(mode)) return cni_conflist(mode);
  auto net = find_cni_network(cni.config_dir, mode.substr(4));
  if (!net.ok()) return net.error();
  // Loopback first, as Nomad's go-cni does for every network (WithLoNetwork).
  nlohmann::json list = net->conflist;
  list["plugins"].insert(list["plugins"].begin(), nlohmann::json{{"type", "loopback"}});
  return list;
}

nlohmann::json cni_port_mappings(const std::vector<state::AllocatedPort>& ports) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : ports) {
    const int to = p.to > 0 ? p.to : p.value;
    for (const char* proto : {"tcp", "udp"}) {
      nlohmann::json m = {{"hostPort", p.value}, {"containerPort", to}, {"protocol", proto}};
      if (!p.host_ip.empty()) m["hostIP"] = p.host_ip;
      out.push_back(std::move(m));
    }
  }
  return out;
}

Result<std::string> cni_result_ip(const nlohmann::json& result) {
  if (!result.is_object()) return make_error("the CNI result is not a JSON object");
  // Results of spec 0.1.0 and 0.2.0: {"ip4": {"ip": "10.1.2.3/24"}}.
  if (!result.contains("ips") && result.contains("ip4") && result["ip4"].is_object() &&
      result["ip4"].contains("ip") && result["ip4"]["ip"].is_string()) {
    const std::string a = result["ip4"]["ip"];
    return a.substr(0, a.find('/'));
  }
  if (!result.contains("ips") || !result["ips"].is_array())
    return make_error("the CNI result has no \"ips\"");
  // The address of an interface inside the namespace (one with a "sandbox"), as Nomad takes
  // it; an address that names no interface counts as inside.
  auto in_sandbox = [&](const nlohmann::json& ip) {
    if (!ip.contains("interface") || !ip["interface"].is_number_unsigned()) return true;
    const auto i = ip["interface"].get<std::size_t>();
    const auto& ifs = result.value("interfaces", nlohmann::json::array());
    return !ifs.is_array() || i >= ifs.size() || !ifs[i].is_object() ||
           !ifs[i].value("sandbox", "").empty();
  };
  for (const bool inside : {true, false})
    for (const auto& ip : result["ips"]) {
      if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) continue;
      std::string a = ip["address"];
      if (a.find(':') != std::string::npos) continue;  // IPv4 first, as the ports use
      if (in_sandbox(ip) != inside) continue;
      return a.substr(0, a.find('/'));
    }
  return make_error("the CNI result has no IPv4 address in \"ips\"");
}

std::string network_host_problem(const std::string& mode, const CniSettings& cni) {
  auto list = alloc_conflist(mode, cni);
  if (!list.ok()) return list.message();
  std::vector<std::string> missing;
  for (const auto& p : (*list)["plugins"]) {
    const std::string type = p["type"];
    if (cni.find_plugin(type).empty() &&
        std::find(missing.begin(), missing.end(), type) == missing.end())
      missing.push_back(type);
  }
  std::string out;
  if (!missing.empty()) {
    out = "the CNI plugin";
    out += missing.size() > 1 ? "s " : " ";
    for (std::size_t i = 0; i < missing.size(); ++i) out += (i ? ", " : "") + missing[i];
    out += missing.size() > 1 ? " are" : " is";
    out += " not installed on this node (looked in " + cni.path_env() + ", cni_path" +
           (is_cni_mode(mode) ? "" : "; Debian's package containernetworking-plugins has them") +
           ")";
  }
  if (::geteuid() != 0)
    out += std::string(out.empty() ? "" : "; ") + "network mode \"" + mode +
           "\" needs the agent to run as root (it creates network namespaces)";
  return out;
}

Result<AllocNetworkStatus> AllocNetwork::setup(const std::string& alloc_id, const std::string& mode,
                                               const std::vector<state::AllocatedPort>& ports,
                                               const fs::path& data_dir, const NetworkMaker& maker,
                                               const CniSettings& cni,
                                               const std::map<std::string, std::string>& cni_args) {
  const fs::path ns = netns_path(alloc_id);
  auto loaded = alloc_conflist(mode, cni);
  if (!loaded.ok())
    return make_error("alloc network (mode " + mode + "): " + loaded.message(), loaded.code());
  const nlohmann::json list = std::move(*loaded);
  const nlohmann::json mappings = cni_port_mappings(ports);
  const ChainCall call{alloc_id, ns.string(), cni, cni_args_env(cni_args)};
  // The record goes first, so that an agent that dies halfway leaves what its next start
  // needs to remove the rest (the driver's part included). It keeps the list and the plugin
  // dirs as they were at ADD: DEL gets the same config, whatever the files say by then.
  nlohmann::json record = {{"DataDir", data_dir.string()},
                           {"Mode", mode},
                           {"Netns", ns.string()},
                           {"Conflist", list},
                           {"CniPath", cni.plugin_dirs},
                           {"CniArgs", call.args},
                           {"PortMappings", mappings},
                           {"Result", nullptr},
                           {"Driver", maker.driver ? maker.driver->name() : ""},
                           {"Labels", nlohmann::json::object()}};
  std::error_code ec;
  fs::create_directories(kNetnsDir, ec);
  if (auto st = write_record(alloc_id, record); !st) return st.error();
  nlohmann::json prev;
  bool wired = false;  // CNI ADD began: DEL of the whole chain undoes it
  // Whatever failed halfway: every plugin's DEL undoes its part (DEL of a plugin that never
  // ran is a no-op by the spec), then the namespace and the driver's holder go.
  auto undo = [&](const std::string& why, Errc code) -> Error {
    if (wired) (void)del_chain(call, list, prev, mappings);
    remove_netns(ns);
    if (maker.driver)
      if (auto st = maker.driver->destroy_network(alloc_id, record["Labels"]); !st)
        spdlog::warn("alloc {}: {}", alloc_id, st.message());
    std::error_code e;
    fs::remove(record_path(alloc_id), e);
    return make_error("alloc network (mode " + mode + "): " + why, code);
  };
  std::string source;  // empty: a namespace of the agent's own
  if (maker.driver) {
    auto made = maker.driver->create_network(alloc_id, maker.alloc_dir, mode, maker.dns, maker.hostname);
    if (!made.ok()) return undo(made.message(), made.code());
    record["Labels"] = (*made)["Labels"];
    source = (*made)["Path"].get<std::string>();
    if (auto st = write_record(alloc_id, record); !st) return undo(st.message(), Errc::Internal);
  }
  if (auto st = bind_netns(ns, source); !st) return undo(st.message(), st.code());
  wired = true;
  for (const auto& p : list["plugins"]) {
    auto r = run_plugin("ADD", call, plugin_conf(list, p, prev, mappings));
    if (!r.ok()) return undo(r.message(), r.code());
    // loopback's result describes lo alone: the chain's result is the next plugin's onward.
    if (p["type"] != "loopback") prev = std::move(*r);
  }
  AllocNetworkStatus out{ns.string(), "", {}};
  for (const auto& [k, v] : record["Labels"].items())
    if (v.is_string()) out.labels[k] = v.get<std::string>();
  if (mode != "none") {
    auto ip = cni_result_ip(prev);
    if (!ip.ok()) return undo(ip.message(), Errc::Internal);
    out.ip = *ip;
  }
  record["Result"] = prev;
  record["IP"] = out.ip;
  if (auto st = write_record(alloc_id, record); !st)
    spdlog::warn("alloc {}: {}", alloc_id, st.message());
  return out;
}

Result<AllocNetworkStatus> AllocNetwork::recover(const std::string& alloc_id) {
  auto record = read_record(alloc_id);
  const fs::path ns = netns_path(alloc_id);
  if (!record.is_object() || (record["Result"].is_null() && record.value("Mode", "") != "none") ||
      !is_mounted_netns(ns))
    return make_error("no network namespace recorded for alloc " + alloc_id, Errc::NotFound);
  AllocNetworkStatus out{ns.string(), record.value("IP", ""), {}};
  if (record.contains("Labels") && record["Labels"].is_object())
    for (const auto& [k, v] : record["Labels"].items())
      if (v.is_string()) out.labels[k] = v.get<std::string>();
  return out;
}

Status AllocNetwork::teardown(const std::string& alloc_id, plugins::PluginRegistry* plugins) {
  auto record = read_record(alloc_id);
  const fs::path ns = netns_path(alloc_id);
  Status st;
  if (record.is_object() && record.contains("Conflist")) {
    // The plugin dirs of the ADD (a record of an agent before them: the defaults).
    CniSettings cni;
    if (record.contains("CniPath") && record["CniPath"].is_array()) {
      cni.plugin_dirs.clear();
      for (const auto& d : record["CniPath"])
        if (d.is_string()) cni.plugin_dirs.push_back(d.get<std::string>());
    }
    const ChainCall call{alloc_id, is_mounted_netns(ns) ? ns.string() : "", cni,
                         record.value("CniArgs", "")};
    st = del_chain(call, record["Conflist"], record["Result"],
                   record.value("PortMappings", nlohmann::json::array()));
  }
  remove_netns(ns);
  // The driver's holder (a pause container) goes after DEL, which needed the namespace.
  const std::string driver = record.is_object() ? record.value("Driver", "") : "";
  if (!driver.empty()) {
    auto* d = plugins ? plugins->driver(driver) : nullptr;
    Status gone = d ? d->destroy_network(alloc_id, record.value("Labels", nlohmann::json::object()))
                    : Status(make_error("driver \"" + driver +
                                        "\", which made the namespace, is not loaded"));
    if (!gone) return make_error("removing what driver " + driver + " made for its network: " +
                                 gone.message());
  }
  std::error_code ec;
  fs::remove(record_path(alloc_id), ec);
  return st;
}

void AllocNetwork::remove_leftovers(const fs::path& data_dir, const std::set<std::string>& live,
                                    plugins::PluginRegistry* plugins) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kNetnsDir, ec)) {
    if (e.path().extension() != ".json") continue;
    const std::string alloc = e.path().stem().string();
    auto record = read_record(alloc);
    if (!record.is_object() || record.value("DataDir", "") != data_dir.string() ||
        live.count(alloc))
      continue;
    spdlog::info("alloc {}: removing the network namespace it left behind", alloc);
    if (auto st = teardown(alloc, plugins); !st) spdlog::warn("alloc {}: {}", alloc, st.message());
  }
}

}  // namespace drover::runner
