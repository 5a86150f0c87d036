// The network block and port labels (docs/networking.md): the same Job from YAML, Nomad JSON
// and HCL, a canonical JSON that round-trips, and the refusals a user meets.
#include <gtest/gtest.h>

#include "test_util.hpp"

using namespace drover::jobspec;
using drover::jobspec::testing::has_line;
using drover::jobspec::testing::must_parse;
using drover::jobspec::testing::problems_of;

namespace {

const char* kYaml = R"(job:
  id: web
  groups:
    - name: web
      network:
        mode: host
        mbits: 10
        ports:
          http: {}
          admin: {static: 9090, to: 9090, host_network: public}
      tasks:
        - name: server
          driver: docker
          config: {image: busybox}
          resources:
            network:
              mbits: 5
              ports:
                metrics: ~
                db: {static: 6379}
          services:
            - name: web
              port: http
              checks:
                - {type: http, path: /, port: admin}
)";

const char* kHcl = R"(job "web" {
  group "web" {
    network {
      mode  = "host"
      mbits = 10
      port "http" {}
      port "admin" {
        static       = 9090
        to           = 9090
        host_network = "public"
      }
    }
    task "server" {
      driver = "docker"
      config { image = "busybox" }
      resources {
        network {
          mbits = 5
          port "metrics" {}
          port "db" { static = 6379 }
        }
      }
      service {
        name = "web"
        port = "http"
        check {
          type = "http"
          path = "/"
          port = "admin"
        }
      }
    }
  }
}
)";

// What `nomad job run -output` prints for the HCL above (abridged to what drover reads).
const char* kNomadJson = R"({"Job": {"ID": "web", "TaskGroups": [{"Name": "web",
  "Networks": [{"Mode": "host", "Device": "", "CIDR": "", "IP": "", "MBits": 10, "DNS": null,
    "ReservedPorts": [{"Label": "admin", "Value": 9090, "To": 9090, "HostNetwork": "public"}],
    "DynamicPorts": [{"Label": "http", "Value": 0, "To": 0, "HostNetwork": "default"}]}],
  "Tasks": [{"Name": "server", "Driver": "docker", "Config": {"image": "busybox"},
    "Resources": {"Networks": [{"Mode": "", "MBits": 5,
      "ReservedPorts": [{"Label": "db", "Value": 6379}],
      "DynamicPorts": [{"Label": "metrics"}]}]},
    "Services": [{"Name": "web", "PortLabel": "http", "AddressMode": "auto",
      "Checks": [{"Type": "http", "Path": "/", "PortLabel": "admin"}]}]}]}]}})";

}  // namespace

TEST(Networks, YamlHclAndNomadJsonGiveTheSameJob) {
  Job yaml = must_parse(kYaml);
  Job hcl = must_parse(kHcl);
  Job json = must_parse(kNomadJson);
  ASSERT_EQ(yaml.groups.size(), 1u);
  const auto& net = yaml.groups[0].networks;
  ASSERT_EQ(net.size(), 1u);
  EXPECT_EQ(net[0].mode, "host");
  EXPECT_EQ(net[0].mbits, 10);
  ASSERT_EQ(net[0].reserved_ports.size(), 1u);
  EXPECT_EQ(net[0].reserved_ports[0], (Port{"admin", 9090, 9090, "public"}));
  ASSERT_EQ(net[0].dynamic_ports.size(), 1u);
  EXPECT_EQ(net[0].dynamic_ports[0], (Port{"http", 0, 0, ""}));
  const auto& task_net = yaml.groups[0].tasks[0].resources.networks;
  ASSERT_EQ(task_net.size(), 1u);
  EXPECT_EQ(task_net[0].mbits, 5);
  EXPECT_EQ(task_net[0].reserved_ports.at(0), (Port{"db", 6379, 0, ""}));
  EXPECT_EQ(task_net[0].dynamic_ports.at(0).label, "metrics");
  EXPECT_EQ(to_json(yaml).dump(2), to_json(hcl).dump(2));
  EXPECT_EQ(to_json(yaml).dump(2), to_json(json).dump(2));
}

TEST(Networks, CanonicalJsonRoundTrips) {
  Job job = must_parse(kYaml);
  auto j = to_json(job);
  EXPECT_EQ(j["TaskGroups"][0]["Networks"][0]["DynamicPorts"][0]["Label"], "http");
  EXPECT_EQ(j["TaskGroups"][0]["Tasks"][0]["Resources"]["Networks"][0]["ReservedPorts"][0]["Value"],
            6379);
  EXPECT_TRUE(job_from_json(j) == job);
  // And what the store keeps parses again as a Nomad JSON job.
  Job again = must_parse(nlohmann::json{{"Job", j}}.dump());
  EXPECT_TRUE(again == job);
}

