// Services, checks and check_restart in both job formats, their canonical JSON and validation.
#include <gtest/gtest.h>

#include "jobspec/job.hpp"
#include "test_util.hpp"

using namespace drover::jobspec;
using namespace drover::jobspec::testing;
using namespace std::chrono_literals;

namespace {

const char* kYaml = R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          services:
            - name: api
              port: "127.0.0.1:8080"
              checks:
                - name: alive
                  type: http
                  path: /health
                  header: {X-Probe: ["1"]}
                  interval: 500ms
                  timeout: 1s
                  check_restart: {limit: 3, grace: 2s}
                - type: tcp
                  port: "9090"
                - type: script
                  command: /bin/check
                  args: ["-q"]
)";

}  // namespace

TEST(Services, YamlChecksAreRead) {
  Job job = must_parse(kYaml);
  const auto& t = job.groups[0].tasks[0];
  ASSERT_EQ(t.services.size(), 1u);
  const auto& s = t.services[0];
  EXPECT_EQ(s.name, "api");
  EXPECT_EQ(s.port, "127.0.0.1:8080");
  ASSERT_EQ(s.checks.size(), 3u);
  EXPECT_EQ(s.checks[0].type, "http");
  EXPECT_EQ(s.checks[0].path, "/health");
  EXPECT_EQ(s.checks[0].method, "GET");
  EXPECT_EQ(s.checks[0].interval, 500ms);
  EXPECT_EQ(s.checks[0].header.at("X-Probe"), std::vector<std::string>{"1"});
  ASSERT_TRUE(s.checks[0].check_restart.has_value());
  EXPECT_EQ(s.checks[0].check_restart->limit, 3);
  EXPECT_EQ(s.checks[0].check_restart->grace, 2s);
  EXPECT_EQ(s.checks[1].port, "9090");
  EXPECT_EQ(s.checks[2].args, std::vector<std::string>{"-q"});
}

TEST(Services, CanonicalJsonRoundTripsAndParsesAsNomadJson) {
  Job job = must_parse(kYaml);
  EXPECT_EQ(job_from_json(to_json(job)), job);
  nlohmann::json doc = {{"Job", to_json(job)}};
  Job again = must_parse(doc.dump());
  EXPECT_EQ(again.groups[0].tasks[0].services, job.groups[0].tasks[0].services);
}

TEST(Services, NomadJsonServiceWithDefaultsParses) {
  Job job = must_parse(R"({"Job": {"ID": "x", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
    "Services": [{"Name": "web", "PortLabel": "8080", "Provider": "consul", "AddressMode": "auto",
      "Checks": [{"Name": "c", "Type": "http", "Path": "/", "Interval": 10000000000,
                  "Timeout": 2000000000, "AddressMode": "", "OnUpdate": "require_healthy",
                  "CheckRestart": {"Limit": 2, "Grace": 1000000000, "IgnoreWarnings": false}}]}]
  }]}]}})");
  const auto& c = job.groups[0].tasks[0].services[0].checks[0];
  EXPECT_EQ(c.interval, 10s);
  ASSERT_TRUE(c.check_restart.has_value());
  EXPECT_EQ(c.check_restart->limit, 2);
}

TEST(Services, BadChecksAreRefusedWithTheirPaths) {
  std::string p = problems_of(R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          services:
            - name: api
              checks:
                - {type: http, path: health, port: "99999"}
                - {type: tcp}
                - {type: grpc, port: "1"}
                - {type: script, interval: 1ms}
)");
  const std::string c = "groups[0].tasks[0].services[0].checks";
  EXPECT_TRUE(has_line(p, c + "[0].path: must start with '/' (got \"health\")")) << p;
  EXPECT_TRUE(has_line(p, c + "[0].port: port must be 1..65535")) << p;
  EXPECT_TRUE(has_line(p, c + "[1].port: is required (on the check or its service) for a tcp check")) << p;
  EXPECT_TRUE(has_line(p, c + "[2].type: must be \"http\", \"tcp\" or \"script\" (got \"grpc\")")) << p;
  EXPECT_TRUE(has_line(p, c + "[3].command: is required for a script check")) << p;
  EXPECT_TRUE(has_line(p, c + "[3].interval: must be at least 100ms")) << p;
}

