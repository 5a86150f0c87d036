// Ports in host mode, end to end (docs/networking.md): the real agent hands a raw_exec busybox
// httpd a dynamic port that the test reaches at NOMAD_ADDR_http, refuses static ports that an
// alloc or the agent config holds (409 naming the holder), keeps ports across a SIGKILL of the
// agent, frees them when the alloc ends, and an http check on a port label turns it healthy.
#include <gtest/gtest.h>
#include <httplib.h>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A busybox httpd serving its task dir (with its env in env.txt) at ${NOMAD_ADDR_<label>}.
std::string httpd_job(const std::string& id, const std::string& ports,
                      const std::string& label = "http", const std::string& extra = "") {
  return "job:\n  id: " + id + "\n  groups:\n    - name: web\n      network:\n        ports:\n" +
         ports +
         "      tasks:\n        - name: httpd\n          driver: raw_exec\n"
         "          kill_timeout: 1s\n          config:\n            command: /bin/sh\n"
         "            args: [\"-c\", \"echo hello-ports > $NOMAD_TASK_DIR/index.html; env | grep "
         "^NOMAD_ > $NOMAD_TASK_DIR/env.txt; exec busybox httpd -f -p ${NOMAD_ADDR_" +
         label + "} -h $NOMAD_TASK_DIR\"]\n" + extra;
}

std::string sleeper_job(const std::string& id, const std::string& ports) {
  return "job:\n  id: " + id + "\n  groups:\n    - name: g\n      network:\n        ports:\n" +
         ports +
         "      tasks:\n        - name: t\n          driver: raw_exec\n          kill_timeout: 1s\n"
         "          config: {command: /bin/sleep, args: [\"600\"]}\n";
}

// The body at http://host:port/path, or "" when nothing answers.
std::string fetch(const std::string& host, int port, const std::string& path) {
  httplib::Client c(host, port);
  c.set_connection_timeout(1);
  auto r = c.Get(path);
  return r && r->status == 200 ? r->body : "";
}

json shared_port(const json& alloc, const std::string& label) {
  for (const auto& p : alloc["AllocatedResources"]["Shared"]["Ports"])
    if (p["Label"] == label) return p;
  return json();
}

}  // namespace

