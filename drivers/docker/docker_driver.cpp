// docker: the driver's calls (see docker_driver.hpp) and its one registration line.
#include "docker_driver.hpp"

#include <filesystem>
#include <stdexcept>

#include "container_exec.hpp"
#include "drover/sdk/hostname.hpp"
#include "container_spec.hpp"
#include "host_caps.hpp"
#include "images.hpp"
#include "stats.hpp"
#include "task_config.hpp"

namespace drover::docker {
namespace {

using namespace std::chrono_literals;
constexpr auto kCall = 10s;       // an ordinary Engine API call
constexpr auto kKillGrace = 30s;  // how long a SIGKILLed container may take to die
constexpr auto kLogDrain = 2s;    // how long wait() lets the log follower catch up
constexpr auto kPoll = 100ms;
// The task event type of a pull's start, progress and end (the message tells which).
constexpr const char* kEventDownloadingImage = "Downloading Image";

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it == j.end() || !it->is_string()) ? std::string() : it->get<std::string>();
}

std::string handle_id(const nlohmann::json& h) {
  if (!h.is_object()) throw std::runtime_error("handle: must be a JSON object");
  std::string id = str(h, "ContainerID");
  if (id.empty() || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw std::runtime_error("handle.ContainerID: must be a container id");
  }
  return id;
}

std::string join(const std::vector<std::string>& v) {
  std::string all;
  for (const auto& p : v) all += (all.empty() ? "" : "; ") + p;
  return all;
}

// "sigterm", "TERM", "15" -> "SIGTERM"/"15" as docker's kill accepts.
std::string docker_signal(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (s.empty() ||
      s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+") != std::string::npos) {
    throw std::runtime_error("unknown signal \"" + s + "\"");
  }
  if (!std::isdigit(static_cast<unsigned char>(s[0])) && s.rfind("SIG", 0) != 0) s = "SIG" + s;
  return s;
}

// runc's "unable to apply caps" for a privileged container says nothing of the cause: name
// what this host cannot grant (see host_caps.hpp).
std::string privileged_hint(const std::string& error) {
  if (error.find("apply caps") == std::string::npos) return "";
  std::string missing;
  for (const auto& cap : caps_missing_from_bounding_set())
    missing += (missing.empty() ? "" : ", ") + cap;
  if (missing.empty()) return "";
  return " (a privileged container gets every capability, and this host's capability bounding "
         "set lacks " +
         missing + ")";
}

nlohmann::json inspect_json(const DockerClient& client, const std::string& id, Response* raw) {
  Response r = client.get("/containers/" + id + "/json", kCall);
  if (raw) *raw = r;
  if (!r.ok()) return nullptr;
  return nlohmann::json::parse(r.body, nullptr, false);
}

sdk::ExitStatus exit_from_state(const nlohmann::json& state) {
  sdk::ExitStatus e;
  e.exit_code = state.value("ExitCode", 0);
  e.oom_killed = state.value("OOMKilled", false);
  e.err = state.value("Error", "");
  return e;
}

nlohmann::json make_handle(const sdk::TaskSpec& task, const std::string& id,
                           const std::string& image) {
  return {{"ContainerID", id},
          {"AllocID", task.alloc_id},
          {"TaskName", task.task_name},
          {"Image", image},
          {"KillSignal", task.kill_signal},
          {"StdoutPath", task.stdout_path},
          {"StderrPath", task.stderr_path},
          {"StateDir", task.state_dir},
          {"LogConfig",
           {{"MaxFiles", task.log_config.max_files},
            {"MaxFileSizeMB", task.log_config.max_file_size_mb},
            {"Disabled", task.log_config.disabled}}}};
}

// The container's own address, for a service's address_mode driver or auto (Nomad's
// DriverNetwork): on a user-defined network docker's address is advertised by default; on
// docker's default bridge it is there but not advertised; on the host's network, none, or
// another container's there is none. Null when it has no address.
bool has_own_address(const std::string& network_mode) {
  return network_mode != "host" && network_mode != "none" &&
         network_mode.rfind("container:", 0) != 0;
}

nlohmann::json driver_network(const nlohmann::json& inspected, const std::string& network_mode) {
  if (!inspected.is_object() || !has_own_address(network_mode)) return nullptr;
  const auto settings = inspected.value("NetworkSettings", nlohmann::json::object());
  std::string ip = settings.is_object() ? settings.value("IPAddress", "") : "";
  if (ip.empty() && settings.is_object() && settings.contains("Networks") &&
      settings["Networks"].is_object())
    for (const auto& [name, n] : settings["Networks"].items())
      if (ip.empty() && n.is_object()) ip = n.value("IPAddress", "");
  if (ip.empty()) return nullptr;
  const bool user_defined =
      !network_mode.empty() && network_mode != "bridge" && network_mode != "default";
  return {{"IP", ip}, {"AutoAdvertise", user_defined}};
}

