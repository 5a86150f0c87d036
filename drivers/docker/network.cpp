// The docker driver's part of an alloc's network in group network mode bridge or none (plugin.h,
// drover_driver_create_network_v1), as Nomad's docker driver does it: the Engine API cannot put
// a container into a namespace named by a path, only into another container's network. So the
// driver runs one small "pause" container per alloc with network mode none (loopback alone),
// hands its namespace (/proc/<pid>/ns/net) to the agent, which wires it with CNI, and starts the
// alloc's docker tasks with NetworkMode "container:<pause id>" (container_spec.cpp).
#include <stdexcept>

#include "container_spec.hpp"
#include "docker_driver.hpp"
#include "images.hpp"

namespace drover::docker {
namespace {

constexpr auto kCall = std::chrono::seconds(10);

// Nomad's name, with drover's prefix: one per alloc, so a second create finds the first.
std::string infra_name(const std::string& alloc_id) { return "drover_init_" + alloc_id; }

nlohmann::json inspect_container(const DockerClient& cl, const std::string& name_or_id,
                                 int* status) {
  Response r = cl.get("/containers/" + url_encode(name_or_id) + "/json", kCall);
  *status = r.status;
  if (!r.ok()) return nullptr;
  return nlohmann::json::parse(r.body, nullptr, false);
}

}  // namespace

sdk::NetworkSpec DockerDriver::create_network(const sdk::NetworkRequest& request) {
  if (!config_.enabled)
    throw std::runtime_error("docker is disabled (plugin.docker.config.enabled is false)");
  auto cl = client();
  const std::string name = infra_name(request.alloc_id);
  auto spec_of = [&](const nlohmann::json& c, bool created) {
    const int pid = c["State"].value("Pid", 0);
    if (pid <= 0)
      throw std::runtime_error("pause container " + name + " has no process (state " +
                               c["State"].value("Status", "?") + ")");
    sdk::NetworkSpec spec;
    spec.path = "/proc/" + std::to_string(pid) + "/ns/net";
    spec.labels[kNetLabelSandbox] = c.value("Id", "");
    spec.created = created;
    return spec;
  };
  // An earlier call for this alloc (the agent died before recording it) made it already.
  int status = 0;
  auto existing = inspect_container(*cl, name, &status);
  if (existing.is_object()) {
    if (existing["Config"]["Labels"].value(kLabelAllocID, "") == request.alloc_id &&
        existing["State"].value("Running", false))
      return spec_of(existing, false);
    Response gone = cl->del("/containers/" + url_encode(name) + "?force=1&v=1", kCall);
    if (!gone.ok() && gone.status != 404)
      throw std::runtime_error("removing the stale pause container " + name + ": " +
                               gone.message());
  }

  TaskConfig image;
  image.image = config_.infra_image;
  ensure_image(*cl, image, request.alloc_dir, config_.pull_timeout,
               config_.pull_progress_interval,
               [](const std::string&, const std::map<std::string, std::string>&) {});
  nlohmann::json labels = {{kLabelAllocID, request.alloc_id}, {kLabelInfra, "true"}};
  if (!request.alloc_dir.empty()) labels[kLabelAllocDir] = request.alloc_dir;
  nlohmann::json body = {{"Image", config_.infra_image},
                         {"Labels", labels},
                         {"AttachStdin", false},
                         {"AttachStdout", false},
                         {"AttachStderr", false},
                         {"HostConfig",
                          {{"NetworkMode", "none"},
                           {"RestartPolicy", {{"Name", "no"}}},
                           {"LogConfig", {{"Type", "none"}, {"Config", nlohmann::json::object()}}}}}};
  if (!config_.infra_command.empty()) body["Cmd"] = config_.infra_command;
  // The alloc's hostname: the tasks that join this container share its UTS namespace.
  if (!request.hostname.empty()) body["Hostname"] = request.hostname;
  // Containers that join this one share its resolv.conf: the group's dns block goes here.
  if (request.dns) apply_dns(*request.dns, body["HostConfig"]);
  Response r = cl->post("/containers/create?name=" + url_encode(name), body, kCall);
  if (!r.ok())
    throw std::runtime_error("creating the pause container (image " + config_.infra_image +
                             "): " + r.message());
  const std::string id = r.json().value("Id", "");
  auto fail = [&](const std::string& why) {
    cl->del("/containers/" + id + "?force=1&v=1", kCall);
    throw std::runtime_error(why);
  };
  if (Response s = cl->post("/containers/" + id + "/start", nullptr, kCall); !s.ok())
    fail("starting the pause container " + id.substr(0, 12) + ": " + s.message());
  auto started = inspect_container(*cl, id, &status);
  if (!started.is_object() || !started["State"].value("Running", false))
    fail("the pause container " + id.substr(0, 12) + " (image " + config_.infra_image +
         ") did not stay running: give it a command that waits "
         "(plugin.docker.config.infra_command)");
  return spec_of(started, true);
}

void DockerDriver::destroy_network(const std::string& alloc_id,
                                   const std::map<std::string, std::string>& labels) {
  auto it = labels.find(kNetLabelSandbox);
  const std::string target =
      it != labels.end() && !it->second.empty() ? it->second : infra_name(alloc_id);
  Response r = client()->del("/containers/" + url_encode(target) + "?force=1&v=1", kCall);
  if (!r.ok() && r.status != 404)
    throw std::runtime_error("removing the pause container of alloc " + alloc_id + ": " +
                             r.message());
}

}  // namespace drover::docker
