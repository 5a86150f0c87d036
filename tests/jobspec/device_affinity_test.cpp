// A device request's affinities (Nomad's `device "nvidia/gpu" { affinity { ... } }`): read
// alike from HCL, YAML and Nomad's JSON, kept through the job's JSON, and checked as every
// affinity is (docs/devices.md).
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using testing::has_line;
using testing::must_parse;
using testing::problems_of;

const Affinity kH100{"${device.model}", "=", "H100", 70};
const Affinity kSmall{"${device.attr.memory}", "<", "60 GiB", -20};

// A YAML job of one task whose resources.devices is `devices` (its list items, indented).
std::string yaml_job(const std::string& devices) {
  return R"(job:
  id: train
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          resources:
            devices:
)" + devices;
}

// An HCL job of one task whose `device "nvidia/gpu"` block holds `body` (from line 8 on).
std::string hcl_job(const std::string& body) {
  return R"(job "train" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      resources {
        device "nvidia/gpu" {
)" + body + R"(        }
      }
    }
  }
}
)";
}

const DeviceRequest& only_device(const Job& j) { return j.groups.at(0).tasks.at(0).resources.devices.at(0); }

TEST(DeviceAffinity, HclYamlAndNomadJsonGiveTheSameRequest) {
  const Job hcl = must_parse(hcl_job(R"(          count = 2
          constraint {
            attribute = "${device.attr.memory}"
            operator  = ">="
            value     = "40 GiB"
          }
          affinity {
            attribute = "${device.model}"
            value     = "H100"
            weight    = 70
          }
          affinity {
            attribute = "${device.attr.memory}"
            operator  = "<"
            value     = "60 GiB"
            weight    = -20
          }
)"));
  const Job yaml = must_parse(yaml_job(R"(              - name: nvidia/gpu
                count: 2
                constraints:
                  - {attribute: "${device.attr.memory}", operator: ">=", value: 40 GiB}
                affinities:
                  - {attribute: "${device.model}", value: H100, weight: 70}
                  - {attribute: "${device.attr.memory}", operator: "<", value: 60 GiB, weight: -20}
)"));
  const Job json = must_parse(R"({"Job": {"ID": "train", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
    "Resources": {"Devices": [{"Name": "nvidia/gpu", "Count": 2,
      "Constraints": [{"LTarget": "${device.attr.memory}", "Operand": ">=", "RTarget": "40 GiB"}],
      "Affinities": [{"LTarget": "${device.model}", "RTarget": "H100", "Operand": "=", "Weight": 70},
                     {"LTarget": "${device.attr.memory}", "Operand": "<", "RTarget": "60 GiB",
                      "Weight": -20}]}]}}]}]}})");
  for (const Job* j : {&hcl, &yaml, &json}) {
    const auto& d = only_device(*j);
    EXPECT_EQ(d.name, "nvidia/gpu");
    EXPECT_EQ(d.count, 2);
    EXPECT_EQ(d.affinities, (std::vector<Affinity>{kH100, kSmall}));
    EXPECT_EQ(d.constraints.size(), 1u);
  }
  // Kept through the job's JSON (the store, the server's records), in Nomad's shape.
  const nlohmann::json doc = to_json(yaml);
  const auto& dev = doc["TaskGroups"][0]["Tasks"][0]["Resources"]["Devices"][0];
  EXPECT_EQ(dev["Affinities"][0]["LTarget"], "${device.model}");
  EXPECT_EQ(dev["Affinities"][1]["Weight"], -20);
  EXPECT_EQ(job_from_json(doc), yaml);
  // None: Nomad's null.
  const Job plain = must_parse(yaml_job("              - name: gpu\n"));
  EXPECT_TRUE(to_json(plain)["TaskGroups"][0]["Tasks"][0]["Resources"]["Devices"][0]["Affinities"]
                  .is_null());
}

TEST(DeviceAffinity, AWeightOfZeroOrAnUnknownOperatorIsRefusedByItsPath) {
  const std::string p = problems_of(yaml_job(R"(              - name: nvidia/gpu
                affinities:
                  - {attribute: "${device.model}", value: H100, weight: 0}
                  - {attribute: "${device.model}", operator: is_set, weight: 10}
                  - {attribute: "${device.model}", value: H100, weight: 200}
)"));
  const std::string at = "groups[0].tasks[0].resources.devices[0].affinities";
  EXPECT_TRUE(has_line(p, at + "[0].weight: must not be 0")) << p;
  EXPECT_NE(p.find(at + "[1].operator: unknown operator \"is_set\""), std::string::npos) << p;
  EXPECT_NE(p.find(at + "[2].weight: "), std::string::npos) << p;
  // A misspelt block in an HCL device block is named, with what was meant.
  const std::string hcl = problems_of(hcl_job(R"(          affinty { attribute = "${device.model}" }
)"));
  EXPECT_NE(hcl.find("affinty block at line 8"), std::string::npos) << hcl;
  EXPECT_NE(hcl.find("\"affinity\""), std::string::npos) << hcl;
}

}  // namespace
}  // namespace drover::jobspec