// The handle carries what a follower needs, so that recover builds the same one as start.
std::unique_ptr<LogFollower> make_follower(std::shared_ptr<const DockerClient> cl,
                                           const std::string& id, const nlohmann::json& handle) {
  const nlohmann::json lc = handle.value("LogConfig", nlohmann::json::object());
  int max_files = lc.is_object() && lc.value("MaxFiles", nlohmann::json(0)).is_number_integer()
                      ? lc["MaxFiles"].get<int>()
                      : 0;
  int max_mb = lc.is_object() && lc.value("MaxFileSizeMB", nlohmann::json(0)).is_number_integer()
                   ? lc["MaxFileSizeMB"].get<int>()
                   : 0;
  return std::make_unique<LogFollower>(std::move(cl), id, str(handle, "StdoutPath"),
                                       str(handle, "StderrPath"), str(handle, "StateDir"),
                                       max_files, max_mb);
}

}  // namespace

DockerDriver::~DockerDriver() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  reaper_cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  std::map<std::string, std::shared_ptr<Container>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(containers_);
  }
  for (auto& [id, c] : all) {
    if (c->logs) c->logs->stop();
  }
}

void DockerDriver::set_config(const nlohmann::json& config) {
  config_ = parse_plugin_config(config);
  auto c = std::make_shared<DockerClient>(config_.endpoint);
  c->negotiate();  // a daemon that is down now is negotiated with later, by fingerprint
  client_ = c;
  if (config_.enabled && (config_.gc_dangling_enabled || config_.gc_image)) {
    reaper_ = std::thread([this] { reaper_loop(); });
  }
}

std::shared_ptr<const DockerClient> DockerDriver::client() const {
  std::lock_guard lock(mu_);
  if (!client_) throw std::runtime_error("docker driver: set_config was not called");
  return client_;
}

nlohmann::json DockerDriver::fingerprint() {
  auto fp = [&]() -> nlohmann::json {
    nlohmann::json out{{"Detected", false},
                       {"Healthy", false},
                       {"HealthDescription", ""},
                       {"Attributes", nlohmann::json::object()}};
    if (!config_.enabled) {
      out["HealthDescription"] = "disabled (plugin.docker.config.enabled is false)";
      return out;
    }
    auto fresh = std::make_shared<DockerClient>(config_.endpoint);
    Response ping = fresh->get("/_ping", 2s);
    Response version = ping.ok() ? fresh->negotiate() : ping;
    bool was_healthy;
    {
      std::lock_guard lock(mu_);
      was_healthy = ever_healthy_;
    }
    if (!ping.ok() || !version.ok()) {
      out["Detected"] = was_healthy;  // unhealthy once it worked; undetected before
      out["HealthDescription"] = "docker daemon at " + config_.endpoint +
                                 " does not answer: " + (ping.ok() ? version : ping).message();
      return out;
    }
    auto v = nlohmann::json::parse(version.body, nullptr, false);
    Response info_r = fresh->get("/info", 2s);
    auto info = info_r.ok() ? nlohmann::json::parse(info_r.body, nullptr, false) : nlohmann::json();
    std::string runtimes;
    if (info.is_object() && info.contains("Runtimes") && info["Runtimes"].is_object()) {
      for (const auto& [name, _] : info["Runtimes"].items()) {
        runtimes += (runtimes.empty() ? "" : ",") + name;
      }
    }
    {
      std::lock_guard lock(mu_);
      ever_healthy_ = true;
      client_ = fresh;  // negotiated: later calls use the daemon's API version
    }
    out["Detected"] = true;
    out["Healthy"] = true;
    out["HealthDescription"] = "healthy";
    out["Attributes"] = {
        {"driver.docker", "true"},
        {"driver.docker.version", v.is_object() ? v.value("Version", "") : ""},
        {"driver.docker.runtimes", runtimes},
        {"driver.docker.os_type", info.is_object() ? info.value("OSType", "") : ""},
        {"driver.docker.privileged.enabled", config_.allow_privileged ? "true" : "false"},
        {"driver.docker.volumes.enabled", config_.volumes_enabled ? "true" : "false"}};
    return out;
  }();
  // plugin.h, fingerprint: its tasks join the alloc's network through a pause container of
  // its own making (network.cpp).
  fp["Capabilities"] = {{"FSIsolation", "image"},
                        {"MountConfigs", "all"},
                        {"NetIsolation", "group"},
                        {"MustInitiateNetwork", true},
                        {"Exec", true}};
  return fp;
}