// A group network's dns block, from each format, into the canonical JSON and back.
TEST(Networks, DnsReadsTheSameFromEveryFormatAndRoundTrips) {
  Job yaml = must_parse(R"(job:
  id: dns
  groups:
    - name: g
      network:
        mode: bridge
        dns: {servers: [10.0.0.53, "fd00::53"], searches: [svc.local], options: ["ndots:2", edns0]}
      tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]
)");
  Job hcl = must_parse(R"(job "dns" {
  group "g" {
    network {
      mode = "bridge"
      dns {
        servers  = ["10.0.0.53", "fd00::53"]
        searches = ["svc.local"]
        options  = ["ndots:2", "edns0"]
      }
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  Job json = must_parse(R"({"Job": {"ID": "dns", "TaskGroups": [{"Name": "g",
    "Networks": [{"Mode": "bridge", "DNS": {"Servers": ["10.0.0.53", "fd00::53"],
      "Searches": ["svc.local"], "Options": ["ndots:2", "edns0"]}}],
    "Tasks": [{"Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"}}]}]}})");
  const auto& dns = yaml.groups.at(0).networks.at(0).dns;
  ASSERT_TRUE(dns.has_value());
  EXPECT_EQ(dns->servers, (std::vector<std::string>{"10.0.0.53", "fd00::53"}));
  EXPECT_EQ(dns->searches, (std::vector<std::string>{"svc.local"}));
  EXPECT_EQ(dns->options, (std::vector<std::string>{"ndots:2", "edns0"}));
  EXPECT_EQ(to_json(yaml).dump(2), to_json(hcl).dump(2));
  EXPECT_EQ(to_json(yaml).dump(2), to_json(json).dump(2));
  auto j = to_json(yaml);
  EXPECT_EQ(j["TaskGroups"][0]["Networks"][0]["DNS"]["Servers"][1], "fd00::53");
  EXPECT_TRUE(job_from_json(j) == yaml);
  // A network without one says null, as Nomad's.
  EXPECT_TRUE(to_json(must_parse(kYaml))["TaskGroups"][0]["Networks"][0]["DNS"].is_null());
}

TEST(Networks, BadDnsEntriesAreEachNamed) {
  auto p = problems_of(R"(job:
  id: dns
  groups:
    - name: g
      network:
        dns: {servers: [10.0.0.300, 1.1.1.1], searches: ["a b"], options: [""], nameserver: x}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          resources: {network: {dns: {servers: [1.1.1.1]}}}
)");
  EXPECT_TRUE(has_line(p, "groups[0].network.dns.servers[0]: must be an IPv4 or IPv6 address (got \"10.0.0.300\")")) << p;
  EXPECT_EQ(p.find("servers[1]"), std::string::npos) << p;
  EXPECT_NE(p.find("groups[0].network.dns.searches[0]: must be one word"), std::string::npos) << p;
  EXPECT_NE(p.find("groups[0].network.dns.options[0]: must be one word"), std::string::npos) << p;
  EXPECT_NE(p.find("groups[0].network.dns.nameserver"), std::string::npos) << p;
  EXPECT_NE(p.find("groups[0].tasks[0].resources.network.dns: is set on the group's network block, not a task's"),
            std::string::npos)
      << p;
}

