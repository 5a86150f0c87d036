// Docker rows of docs/threat-model.md: privileged, host namespaces, host volumes, extra
// capabilities and other runtimes are refused before any Docker call, each naming the plugin
// option that would allow it; a relative bind source that meta makes climb out of the alloc
// dir is refused at start. (A source that is a symlink out of it: tests/drivers/docker,
// RelativeVolumeMayNotEscapeTheAllocDirThroughASymlink.)
#include <gtest/gtest.h>

#include <filesystem>

#include "agent_process.hpp"
#include "hostile_support.hpp"

using drover::testing::AgentProcess;

namespace {

std::string docker_job(const std::string& id, const std::string& extra_config) {
  return "job:\n  id: " + id + "\n  type: batch\n  groups:\n    - name: g\n      restart: {attempts: 0, mode: fail}\n"
         "      tasks:\n        - name: t\n          driver: docker\n          kill_timeout: 2s\n"
         "          resources: {memory: 64}\n          config:\n            image: drover-test/busybox:latest\n"
         "            network_mode: none\n            command: sh\n            args: [\"-c\", \"true\"]\n" +
         extra_config;
}

void expect_refused(const AgentProcess& a, const std::string& id, const std::string& extra,
                    const std::string& key, const std::string& option) {
  auto r = a.post("/v1/jobs", docker_job(id, extra));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find(key), std::string::npos) << "does not name " << key << ": " << r.body;
  EXPECT_NE(r.body.find(option), std::string::npos) << "does not name " << option << ": " << r.body;
}

}  // namespace

TEST(DockerGates, PrivilegedHostNamespacesVolumesCapsAndRuntimesAreRefusedNamingTheOption) {
  auto agent = AgentProcess::start();
  expect_refused(*agent, "p1", "            privileged: true\n", "config.privileged", "allow_privileged");
  expect_refused(*agent, "p2", "            pid_mode: host\n", "config.pid_mode", "allow_privileged");
  expect_refused(*agent, "p3", "            ipc_mode: host\n", "config.ipc_mode", "allow_privileged");
  expect_refused(*agent, "p4", "            volumes: [\"/etc:/host-etc\"]\n", "config.volumes", "volumes.enabled");
  expect_refused(*agent, "p5", "            cap_add: [\"SYS_ADMIN\"]\n", "config.cap_add", "allow_caps");
  expect_refused(*agent, "p6", "            cap_add: [\"NET_RAW\"]\n", "config.cap_add", "allow_caps");
  expect_refused(*agent, "p7", "            runtime: runc-evil\n", "config.runtime", "allow_runtimes");
  auto allocs = agent->get("/v1/allocations").json();
  EXPECT_TRUE(allocs.empty()) << allocs.dump();
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

TEST(DockerGates, MetaInterpolatedIntoAVolumeCannotClimbOutOfTheAllocDir) {
  auto agent = AgentProcess::start();
  std::string job = docker_job("meta", "            volumes: [\"${NOMAD_META_dir}:/x\"]\n");
  // Far enough up to reach / from any alloc dir: /etc exists, so only the check stops it.
  std::string climb;
  for (int i = 0; i < 24; ++i) climb += "../";
  job.insert(job.find("  groups:"), "  meta: {dir: \"" + climb + "etc\"}\n");
  auto r = agent->post("/v1/jobs", job);
  if (r.status == 200) {
    auto id = r.json()["AllocIDs"][0].get<std::string>();
    auto a = agent->wait_alloc(id, [](const nlohmann::json& a) {
      auto s = a.value("ClientStatus", "");
      return s == "failed" || s == "complete";
    });
    EXPECT_EQ(a["ClientStatus"], "failed") << "a relative volume that climbs out ran: " << a.dump(2);
    std::string messages;
    for (const auto& e : a["TaskStates"]["t"]["Events"]) messages += e.value("DisplayMessage", "") + "\n";
    EXPECT_NE(messages.find("resolves to /etc, outside the alloc dir"), std::string::npos) << messages;
  } else {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("volumes"), std::string::npos) << r.body;
  }
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}