TEST(Ports, RawExecHttpdOnADynamicPortIsReachedAtNomadAddr) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(httpd_job("web", "          http: {}\n"));
  auto a = agent->wait_client_status(ids[0], "running");
  json p = shared_port(a, "http");
  ASSERT_TRUE(p.is_object()) << a.dump(2);
  int port = p["Value"];
  EXPECT_GE(port, 20000);
  EXPECT_LE(port, 32000);
  EXPECT_EQ(p["HostIP"], "127.0.0.1");  // -dev hands out ports on loopback, as Nomad's -dev
  const auto& net = a["AllocatedResources"]["Shared"]["Networks"][0];
  EXPECT_EQ(net["Mode"], "host");
  EXPECT_EQ(net["DynamicPorts"][0]["Label"], "http");
  EXPECT_EQ(net["DynamicPorts"][0]["Value"], port);

  std::string body;
  ASSERT_TRUE(
      eventually([&] { return !(body = fetch("127.0.0.1", port, "/index.html")).empty(); }, 10s))
      << agent->log();
  EXPECT_EQ(body, "hello-ports\n");
  std::string env = fetch("127.0.0.1", port, "/env.txt");
  const std::string ps = std::to_string(port);
  for (const std::string& line : std::vector<std::string>{
           "NOMAD_PORT_http=" + ps, "NOMAD_HOST_PORT_http=" + ps, "NOMAD_IP_http=127.0.0.1",
           "NOMAD_ADDR_http=127.0.0.1:" + ps, "NOMAD_HOST_IP_http=127.0.0.1",
           "NOMAD_HOST_ADDR_http=127.0.0.1:" + ps, "NOMAD_ALLOC_PORT_http=" + ps})
    EXPECT_NE(("\n" + env).find("\n" + line + "\n"), std::string::npos) << line << "\n" << env;

  // The CLI shows them as Nomad's `alloc status` does.
  auto status = agent->cli({"alloc", "status", ids[0]});
  EXPECT_NE(status.out.find("Allocation Addresses:"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("*http"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("127.0.0.1:" + ps), std::string::npos) << status.out;

  // The node says where ports come from, in Nomad's shape.
  auto node = agent->get("/v1/node").json();
  EXPECT_EQ(node["NodeResources"]["Networks"][0]["IP"], "127.0.0.1") << node.dump(2);
  EXPECT_EQ(node["NodeResources"]["MinDynamicPort"], 20000);
  EXPECT_EQ(node["NodeResources"]["MaxDynamicPort"], 32000);
}

TEST(Ports, AStaticPortHeldByAnotherAllocIsA409NamingItsHolder) {
  auto agent = AgentProcess::start();
  int port = drover::testing::free_loopback_port();
  const std::string ports = "          db: {static: " + std::to_string(port) + "}\n";
  auto first = agent->submit(sleeper_job("first", ports));
  agent->wait_client_status(first[0], "running");
  auto r = agent->post("/v1/jobs", sleeper_job("second", ports));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("static port " + std::to_string(port) +
                        " (port \\\"db\\\") on 127.0.0.1 is held by alloc " + first[0] +
                        " (job \\\"first\\\")"),
            std::string::npos)
      << r.body;
  // Nothing of the refused job was kept.
  EXPECT_EQ(agent->get("/v1/job/second").status, 404);
  EXPECT_EQ(agent->get("/v1/allocations").json().size(), 1u);

  // Two allocs of one job cannot share it either.
  auto twice = agent->post("/v1/jobs",
                           "job:\n  id: twice\n  groups:\n    - name: g\n      count: "
                           "2\n      network:\n        ports:\n          db: {static: " +
                               std::to_string(port + 1) +
                               "}\n      tasks:\n        - name: t\n          driver: "
                               "raw_exec\n          config: {command: /bin/true}\n");
  EXPECT_EQ(twice.status, 409) << twice.body;
  EXPECT_NE(twice.body.find("allocs on one node cannot share a static port"), std::string::npos)
      << twice.body;
}

TEST(Ports, AStaticPortReservedByTheAgentConfigIsA409SayingSo) {
  int port = drover::testing::free_loopback_port();
  auto agent = AgentProcess::start({.config_yaml = "reserved:\n  reserved_ports: \"22,8500-8600," +
                                                   std::to_string(port) + "\"\n"});
  auto r = agent->post("/v1/jobs", sleeper_job("ssh",
                                               "          ssh: {static: 8501}\n"
                                               "          mine: {static: " +
                                                   std::to_string(port) + "}\n"));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("static port 8501 (port \\\"ssh\\\") on 127.0.0.1 is reserved by the "
                        "agent config (reserved.reserved_ports)"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("static port " + std::to_string(port) + " (port \\\"mine\\\")"),
            std::string::npos)
      << r.body;
  auto node = agent->get("/v1/node").json();
  EXPECT_EQ(node["ReservedResources"]["Networks"]["ReservedHostPorts"],
            "22,8500-8600," + std::to_string(port))
      << node.dump(2);
}

TEST(Ports, PortsAreUnchangedAfterAnAgentSigkillAndFreedWhenTheAllocEnds) {
  auto dir = make_temp_dir("drover-ports");
  int port = 0;
  std::string id;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    id = agent->submit(httpd_job("web", "          http: {}\n"))[0];
    port = shared_port(agent->wait_client_status(id, "running"), "http")["Value"];
    ASSERT_TRUE(eventually([&] { return !fetch("127.0.0.1", port, "/index.html").empty(); }, 10s));
    agent->kill(SIGKILL);
  }
  auto agent = AgentProcess::start({.data_dir = dir});
  auto a = agent->wait_client_status(id, "running");
  EXPECT_EQ(shared_port(a, "http")["Value"], port) << a.dump(2);
  EXPECT_EQ(fetch("127.0.0.1", port, "/index.html"), "hello-ports\n");
  // Still held: a static claim on it is refused, naming the recovered alloc.
  auto r = agent->post(
      "/v1/jobs", sleeper_job("thief", "          x: {static: " + std::to_string(port) + "}\n"));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("held by alloc " + id), std::string::npos) << r.body;
  // Once the alloc has ended its port is free again.
  ASSERT_EQ(agent->del("/v1/job/web").status, 200);
  agent->wait_alloc(id, [](const json& j) { return j["ClientStatus"] == "complete"; });
  auto ok =
      agent->submit(sleeper_job("thief", "          x: {static: " + std::to_string(port) + "}\n"));
  EXPECT_EQ(shared_port(agent->wait_client_status(ok[0], "running"), "x")["Value"], port);
}