// Nomad's network `hostname` (docs/networking.md, "Hostname"): the same from every format,
// kept only when set (Nomad's omitempty); a name with ${...} waits for the start to be checked.
TEST(Networks, HostnameReadsTheSameFromEveryFormatAndIsCheckedUnlessInterpolated) {
  Job yaml = must_parse(R"(job:
  id: h
  groups:
    - name: g
      network: {mode: bridge, hostname: "web-${NOMAD_ALLOC_INDEX}.svc"}
      tasks: [{name: t, driver: exec, config: {command: /bin/true}}]
)");
  Job hcl = must_parse(R"(job "h" {
  group "g" {
    network {
      mode     = "bridge"
      hostname = "web-${NOMAD_ALLOC_INDEX}.svc"
    }
    task "t" {
      driver = "exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  Job json = must_parse(R"({"Job": {"ID": "h", "TaskGroups": [{"Name": "g",
    "Networks": [{"Mode": "bridge", "Hostname": "web-${NOMAD_ALLOC_INDEX}.svc"}],
    "Tasks": [{"Name": "t", "Driver": "exec", "Config": {"command": "/bin/true"}}]}]}})");
  EXPECT_EQ(yaml.groups.at(0).networks.at(0).hostname, "web-${NOMAD_ALLOC_INDEX}.svc");
  EXPECT_TRUE(hcl == yaml);
  EXPECT_TRUE(json == yaml);
  EXPECT_TRUE(job_from_json(to_json(yaml)) == yaml);
  EXPECT_FALSE(to_json(must_parse(kYaml))["TaskGroups"][0]["Networks"][0].contains("Hostname"));
  auto p = problems_of(R"(job:
  id: h
  groups:
    - name: g
      network: {mode: bridge, hostname: "-bad_name"}
      tasks:
        - name: t
          driver: exec
          config: {command: /bin/true}
          resources: {network: {hostname: x}}
)");
  EXPECT_NE(p.find("groups[0].network.hostname: must be a host name: letters, digits, '-' and '.', at most 63 "
                   "characters, no label empty or starting or ending with '-' (got \"-bad_name\")"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("groups[0].tasks[0].resources.network.hostname: is set on the group's network block"),
            std::string::npos)
      << p;
}

TEST(Networks, BridgeAndNoneModesAreGroupLevelAndBridgeMapsPortsForAnyDriver) {
  // bridge: `to` is the port inside the alloc's namespace, whatever the driver.
  Job ok = must_parse(R"(job:
  id: web
  groups:
    - name: web
      network: {mode: bridge, ports: {http: {to: 8080}}}
      tasks: [{name: t, driver: exec, config: {command: /bin/true}}]
)");
  EXPECT_EQ(ok.groups[0].networks[0].mode, "bridge");
  // A task-level block cannot choose a namespace for the alloc; none has no ports; host mode
  // maps nothing for a non-docker task; cni/ must name a network.
  auto p = problems_of(R"({"Job": {"ID": "web", "TaskGroups": [{"Name": "web",
    "Networks": [{"Mode": "none", "DynamicPorts": [{"Label": "http"}]}],
    "Tasks": [{"Name": "t", "Driver": "exec", "Config": {"command": "/bin/true"},
               "Resources": {"Networks": [{"Mode": "bridge"}]}}]},
    {"Name": "two", "Networks": [{"Mode": "host", "DynamicPorts": [{"Label": "x", "To": 80}]}],
     "Tasks": [{"Name": "t", "Driver": "exec", "Config": {"command": "/bin/true"}}]},
    {"Name": "three", "Networks": [{"Mode": "cni/"}],
     "Tasks": [{"Name": "t", "Driver": "exec", "Config": {"command": "/bin/true"}}]}]}})");
  EXPECT_NE(p.find("Job.TaskGroups[0].Networks[0].ports.http: network mode \"none\" has no ports"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("\"bridge\" networking is set on the group's network block, not a task's"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("maps a port only in network mode \"bridge\" or \"cni/<network>\" or for docker "
                   "tasks"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("Job.TaskGroups[2].Networks[0].Mode: \"cni/\" must name a CNI network after "
                   "\"cni/\""),
            std::string::npos)
      << p;
}

// Mode cni/<name> (docs/networking.md, "CNI networks"): a group's, its `cni { args }` read from
// YAML, HCL and Nomad JSON alike and kept through the job's JSON; `to` maps a port as in
// bridge mode; args in host mode, args that would break CNI_ARGS apart and a task-level cni
// mode are refused, each named.
TEST(Networks, CniModeNamesANetworkAndCarriesItsArgs) {
  Job yaml = must_parse(R"(job:
  id: web
  groups:
    - name: web
      network: {mode: cni/overlay, cni: {args: {tier: gold, K8S_POD_NAMESPACE: web}}, ports: {http: {to: 8080}}}
      tasks: [{name: t, driver: exec, config: {command: /bin/true}}]
)");
  const auto& n = yaml.groups[0].networks[0];
  EXPECT_EQ(n.mode, "cni/overlay");
  EXPECT_EQ(n.cni_args, (std::map<std::string, std::string>{{"K8S_POD_NAMESPACE", "web"}, {"tier", "gold"}}));
  EXPECT_EQ(n.dynamic_ports[0].to, 8080);
  Job hcl = must_parse(R"(job "web" {
  group "web" {
    network {
      mode = "cni/overlay"
      cni {
        args = {
          tier = "gold"
          K8S_POD_NAMESPACE = "web"
        }
      }
      port "http" { to = 8080 }
    }
    task "t" {
      driver = "exec"
      config { command = "/bin/true" }
    }
  }
})");
  EXPECT_EQ(hcl.groups[0].networks[0], n);
  // Nomad's JSON shape, and the canonical JSON read back.
  const auto js = to_json(yaml);
  const auto& net_json = js["TaskGroups"][0]["Networks"][0];
  EXPECT_EQ(net_json["CNI"]["Args"]["tier"], "gold") << net_json.dump();
  EXPECT_EQ(job_from_json(js).groups[0].networks[0], n);
  Job plain = yaml;
  plain.groups[0].networks[0].cni_args.clear();
  EXPECT_FALSE(to_json(plain)["TaskGroups"][0]["Networks"][0].contains("CNI"));  // Nomad's nil

  auto p = problems_of(R"({"Job": {"ID": "web", "TaskGroups": [
    {"Name": "a", "Networks": [{"Mode": "host", "CNI": {"Args": {"x": "1"}}}],
     "Tasks": [{"Name": "t", "Driver": "exec", "Config": {"command": "/bin/true"}}]},
    {"Name": "b", "Networks": [{"Mode": "cni/net", "CNI": {"Args": {"a;b": "1", "c": "x;y", "d": 5}}}],
     "Tasks": [{"Name": "t", "Driver": "exec", "Config": {"command": "/bin/true"},
                "Resources": {"Networks": [{"Mode": "cni/net"}]}}]},
    {"Name": "c", "Networks": [{"Mode": "cni/-bad"}],
     "Tasks": [{"Name": "t", "Driver": "exec", "Config": {"command": "/bin/true"}}]}]}})");
  EXPECT_NE(p.find("Job.TaskGroups[0].Networks[0].CNI.Args: reach the CNI plugins of network mode "
                   "\"bridge\" or \"cni/<network>\" (the mode is \"host\")"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("Job.TaskGroups[1].Networks[0].CNI.Args.a;b: a CNI arg's name must be"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("Job.TaskGroups[1].Networks[0].CNI.Args.c: a CNI arg's value must be printable, "
                   "without ';'"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("Job.TaskGroups[1].Networks[0].CNI.Args.d: must be a string"), std::string::npos)
      << p;
  EXPECT_NE(p.find("\"cni/net\" networking is set on the group's network block, not a task's"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("Job.TaskGroups[2].Networks[0].Mode: \"cni/-bad\" must name a CNI network"),
            std::string::npos)
      << p;
  // An unknown key in the HCL block is named with its line.
  auto h = problems_of("job \"w\" {\n group \"g\" {\n  network {\n   mode = \"cni/x\"\n   cni {\n"
                       "    argz = {}\n   }\n  }\n  task \"t\" {\n   driver = \"exec\"\n"
                       "   config { command = \"/bin/true\" }\n  }\n }\n}\n");
  EXPECT_NE(h.find("argz"), std::string::npos) << h;
  EXPECT_NE(h.find("line 6"), std::string::npos) << h;
}

TEST(Networks, BadPortsAreEachNamed) {
  auto p = problems_of(R"(job:
  id: web
  groups:
    - name: web
      network:
        ports:
          http: {static: 70000}
          "bad label": {}
          app: {to: 8080}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          resources:
            network:
              ports: {http: {}}
          services:
            - name: s
              port: nope
)");
  EXPECT_NE(p.find("groups[0].network.ports.http.static: "), std::string::npos) << p;
  EXPECT_NE(p.find("groups[0].network.ports.bad label: a port label must be"), std::string::npos)
      << p;
  EXPECT_NE(p.find("groups[0].network.ports.app.to: maps a port only in network mode \"bridge\" or "
                   "\"cni/<network>\" or for docker tasks"),
            std::string::npos)
      << p;
  EXPECT_NE(
      p.find("groups[0].tasks[0].resources.network.ports.http: duplicate port label \"http\""),
      std::string::npos)
      << p;
  EXPECT_NE(p.find("groups[0].tasks[0].services[0].port: \"nope\" is not a port label of the "
                   "group's network (labels: app, http)"),
            std::string::npos)
      << p;
}

TEST(Networks, HclNetworkProblemsNameTheLine) {
  auto p = problems_of(R"(job "web" {
  group "web" {
    network {
      mode = "bridge"
      port "http" {}
      port "http" {}
      dns { servers = ["1.1.1.1"] }
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  EXPECT_NE(p.find("port \"http\" block at line 6: appears twice (the first is at line 5)"),
            std::string::npos)
      << p;
  EXPECT_EQ(p.find("dns"), std::string::npos) << "a network's dns block is read: " << p;
}

TEST(Networks, ServicePortsStayLiteralWhenNumbers) {
  Job job = must_parse(R"(job:
  id: web
  groups:
    - name: web
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          services:
            - name: s
              port: "127.0.0.1:8080"
              checks: [{type: tcp, port: "8081"}]
)");
  EXPECT_EQ(job.groups[0].tasks[0].services[0].port, "127.0.0.1:8080");
}

TEST(Networks, AGroupHasAtMost128Ports) {
  std::string ports;
  for (int i = 0; i < 129; ++i) ports += "          p" + std::to_string(i) + ": {}\n";
  auto p = problems_of(
      "job:\n  id: web\n  groups:\n    - name: web\n      network:\n        ports:\n" + ports +
      "      tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]\n");
  EXPECT_TRUE(has_line(p, "groups[0].network: at most 128 ports per group (got 129)")) << p;
}

TEST(Networks, GroupServicesReadTheSameFromEveryFormat) {
  Job hcl = must_parse(R"(job "web" {
  group "web" {
    network {
      port "http" {}
    }
    service {
      name = "web"
      port = "http"
      check {
        type     = "http"
        path     = "/health"
        interval = "5s"
        timeout  = "1s"
      }
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  Job yaml = must_parse(R"(job:
  id: web
  groups:
    - name: web
      network: {ports: {http: {}}}
      services:
        - name: web
          port: http
          checks: [{type: http, path: /health, interval: 5s, timeout: 1s}]
      tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]
)");
  Job json = must_parse(R"({"Job": {"ID": "web", "TaskGroups": [{"Name": "web",
    "Networks": [{"DynamicPorts": [{"Label": "http"}]}],
    "Services": [{"Name": "web", "PortLabel": "http", "Checks": [{"Type": "http",
      "Path": "/health", "Interval": 5000000000, "Timeout": 1000000000}]}],
    "Tasks": [{"Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"}}]}]}})");
  ASSERT_EQ(yaml.groups[0].services.size(), 1u);
  EXPECT_EQ(yaml.groups[0].services[0].port, "http");
  EXPECT_EQ(to_json(hcl).dump(2), to_json(yaml).dump(2));
  EXPECT_EQ(to_json(json).dump(2), to_json(yaml).dump(2));
  EXPECT_TRUE(job_from_json(to_json(yaml)) == yaml);
}

TEST(Networks, AGroupServiceNeedsAKnownLabelAndItsScriptChecksATask) {
  auto p = problems_of(R"(job:
  id: web
  groups:
    - name: web
      network: {ports: {http: {}}}
      services:
        - name: web
          port: htp
          checks:
            - {type: script, command: /bin/true}
            - {type: script, command: /bin/true, task: nope}
            - {type: http, path: /, task: t}
            - {type: script, command: /bin/true, task: t}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          services: [{name: own, checks: [{type: script, command: /bin/true, task: t},
                                          {type: script, command: /bin/true, task: other}]}]
)");
  EXPECT_TRUE(has_line(p,
                       "groups[0].services[0].port: \"htp\" is not a port label of the "
                       "group's network (labels: http)"))
      << p;
  EXPECT_TRUE(has_line(p, "groups[0].services[0].checks[0].task: is required for a script check of a "
                          "group service: the task it runs in"))
      << p;
  EXPECT_TRUE(has_line(p, "groups[0].services[0].checks[1].task: \"nope\" is not a task of group \"web\""))
      << p;
  EXPECT_NE(p.find("groups[0].services[0].checks[2].task: is only for script checks"), std::string::npos) << p;
  EXPECT_EQ(p.find("checks[3]"), std::string::npos) << p;
  // On a task's own service `task` can only be that task, as in Nomad.
  EXPECT_EQ(p.find("groups[0].tasks[0].services[0].checks[0]"), std::string::npos) << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].services[0].checks[1].task: may only name the task "
                          "the check belongs to (\"t\"), got \"other\""))
      << p;
  // The field is Nomad's: `task` in HCL, TaskName in JSON.
  Job hcl = must_parse(R"(job "web" {
  group "web" {
    service {
      name = "web"
      check {
        type    = "script"
        task    = "t"
        command = "/bin/true"
      }
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  EXPECT_EQ(hcl.groups[0].services[0].checks[0].task, "t");
  EXPECT_EQ(to_json(hcl)["TaskGroups"][0]["Services"][0]["Checks"][0]["TaskName"], "t");
}