std::vector<std::string> DockerDriver::validate(const nlohmann::json& task_config) {
  return config_problems(task_config, config_);
}

nlohmann::json DockerDriver::start(const sdk::TaskSpec& task) {
  if (!config_.enabled) {
    throw std::runtime_error("docker is disabled (plugin.docker.config.enabled is false)");
  }
  const nlohmann::json& config = task.config;
  if (auto problems = config_problems(config, config_); !problems.empty()) {
    throw std::runtime_error(join(problems));
  }
  TaskConfig cfg = read_config(config);
  nlohmann::json body = container_create_body(task, cfg, config_);  // security checked again
  // The log follower's place in the logs (docker-logs.since) must outlive a reboot, as the
  // container does: it is kept in the state dir on the data dir, which the driver makes.
  if (!task.state_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(task.state_dir, ec);
    if (!ec)
      std::filesystem::permissions(task.state_dir, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, ec);
    if (ec) throw std::runtime_error("making the task's state dir " + task.state_dir + ": " + ec.message());
  }
  // The alloc's hostname resolves inside (container_spec.cpp mounts the file at /etc/hosts).
  if (joins_alloc_hosts(task, cfg)) (void)sdk::write_hosts_file(task.state_dir, task.hostname, task.alloc_address);
  docker_signal(task.kill_signal);  // refuse a bad one before anything is created
  auto cl = client();
  const std::string& alloc_id = task.alloc_id;
  const std::string& task_name = task.task_name;
  const auto pull_timeout = cfg.image_pull_timeout_ms > 0
                                ? std::chrono::milliseconds(cfg.image_pull_timeout_ms)
                                : config_.pull_timeout;
  auto pull = [&] {
    ensure_image(*cl, cfg, task.task_dir, pull_timeout, config_.pull_progress_interval,
                 [&](const std::string& message, const std::map<std::string, std::string>& details) {
                   emit_event(alloc_id, task_name, kEventDownloadingImage, message, details);
                 });
  };
  // A present image (the common case) is found by the create itself, as `docker run` finds it:
  // no image inspect on the start path. A tarball to load and force_pull go first.
  const bool image_first = !cfg.load.empty() || cfg.force_pull;
  if (image_first) pull();

  const std::string name = container_name(task);
  // The reaper must not take this container for a dangling one before it is tracked.
  {
    std::lock_guard lock(mu_);
    starting_.insert(name);
  }
  struct Unmark {
    DockerDriver* d;
    std::string name;
    ~Unmark() {
      std::lock_guard lock(d->mu_);
      d->starting_.erase(d->starting_.find(name));
    }
  } unmark{this, name};
  Response r = cl->post("/containers/create?name=" + url_encode(name), body, kCall);
  if (r.status == 404 && !image_first && r.message().rfind("No such image", 0) == 0) {
    pull();
    r = cl->post("/containers/create?name=" + url_encode(name), body, kCall);
  }
  if (r.status == 409) {
    // Left by an earlier start of this very task (the agent died before persisting the
    // handle): it never ran under supervision, so replace it.
    auto old = inspect_json(*cl, name, nullptr);
    if (old.is_object() &&
        old["Config"]["Labels"].value(kLabelAllocID, "") == task.alloc_id) {
      cl->del("/containers/" + url_encode(name) + "?force=1&v=1", kCall);
      r = cl->post("/containers/create?name=" + url_encode(name), body, kCall);
    }
  }
  if (!r.ok())
    throw std::runtime_error("creating container for image " + cfg.image + ": " + r.message());
  const std::string id = r.json().value("Id", "");
  Response s = cl->post("/containers/" + id + "/start", nullptr, kCall);
  if (!s.ok()) {
    cl->del("/containers/" + id + "?force=1&v=1", kCall);
    throw std::runtime_error("starting container " + id.substr(0, 12) + ": " + s.message() +
                             (cfg.privileged ? privileged_hint(s.message()) : ""));
  }
  auto c = std::make_shared<Container>();
  c->id = id;
  c->image = cfg.image;
  c->kill_signal = task.kill_signal;
  c->handle = make_handle(task, id, cfg.image);
  const std::string mode = body["HostConfig"].value("NetworkMode", "");
  // Only a container with an address of its own is inspected for it: an inspect racing a
  // short task's exit waits on dockerd's exit handling (~40 ms here).
  if (has_own_address(mode))
    if (auto net = driver_network(inspect_json(*cl, id, nullptr), mode); !net.is_null())
      c->handle["DriverNetwork"] = net;
  c->logs = make_follower(cl, id, c->handle);
  c->logs->start();
  track(c);
  return c->handle;
}

