// DriverPlugin: the agent-side wrapper of one driver's C calls (drover/plugin.h). It owns the
// plugin's instance, frees every string the plugin hands out with the plugin's own
// free_string, and turns failures and malformed JSON into error values.
#include <unistd.h>

#include <utility>

#include "drover/loader/registry.hpp"
#include "drover/plugin.h"
#include "drover/common/json_text.hpp"
#include "drover/sdk/utf8.hpp"
#include "out_strings.hpp"

namespace drover::plugins {
namespace {

std::string prefixed(const DriverPlugin& p, const char* call, const std::string& what) {
  return "driver " + p.name() + ": " + call + ": " + what;
}

// The error of a DROVER_ERROR (or of an unknown status) as a value naming the call.
drover::Error call_error(const DriverPlugin& p, const char* call, drover_status st,
                         const OutStrings& s) {
  return drover::make_error(prefixed(p, call, call_failure(st, s)));
}

drover::Result<nlohmann::json> parse_out(const DriverPlugin& p, const char* call,
                                         const OutStrings& s) {
  if (s.out == nullptr) return drover::make_error(prefixed(p, call, "returned no JSON"));
  auto j = nlohmann::json::parse(s.out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return drover::make_error(prefixed(p, call, "returned invalid JSON"));
  return j;
}

int int_or(const nlohmann::json& j, const char* key, int fallback) {
  auto it = j.find(key);
  return (it != j.end() && it->is_number_integer()) ? it->get<int>() : fallback;
}
bool bool_or(const nlohmann::json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return (it != j.end() && it->is_boolean()) ? it->get<bool>() : fallback;
}
std::string string_or(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

// Job files may carry invalid UTF-8; dump() would throw on it, so it is replaced instead.
std::string to_text(const nlohmann::json& j) {
  return drover::json_text(j);
}

// One C call that takes `in` as JSON text and answers only a status: `call(text, &error)`.
template <typename Call>
drover::Status status_call(const DriverPlugin& p, const drover_plugin* plugin, const char* what,
                           const nlohmann::json& in, Call call) {
  OutStrings s(plugin);
  const std::string text = to_text(in);
  drover_status st = call(text.c_str(), &s.error);
  if (st != DROVER_OK) return call_error(p, what, st, s);
  return {};
}

// One C call that takes `in` as JSON text and answers JSON: `call(text, &out, &error)`.
template <typename Call>
drover::Result<nlohmann::json> json_call(const DriverPlugin& p, const drover_plugin* plugin,
                                         const char* what, const nlohmann::json& in, Call call) {
  OutStrings s(plugin);
  const std::string text = to_text(in);
  drover_status st = call(text.c_str(), &s.out, &s.error);
  if (st != DROVER_OK) return call_error(p, what, st, s);
  return parse_out(p, what, s);
}

}  // namespace

DriverPlugin::DriverPlugin(PluginInfo info, const drover_plugin* plugin, void* instance)
    : info_(std::move(info)), plugin_(plugin), instance_(instance) {}

DriverPlugin::~DriverPlugin() { plugin_->fini(instance_); }

const std::string& DriverPlugin::name() const { return info_.name; }
const PluginInfo& DriverPlugin::info() const { return info_; }

drover::Status DriverPlugin::set_config(const nlohmann::json& config) {
  return status_call(*this, plugin_, "set_config",
                     config.is_object() ? config : nlohmann::json::object(),
                     [this](const char* text, char** error) {
                       return plugin_->driver->set_config(instance_, text, error);
                     });
}

nlohmann::json DriverPlugin::fingerprint() {
  auto undetected = [](std::string why) {
    return nlohmann::json{{"Detected", false},
                          {"Healthy", false},
                          {"HealthDescription", std::move(why)},
                          {"Attributes", nlohmann::json::object()}};
  };
  OutStrings s(plugin_);
  drover_status st = plugin_->driver->fingerprint(instance_, &s.out, &s.error);
  if (st != DROVER_OK) return undetected(call_error(*this, "fingerprint", st, s).message);
  auto j = parse_out(*this, "fingerprint", s);
  if (!j.ok()) return undetected(j.message());
  if (!j->is_object()) return undetected(prefixed(*this, "fingerprint", "not a JSON object"));
  // Fill what a sloppy plugin left out so that callers can read every key.
  nlohmann::json& fp = *j;
  if (!fp.contains("Detected") || !fp["Detected"].is_boolean()) fp["Detected"] = false;
  if (!fp.contains("Healthy") || !fp["Healthy"].is_boolean()) fp["Healthy"] = false;
  if (!fp.contains("HealthDescription") || !fp["HealthDescription"].is_string())
    fp["HealthDescription"] = "";
  if (!fp.contains("Attributes") || !fp["Attributes"].is_object())
    fp["Attributes"] = nlohmann::json::object();
  if (!fp.contains("Capabilities") || !fp["Capabilities"].is_object())
    fp["Capabilities"] = nlohmann::json::object();
  auto& caps = fp["Capabilities"];
  if (!caps.contains("FSIsolation") || !caps["FSIsolation"].is_string()) caps["FSIsolation"] = "none";
  if (!caps.contains("DefaultUser") || !caps["DefaultUser"].is_string()) caps["DefaultUser"] = "";
  {
    std::lock_guard lock(caps_mu_);
    capabilities_ = caps;
  }
  return std::move(fp);
}

nlohmann::json DriverPlugin::capabilities() {
  {
    std::lock_guard lock(caps_mu_);
    if (capabilities_) return *capabilities_;
  }
  return fingerprint()["Capabilities"];
}

bool DriverPlugin::isolates_filesystem() {
  auto iso = capabilities().value("FSIsolation", "none");
  return iso == "chroot" || iso == "image";
}

std::string DriverPlugin::default_user() { return capabilities().value("DefaultUser", ""); }

std::vector<std::string> DriverPlugin::validate(const nlohmann::json& task_config) {
  OutStrings s(plugin_);
  const std::string text = to_text(task_config);
  drover_status st = plugin_->driver->validate(instance_, text.c_str(), &s.out, &s.error);
  if (st != DROVER_OK) return {call_error(*this, "validate", st, s).message};
  auto j = parse_out(*this, "validate", s);
  if (!j.ok()) return {j.message()};
  if (!j->is_array()) return {prefixed(*this, "validate", "did not return an array")};
  std::vector<std::string> problems;
  for (const auto& p : *j) problems.push_back(p.is_string() ? p.get<std::string>() : to_text(p));
  return problems;
}

drover::Result<nlohmann::json> DriverPlugin::start(const nlohmann::json& task) {
  return json_call(*this, plugin_, "start", task,
                   [this](const char* text, char** out, char** error) {
                     return plugin_->driver->start(instance_, text, out, error);
                   });
}

drover::Result<std::optional<ExitResult>> DriverPlugin::wait(const nlohmann::json& handle,
                                                             std::chrono::milliseconds timeout) {
  OutStrings s(plugin_);
  const std::string text = to_text(handle);
  const int64_t ms = timeout.count() < 0 ? 0 : static_cast<int64_t>(timeout.count());
  drover_status st = plugin_->driver->wait(instance_, text.c_str(), ms, &s.out, &s.error);
  if (st == DROVER_STILL_RUNNING) return std::optional<ExitResult>{};
  if (st != DROVER_OK) return call_error(*this, "wait", st, s);
  auto j = parse_out(*this, "wait", s);
  if (!j.ok()) return j.error();
  if (!j->is_object()) return drover::make_error(prefixed(*this, "wait", "not a JSON object"));
  ExitResult r;
  r.exit_code = int_or(*j, "ExitCode", -1);
  r.signal = int_or(*j, "Signal", 0);
  r.oom_killed = bool_or(*j, "OOMKilled", false);
  r.err = string_or(*j, "Err");
  return std::optional<ExitResult>(std::move(r));
}

drover::Status DriverPlugin::stop(const nlohmann::json& handle, const std::string& signal,
                                  std::chrono::milliseconds timeout) {
  const int64_t ms = timeout.count() < 0 ? 0 : static_cast<int64_t>(timeout.count());
  return status_call(*this, plugin_, "stop", handle, [&](const char* text, char** error) {
    return plugin_->driver->stop(instance_, text, signal.c_str(), ms, error);
  });
}

drover::Status DriverPlugin::destroy(const nlohmann::json& handle) {
  return status_call(*this, plugin_, "destroy", handle, [this](const char* text, char** error) {
    return plugin_->driver->destroy(instance_, text, error);
  });
}

drover::Result<nlohmann::json> DriverPlugin::inspect(const nlohmann::json& handle) {
  return json_call(*this, plugin_, "inspect", handle,
                   [this](const char* text, char** out, char** error) {
                     return plugin_->driver->inspect(instance_, text, out, error);
                   });
}

drover::Status DriverPlugin::signal(const nlohmann::json& handle, const std::string& signal) {
  return status_call(*this, plugin_, "signal", handle, [&](const char* text, char** error) {
    return plugin_->driver->signal(instance_, text, signal.c_str(), error);
  });
}

drover::Result<nlohmann::json> DriverPlugin::stats(const nlohmann::json& handle) {
  return json_call(*this, plugin_, "stats", handle,
                   [this](const char* text, char** out, char** error) {
                     return plugin_->driver->stats(instance_, text, out, error);
                   });
}

drover::Result<nlohmann::json> DriverPlugin::recover(const nlohmann::json& handle) {
  OutStrings s(plugin_);
  const std::string text = to_text(handle);
  drover_status st = plugin_->driver->recover(instance_, text.c_str(), &s.out, &s.error);
  if (st == DROVER_NEVER_STARTED)
    return drover::make_error(prefixed(*this, "recover", s.error ? drover::sdk::utf8_scrub(s.error) : "never started"),
                              drover::Errc::NeverStarted);
  if (st != DROVER_OK) return call_error(*this, "recover", st, s);
  return parse_out(*this, "recover", s);
}

drover::Result<int> DriverPlugin::wait_fd(const nlohmann::json& handle) {
  if (wait_fd_ == nullptr) return -1;
  OutStrings s(plugin_);
  const std::string text = to_text(handle);
  int fd = -1;
  drover_status st = wait_fd_(instance_, text.c_str(), &fd, &s.error);
  if (st != DROVER_OK) {
    if (fd >= 0) close(fd);
    return call_error(*this, "wait_fd", st, s);
  }
  return fd;
}

drover::Result<nlohmann::json> DriverPlugin::exec_task(const nlohmann::json& handle,
                                                       const std::vector<std::string>& argv,
                                                       std::chrono::milliseconds timeout) {
  if (exec_ == nullptr) return drover::make_error(prefixed(*this, "exec", "not supported by this driver"));
  if (argv.empty()) return drover::make_error(prefixed(*this, "exec", "no command"));
  OutStrings s(plugin_);
  const std::string h = to_text(handle), a = to_text(nlohmann::json(argv));
  drover_status st = exec_(instance_, h.c_str(), a.c_str(), timeout.count(), &s.out, &s.error);
  if (st != DROVER_OK) return call_error(*this, "exec", st, s);
  auto j = parse_out(*this, "exec", s);
  if (!j) return j;
  if (!j->is_object() || !(*j)["ExitCode"].is_number_integer())
    return drover::make_error(prefixed(*this, "exec", "returned no ExitCode"));
  return j;
}

drover::Status DriverPlugin::reap(const std::vector<std::string>& known_alloc_ids,
                                  const std::string& alloc_dir_root) {
  if (reap_ == nullptr)
    return drover::make_error(prefixed(*this, "reap", "not supported by this driver"));
  return status_call(
      *this, plugin_, "reap", {{"AllocIDs", known_alloc_ids}, {"AllocDirRoot", alloc_dir_root}},
      [this](const char* known, char** error) { return reap_(instance_, known, error); });
}

bool DriverPlugin::initiates_network() {
  if (create_network_ == nullptr || destroy_network_ == nullptr) return false;
  auto caps = capabilities();
  return caps.is_object() && caps.value("MustInitiateNetwork", false) == true;
}

drover::Result<nlohmann::json> DriverPlugin::create_network(const std::string& alloc_id,
                                                            const std::string& alloc_dir,
                                                            const std::string& mode,
                                                            const nlohmann::json& dns,
                                                            const std::string& hostname) {
  if (create_network_ == nullptr || destroy_network_ == nullptr)
    return drover::make_error(prefixed(*this, "create_network", "not supported by this driver"));
  nlohmann::json request = {{"AllocID", alloc_id}, {"AllocDir", alloc_dir}, {"Mode", mode}};
  if (dns.is_object()) request["DNS"] = dns;
  if (!hostname.empty()) request["Hostname"] = hostname;
  auto j = json_call(*this, plugin_, "create_network", request,
                     [this](const char* request, char** out, char** error) {
                       return create_network_(instance_, request, out, error);
                     });
  if (!j) return j;
  if (!j->is_object() || string_or(*j, "Path").empty())
    return drover::make_error(prefixed(*this, "create_network", "returned no Path"));
  nlohmann::json labels = nlohmann::json::object();
  if (j->contains("Labels") && (*j)["Labels"].is_object())
    for (const auto& [k, v] : (*j)["Labels"].items())
      if (v.is_string()) labels[k] = v;
  return nlohmann::json{
      {"Path", string_or(*j, "Path")}, {"Labels", labels}, {"Created", bool_or(*j, "Created", true)}};
}

drover::Status DriverPlugin::destroy_network(const std::string& alloc_id,
                                             const nlohmann::json& labels) {
  if (destroy_network_ == nullptr)
    return drover::make_error(prefixed(*this, "destroy_network", "not supported by this driver"));
  return status_call(
      *this, plugin_, "destroy_network",
      {{"AllocID", alloc_id}, {"Labels", labels.is_object() ? labels : nlohmann::json::object()}},
      [this](const char* spec, char** error) { return destroy_network_(instance_, spec, error); });
}

drover::Status DriverPlugin::set_event_sink(drover_driver_set_event_sink_v1_fn fn,
                                            drover_event_sink_fn sink, void* ctx) {
  OutStrings s(plugin_);
  drover_status st = fn(instance_, sink, ctx, &s.error);
  if (st != DROVER_OK) return call_error(*this, "set_event_sink", st, s);
  return {};
}

}  // namespace drover::plugins