// Nomad's address_mode (docs/networking.md, "address_mode"): read in both formats; a bad
// value, and "alloc" where the alloc has no address of its own, refused naming the path.
TEST(Services, AddressModeIsReadAndChecked) {
  Job job = must_parse(R"(job:
  id: web
  groups:
    - name: g
      network: {mode: bridge, ports: {http: {to: 8080}}}
      services:
        - {name: inside, port: http, address_mode: alloc}
      tasks:
        - name: t
          driver: exec
          config: {command: /bin/true}
          services:
            - {name: outside, port: http}
)");
  EXPECT_EQ(job.groups[0].services[0].address_mode, "alloc");
  EXPECT_EQ(job.groups[0].tasks[0].services[0].address_mode, "auto");
  EXPECT_EQ(job_from_json(to_json(job)), job);
  Job nomad = must_parse(R"({"Job": {"ID": "x", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
    "Services": [{"Name": "web", "PortLabel": "8080", "AddressMode": "driver"}]}]}]}})");
  EXPECT_EQ(nomad.groups[0].tasks[0].services[0].address_mode, "driver");

  std::string p = problems_of(R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          services:
            - {name: a, port: "80", address_mode: somewhere}
            - {name: b, port: "80", address_mode: alloc}
)");
  const std::string s = "groups[0].tasks[0].services";
  EXPECT_TRUE(has_line(p, s + "[0].address_mode: must be \"auto\", \"host\", \"driver\" or "
                              "\"alloc\" (got \"somewhere\")"))
      << p;
  EXPECT_TRUE(has_line(p, s + "[1].address_mode: \"alloc\" registers the alloc's own address, "
                              "which only network mode \"bridge\" or \"cni/<network>\" gives "
                              "(the group's mode is \"host\")"))
      << p;
}

// What Nomad's own job files do with services (its api/services.go Canonicalize): a service
// without a name, a port written as a number, ${JOB}/${TASKGROUP}/${TASK}/${BASE} in a name,
// check_restart on the service for every check, and `task` naming the service's own task.
TEST(Services, HclServicesAsNomadsJobFilesWriteThem) {
  Job j = must_parse(R"(job "shop" {
  group "api" {
    network {
      port "http" {}
    }
    service {
      port = "http"
    }
    service {
      name = "${JOB}-${TASKGROUP}-edge"
      port = 9000
    }
    task "server" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
      service {
        port = "http"
        task = "server"
        check_restart {
          limit = 3
          grace = "10s"
        }
        check {
          type     = "tcp"
          interval = "5s"
          timeout  = "1s"
        }
        check {
          type     = "script"
          task     = "server"
          command  = "/bin/true"
          interval = "5s"
          timeout  = "1s"
          check_restart {
            limit = 1
          }
        }
      }
      service {
        name = "${BASE}-metrics"
        port = "http"
      }
    }
  }
}
)");
  const auto& g = j.groups.at(0);
  EXPECT_EQ(g.services.at(0).name, "shop-api");
  EXPECT_EQ(g.services.at(1).name, "shop-api-edge");
  EXPECT_EQ(g.services.at(1).port, "9000");
  const auto& t = g.tasks.at(0);
  const auto& s = t.services.at(0);
  EXPECT_EQ(s.name, "shop-api-server");
  ASSERT_EQ(s.checks.size(), 2u);
  ASSERT_TRUE(s.checks[0].check_restart);
  EXPECT_EQ(s.checks[0].check_restart->limit, 3);
  EXPECT_EQ(s.checks[0].check_restart->grace, 10s);
  // A check's own check_restart wins over its service's.
  ASSERT_TRUE(s.checks[1].check_restart);
  EXPECT_EQ(s.checks[1].check_restart->limit, 1);
  EXPECT_EQ(s.checks[1].task, "");
  EXPECT_EQ(t.services.at(1).name, "shop-api-server-metrics");
}