TEST(Ports, AnHttpCheckOnAPortLabelTurnsTheAllocHealthy) {
  auto agent = AgentProcess::start();
  std::string job = httpd_job(
      "checked", "          http: {}\n", "http",
      "          services:\n            - name: web\n              port: http\n"
      "              checks:\n                - {type: http, path: /index.html, port: http, "
      "interval: 200ms, timeout: 1s}\n");
  job.replace(job.find("    - name: web\n"), 16,
              "    - name: web\n      update: {min_healthy_time: 500ms, healthy_deadline: 20s}\n");
  auto ids = agent->submit(job);
  auto a = agent->wait_alloc(
      ids[0], [](const json& j) { return j["DeploymentStatus"].is_object(); }, 30s);
  ASSERT_TRUE(a["DeploymentStatus"].is_object()) << a.dump(2);
  EXPECT_TRUE(a["DeploymentStatus"]["Healthy"].get<bool>()) << a.dump(2);
  auto checks = agent->get("/v1/client/allocation/" + ids[0] + "/checks").json();
  ASSERT_EQ(checks.size(), 1u) << checks.dump(2);
  EXPECT_EQ(checks.begin().value()["Status"], "success") << checks.dump(2);
}

TEST(Ports, APortOnAHostNetworkBindsOnItsAddress) {
  auto agent = AgentProcess::start(
      {.config_yaml =
           "host_network:\n  local:\n    cidr: 127.0.0.0/8\n    reserved_ports: \"9999\"\n"});
  auto ids = agent->submit(httpd_job("web", "          admin: {host_network: local}\n", "admin"));
  auto a = agent->wait_client_status(ids[0], "running");
  json p = shared_port(a, "admin");
  EXPECT_EQ(p["HostIP"], "127.0.0.1") << a.dump(2);
  int port = p["Value"];
  ASSERT_TRUE(eventually([&] { return !fetch("127.0.0.1", port, "/index.html").empty(); }, 10s));
  auto node = agent->get("/v1/node").json();
  EXPECT_EQ(node["HostNetworks"]["local"]["CIDR"], "127.0.0.0/8") << node.dump(2);
  EXPECT_EQ(node["HostNetworks"]["local"]["ReservedPorts"], "9999");
}

TEST(Ports, AGroupServiceCheckOnAPortLabelTurnsTheAllocHealthy) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", R"(job "grp" {
  group "web" {
    update {
      min_healthy_time = "500ms"
      healthy_deadline = "20s"
    }
    network {
      port "http" {}
    }
    service {
      name = "web"
      port = "http"
      check {
        type     = "http"
        path     = "/index.html"
        interval = "200ms"
        timeout  = "1s"
      }
    }
    task "httpd" {
      driver       = "raw_exec"
      kill_timeout = "1s"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo ok > $NOMAD_TASK_DIR/index.html; exec busybox httpd -f -p ${NOMAD_ADDR_http} -h $NOMAD_TASK_DIR"]
      }
    }
  }
}
)");
  ASSERT_EQ(r.status, 200) << r.body;
  auto allocs = agent->get("/v1/job/grp/allocations").json();
  ASSERT_EQ(allocs.size(), 1u) << allocs.dump(2);
  auto a = agent->wait_alloc(
      allocs[0]["ID"], [](const json& j) { return j["DeploymentStatus"].is_object(); }, 30s);
  ASSERT_TRUE(a["DeploymentStatus"].is_object()) << a.dump(2);
  EXPECT_TRUE(a["DeploymentStatus"]["Healthy"].get<bool>()) << a.dump(2);
}