std::optional<sdk::ExitStatus> DockerDriver::poll_exit(Container& c,
                                                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + std::max(timeout, 0ms);
  auto cl = client();
  for (;;) {
    {
      std::lock_guard lock(c.mu);
      if (c.exit) return c.exit;
    }
    Response raw;
    auto j = inspect_json(*cl, c.id, &raw);
    std::optional<sdk::ExitStatus> e;
    if (raw.status == 404) {
      e = sdk::ExitStatus{-1, 0, false, "container " + c.id.substr(0, 12) + " is gone"};
    } else if (j.is_object() && j.contains("State") && !j["State"].value("Running", false) &&
               j["State"].value("Status", "") != "created") {
      e = exit_from_state(j["State"]);
      // dockerd may handle the container's exit before containerd's OOM event, and say
      // OOMKilled false until that event comes (it sets the flag then, whatever the order):
      // over 3 s on a host with both cores busy. A SIGKILL exit of a container with a memory
      // limit, not killed by our stop, is asked about again for up to 10 s; an OOM kill ends
      // the wait as soon as dockerd has it, so only a SIGKILL from elsewhere waits it out.
      const bool limited =
          j.contains("HostConfig") && j["HostConfig"].value("Memory", int64_t{0}) > 0;
      const int polls = limited && !c.stopping.load() ? 100 : 0;
      for (int i = 0; i < polls && e->exit_code == 137 && !e->oom_killed; ++i) {
        std::this_thread::sleep_for(kPoll);
        auto again = inspect_json(*cl, c.id, nullptr);
        if (again.is_object() && again.contains("State")) e = exit_from_state(again["State"]);
      }
    }
    // Unreachable daemon: keep polling; the task's fate is not known yet.
    if (e) {
      if (c.logs) c.logs->wait_done(kLogDrain);  // the last lines land before the exit is told
      std::lock_guard lock(c.mu);
      if (!c.exit) c.exit = e;
      return c.exit;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(
        std::min<std::chrono::nanoseconds>(kPoll, deadline - std::chrono::steady_clock::now()));
  }
}

// The daemon's own wait call, left pending on a connection of its own: it answers when the
// container stops, so the agent needs no polling of inspect (every 100 ms per container).
int DockerDriver::wait_fd(const nlohmann::json& handle) {
  auto c = tracked(handle);
  {
    std::lock_guard lock(c->mu);
    if (c->exit) return -1;  // wait answers at once
  }
  return client()->open_wait(c->id);
}

std::optional<sdk::ExitStatus> DockerDriver::wait(const nlohmann::json& handle,
                                                  std::chrono::milliseconds timeout) {
  return poll_exit(*tracked(handle), timeout);
}

void DockerDriver::stop(const nlohmann::json& handle, const std::string& signal,
                        std::chrono::milliseconds timeout) {
  auto c = tracked(handle);
  c->stopping = true;
  std::string name = signal.empty() ? c->kill_signal : signal;
  if (name.empty()) name = "SIGTERM";  // docker's default when the image sets no STOPSIGNAL
  const std::string sig = docker_signal(name);
  auto cl = client();
  if (poll_exit(*c, 0ms)) return;
  Response r = cl->post("/containers/" + c->id + "/kill?signal=" + sig, nullptr, kCall);
  if (!r.ok() && r.status != 409 && r.status != 404) {
    throw std::runtime_error("signalling container " + c->id.substr(0, 12) + ": " + r.message());
  }
  if (poll_exit(*c, timeout)) return;
  r = cl->post("/containers/" + c->id + "/kill?signal=SIGKILL", nullptr, kCall);
  if (!r.ok() && r.status != 409 && r.status != 404) {
    throw std::runtime_error("killing container " + c->id.substr(0, 12) + ": " + r.message());
  }
  if (!poll_exit(*c, kKillGrace)) {
    throw std::runtime_error("container " + c->id.substr(0, 12) + " did not die after SIGKILL");
  }
}

void DockerDriver::destroy(const nlohmann::json& handle) {
  const std::string id = handle_id(handle);
  auto c = find(id);
  auto cl = client();
  if (c && c->logs) c->logs->stop();
  if (config_.gc_container) {
    Response r = cl->del("/containers/" + id + "?force=1&v=1", kCall);
    if (!r.ok() && r.status != 404) {
      throw std::runtime_error("removing container " + id.substr(0, 12) + ": " + r.message());
    }
  } else {
    cl->post("/containers/" + id + "/kill?signal=SIGKILL", nullptr, kCall);
  }
  std::lock_guard lock(mu_);
  if (c) {
    if (config_.gc_image && !c->image.empty()) {
      unused_images_[c->image] = std::chrono::steady_clock::now() + config_.gc_image_delay;
    }
    containers_.erase(id);
  }
}

nlohmann::json DockerDriver::inspect(const nlohmann::json& handle) {
  const std::string id = handle_id(handle);
  Response raw;
  auto j = inspect_json(*client(), id, &raw);
  if (raw.status == 404)
    return {{"ContainerID", id}, {"PID", 0}, {"Running", false}, {"Gone", true}};
  if (!j.is_object())
    throw std::runtime_error("inspecting container " + id.substr(0, 12) + ": " + raw.message());
  const auto& st = j["State"];
  return {{"ContainerID", id},
          {"PID", st.value("Pid", 0)},
          {"Running", st.value("Running", false)},
          {"Status", st.value("Status", "")},
          {"StartedAt", st.value("StartedAt", "")},
          {"ExitCode", st.value("ExitCode", 0)},
          {"OOMKilled", st.value("OOMKilled", false)}};
}

void DockerDriver::signal(const nlohmann::json& handle, const std::string& signal) {
  const std::string id = handle_id(handle);
  Response r =
      client()->post("/containers/" + id + "/kill?signal=" + docker_signal(signal), nullptr, kCall);
  if (!r.ok())
    throw std::runtime_error("signalling container " + id.substr(0, 12) + ": " + r.message());
}

nlohmann::json DockerDriver::stats(const nlohmann::json& handle) {
  const std::string id = handle_id(handle);
  // one-shot: without it the daemon waits ~1s for a second sample.
  Response r = client()->get("/containers/" + id + "/stats?stream=false&one-shot=true", 5s);
  if (!r.ok())
    throw std::runtime_error("stats of container " + id.substr(0, 12) + ": " + r.message());
  return stats_from_engine(nlohmann::json::parse(r.body, nullptr, false));
}

sdk::ExecResult DockerDriver::exec_task(const nlohmann::json& handle,
                                        const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout) {
  return exec_in_container(*client(), handle_id(handle), argv, timeout);
}

std::unique_ptr<sdk::ExecStream> DockerDriver::exec_stream(const nlohmann::json& handle,
                                                           const sdk::ExecStreamRequest& request) {
  return exec_stream_in_container(client(), handle_id(handle), request);
}

nlohmann::json DockerDriver::recover(const nlohmann::json& handle) {
  const std::string id = handle_id(handle);
  if (auto c = find(id)) return c->handle;
  auto cl = client();
  Response raw;
  auto j = inspect_json(*cl, id, &raw);
  if (raw.status == 404) throw std::runtime_error("container " + id.substr(0, 12) + " is gone");
  if (!j.is_object()) {
    throw std::runtime_error("recovering container " + id.substr(0, 12) + ": " + raw.message());
  }
  const std::string alloc = str(handle, "AllocID");
  const std::string label = j["Config"]["Labels"].value(kLabelAllocID, "");
  if (!alloc.empty() && label != alloc) {
    throw std::runtime_error("container " + id.substr(0, 12) + " belongs to alloc \"" + label +
                             "\", not " + alloc);
  }
  auto c = std::make_shared<Container>();
  c->id = j.value("Id", id);
  c->image = str(handle, "Image");
  c->kill_signal = str(handle, "KillSignal");
  c->handle = handle;
  c->handle["ContainerID"] = c->id;
  // Follows from the last line written before the restart, also for a container that ended
  // while the agent was away (its remaining lines are copied, then the stream ends).
  c->logs = make_follower(cl, c->id, c->handle);
  c->logs->start();
  track(c);
  return c->handle;
}

std::shared_ptr<Container> DockerDriver::find(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = containers_.find(id);
  return it == containers_.end() ? nullptr : it->second;
}

std::shared_ptr<Container> DockerDriver::tracked(const nlohmann::json& handle) const {
  const std::string id = handle_id(handle);
  auto c = find(id);
  if (!c) {
    throw std::runtime_error("unknown container " + id.substr(0, 12) +
                             ": not started or recovered by this driver");
  }
  return c;
}

void DockerDriver::track(const std::shared_ptr<Container>& c) {
  std::lock_guard lock(mu_);
  containers_[c->id] = c;
  unused_images_.erase(c->image);
}

}  // namespace drover::docker

DROVER_REGISTER_DRIVER(drover::docker::DockerDriver, "docker", "0.1.0")