TEST(Services, ATaskServiceNamingAnotherTaskIsRefused) {
  std::string p = problems_of(R"(job "shop" {
  group "api" {
    service {
      name = "native"
      task = "server"
    }
    task "server" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
      service {
        name = "x"
        task = "other"
      }
    }
  }
}
)");
  EXPECT_NE(p.find("service.task at line 5: names the task of a Consul Connect native service: "
                   "not supported by drover"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("service.task at line 14: may only name the task the service belongs to "
                   "(\"server\"), got \"other\""),
            std::string::npos)
      << p;
}

namespace {

// A job whose one raw_exec task has `services` (YAML list items, indented as the task's key).
std::string yaml_with_services(const std::string& services) {
  return R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          services:
)" + services;
}

// The same in HCL: `blocks` (service blocks) in task "t", whose first line is line 8.
std::string hcl_with_services(const std::string& blocks) {
  return R"(job "web" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
)" + blocks + R"(    }
  }
}
)";
}

}  // namespace

// Nomad's on_update and initial_status (docs/health.md, "on_update"): a check's own, else its
// service's, in every format; stored only when set, so jobs stored before read back the same;
// bad values refused naming the path.
TEST(Services, OnUpdateIsTheChecksElseItsServicesInEveryFormat) {
  Job y = must_parse(yaml_with_services(R"(            - name: api
              port: "127.0.0.1:8080"
              on_update: ignore
              checks:
                - {type: tcp}
                - {type: tcp, on_update: ignore_warnings, initial_status: passing}
            - name: other
              port: "127.0.0.1:8081"
              checks:
                - {type: tcp}
)"));
  const auto& s = y.groups[0].tasks[0].services;
  EXPECT_EQ(s[0].checks[0].on_update, "ignore");
  EXPECT_EQ(s[0].checks[1].on_update, "ignore_warnings");
  EXPECT_EQ(s[0].checks[1].initial_status, "passing");
  EXPECT_EQ(s[1].checks[0].on_update, "require_healthy");
  EXPECT_EQ(job_from_json(to_json(y)), y);
  const auto json = to_json(y).dump();
  EXPECT_NE(json.find("\"OnUpdate\":\"ignore\""), std::string::npos) << json;
  // The default is not written: a job stored before these keys existed compares equal.
  auto plain = to_json(must_parse(kYaml)).dump();
  EXPECT_EQ(plain.find("OnUpdate"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("InitialStatus"), std::string::npos) << plain;

  Job h = must_parse(hcl_with_services(R"(      service {
        name      = "api"
        port      = "127.0.0.1:8080"
        on_update = "ignore"
        check {
          type           = "tcp"
          interval       = "5s"
          timeout        = "1s"
          initial_status = "critical"
        }
        check {
          type      = "tcp"
          interval  = "5s"
          timeout   = "1s"
          on_update = "require_healthy"
        }
      }
)"));
  const auto& hc = h.groups[0].tasks[0].services[0].checks;
  EXPECT_EQ(hc[0].on_update, "ignore");
  EXPECT_EQ(hc[0].initial_status, "critical");
  EXPECT_EQ(hc[1].on_update, "require_healthy");

  Job n = must_parse(R"({"Job": {"ID": "x", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
    "Services": [{"Name": "web", "PortLabel": "8080", "OnUpdate": "ignore_warnings",
      "Checks": [{"Name": "c", "Type": "tcp", "Interval": 10000000000, "Timeout": 2000000000},
                 {"Name": "d", "Type": "tcp", "Interval": 10000000000, "Timeout": 2000000000,
                  "OnUpdate": "ignore", "InitialStatus": "warning"}]}]
  }]}]}})");
  const auto& nc = n.groups[0].tasks[0].services[0].checks;
  EXPECT_EQ(nc[0].on_update, "ignore_warnings");
  EXPECT_EQ(nc[1].on_update, "ignore");
  EXPECT_EQ(nc[1].initial_status, "warning");
}

TEST(Services, BadOnUpdateAndInitialStatusAreRefusedWithTheirPaths) {
  std::string p = problems_of(yaml_with_services(R"(            - name: api
              port: "127.0.0.1:8080"
              checks:
                - {type: tcp, on_update: sometimes}
                - {type: tcp, initial_status: fine}
)"));
  const std::string c = "groups[0].tasks[0].services[0].checks";
  EXPECT_TRUE(has_line(p, c + "[0].on_update: must be \"require_healthy\", \"ignore_warnings\" or "
                              "\"ignore\" (got \"sometimes\")")) << p;
  EXPECT_TRUE(has_line(p, c + "[1].initial_status: must be \"passing\", \"warning\" or \"critical\" "
                              "(got \"fine\")")) << p;
}

// Nomad's meta, canary_meta, tagged_addresses and enable_tag_override: read in every format
// (HCL as blocks or attributes), kept in the job and registered nowhere, as Nomad's own
// provider; canary_tags refused naming the field.
TEST(Services, MetaAndTaggedAddressesAreKeptAndCanaryTagsRefused) {
  Job h = must_parse(hcl_with_services(R"(      service {
        name                = "api"
        port                = "127.0.0.1:8080"
        enable_tag_override = true
        meta {
          version = "2"
        }
        canary_meta = {
          version = "3"
        }
        tagged_addresses {
          wan = "192.0.2.1"
        }
      }
)"));
  const auto& s = h.groups[0].tasks[0].services[0];
  EXPECT_EQ(s.meta, (std::map<std::string, std::string>{{"version", "2"}}));
  EXPECT_EQ(s.canary_meta, (std::map<std::string, std::string>{{"version", "3"}}));
  EXPECT_EQ(s.tagged_addresses, (std::map<std::string, std::string>{{"wan", "192.0.2.1"}}));
  EXPECT_TRUE(s.enable_tag_override);
  EXPECT_EQ(job_from_json(to_json(h)), h);
  nlohmann::json doc = {{"Job", to_json(h)}};
  EXPECT_EQ(must_parse(doc.dump()).groups[0].tasks[0].services, h.groups[0].tasks[0].services);

  Job y = must_parse(yaml_with_services(R"(            - name: api
              port: "127.0.0.1:8080"
              meta: {version: "2"}
              tagged_addresses: {lan: 10.0.0.1}
)"));
  EXPECT_EQ(y.groups[0].tasks[0].services[0].meta.at("version"), "2");
  EXPECT_EQ(y.groups[0].tasks[0].services[0].tagged_addresses.at("lan"), "10.0.0.1");

  std::string p = problems_of(yaml_with_services(R"(            - name: api
              port: "127.0.0.1:8080"
              canary_tags: [canary]
)"));
  EXPECT_NE(p.find("groups[0].tasks[0].services[0].canary_tags: not supported by drover"), std::string::npos) << p;
  std::string hp = problems_of(hcl_with_services(R"(      service {
        name        = "api"
        port        = "127.0.0.1:8080"
        canary_tags = ["canary"]
      }
)"));
  EXPECT_NE(hp.find("service.canary_tags at line 11: not supported by drover"), std::string::npos) << hp;
}

// A Connect check's expose is refused naming why, not as an unknown attribute.
TEST(Services, AConnectChecksExposeIsRefusedSayingWhy) {
  std::string p = problems_of(R"(job "web" {
  group "g" {
    service {
      name = "api"
      port = "9090"
      check {
        type     = "http"
        path     = "/health"
        interval = "5s"
        timeout  = "1s"
        expose   = true
      }
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
    }
  }
}
)");
  EXPECT_NE(p.find("service.check.expose at line 11: not supported by drover (Consul Connect's expose paths"),
            std::string::npos) << p;
}
