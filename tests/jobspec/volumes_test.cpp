// Volumes and ephemeral_disk (docs/jobspec.md, "volumes"): the same job from YAML, Nomad JSON
// and HCL, a canonical JSON that round-trips, and the refusals a user meets.
#include <gtest/gtest.h>

#include "test_util.hpp"

using namespace drover::jobspec;
using drover::jobspec::testing::has_line;
using drover::jobspec::testing::must_parse;
using drover::jobspec::testing::problems_of;

namespace {

const char* kYaml = R"(job:
  id: db
  groups:
    - name: db
      volumes:
        data: {type: host, source: pgdata}
        certs: {source: tls, read_only: true}
      ephemeral_disk: {size: 500, sticky: true, migrate: true}
      tasks:
        - name: server
          driver: exec
          config: {command: /bin/true}
          volume_mounts:
            - {volume: data, destination: /var/lib/db}
            - {volume: certs, destination: /etc/tls, read_only: true}
)";

const char* kHcl = R"(job "db" {
  group "db" {
    volume "data" {
      type   = "host"
      source = "pgdata"
    }
    volume "certs" {
      type      = "host"
      source    = "tls"
      read_only = true
    }
    ephemeral_disk {
      size    = 500
      sticky  = true
      migrate = true
    }
    task "server" {
      driver = "exec"
      config { command = "/bin/true" }
      volume_mount {
        volume      = "data"
        destination = "/var/lib/db"
      }
      volume_mount {
        volume      = "certs"
        destination = "/etc/tls"
        read_only   = true
      }
    }
  }
}
)";

// What `nomad job run -output` prints for the HCL above (abridged to what drover reads).
const char* kNomadJson = R"({"Job": {"ID": "db", "TaskGroups": [{"Name": "db",
  "EphemeralDisk": {"Sticky": true, "SizeMB": 500, "Migrate": true},
  "Volumes": {
    "certs": {"Name": "certs", "Type": "host", "Source": "tls", "ReadOnly": true,
              "AccessMode": "", "AttachmentMode": "", "MountOptions": null, "PerAlloc": false},
    "data": {"Name": "data", "Type": "host", "Source": "pgdata", "ReadOnly": false,
             "AccessMode": "", "AttachmentMode": "", "MountOptions": null, "PerAlloc": false}},
  "Tasks": [{"Name": "server", "Driver": "exec", "Config": {"command": "/bin/true"},
    "VolumeMounts": [
      {"Volume": "data", "Destination": "/var/lib/db", "ReadOnly": false,
       "PropagationMode": "private", "SELinuxLabel": ""},
      {"Volume": "certs", "Destination": "/etc/tls", "ReadOnly": true,
       "PropagationMode": "private", "SELinuxLabel": ""}]}]}]}})";

}  // namespace

TEST(Volumes, YamlHclAndNomadJsonGiveTheSameJob) {
  Job yaml = must_parse(kYaml);
  Job hcl = must_parse(kHcl);
  Job json = must_parse(kNomadJson);
  const auto& g = yaml.groups.at(0);
  ASSERT_EQ(g.volumes.size(), 2u);
  EXPECT_EQ(g.volumes[0], (VolumeRequest{"certs", "host", "tls", true}));
  EXPECT_EQ(g.volumes[1], (VolumeRequest{"data", "host", "pgdata", false}));
  EXPECT_EQ(g.ephemeral_disk, (EphemeralDisk{500, true, true}));
  const auto& m = g.tasks.at(0).volume_mounts;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], (VolumeMount{"data", "/var/lib/db", false, "private"}));
  EXPECT_EQ(m[1], (VolumeMount{"certs", "/etc/tls", true, "private"}));
  EXPECT_EQ(to_json(yaml).dump(2), to_json(hcl).dump(2));
  EXPECT_EQ(to_json(yaml).dump(2), to_json(json).dump(2));
}

TEST(Volumes, CanonicalJsonIsNomadsShapeAndRoundTrips) {
  Job job = must_parse(kYaml);
  auto j = to_json(job);
  EXPECT_EQ(j["TaskGroups"][0]["Volumes"]["data"]["Source"], "pgdata");
  EXPECT_EQ(j["TaskGroups"][0]["EphemeralDisk"]["SizeMB"], 500);
  EXPECT_EQ(j["TaskGroups"][0]["Tasks"][0]["VolumeMounts"][1]["Destination"], "/etc/tls");
  EXPECT_TRUE(job_from_json(j) == job);
  Job again = must_parse(nlohmann::json{{"Job", j}}.dump());
  EXPECT_TRUE(again == job);
}

TEST(Volumes, EphemeralDiskDefaultsAreNomads) {
  Job job = must_parse(R"(job:
  id: x
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]}]
)");
  EXPECT_EQ(job.groups[0].ephemeral_disk, (EphemeralDisk{300, false, false}));
}

TEST(Volumes, CsiUnknownVolumesAndBadDestinationsAreRefusedNamingTheField) {
  auto p = problems_of(R"(job:
  id: db
  groups:
    - name: db
      volumes:
        fast: {type: csi, source: ebs}
        nosrc: {type: host}
        odd: {type: nfs, source: x}
      tasks:
        - name: t
          driver: exec
          config: {command: /bin/true}
          volume_mounts:
            - {volume: missing, destination: /data}
            - {volume: nosrc, destination: relative/path}
            - {volume: nosrc, destination: /a/../../etc}
            - {volume: odd, destination: /b, propagation_mode: bidirectional}
)");
  EXPECT_TRUE(has_line(p, "groups[0].volumes.fast.type: csi volumes need a CSI plugin and Nomad's "
                          "servers: not supported by drover (use a host volume: type = \"host\" "
                          "and an agent host_volume)"))
      << p;
  EXPECT_TRUE(has_line(p, "groups[0].volumes.nosrc.source: is required: the name of a host_volume "
                          "in the agent's config"))
      << p;
  EXPECT_TRUE(has_line(p, "groups[0].volumes.odd.type: must be \"host\" (got \"nfs\")")) << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].volume_mounts[0].volume: the group has no volume "
                          "\"missing\""))
      << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].volume_mounts[1].destination: must be an absolute "
                          "path inside the task (got \"relative/path\")"))
      << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].volume_mounts[2].destination: must be a plain "
                          "absolute path below / without \"..\""))
      << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].volume_mounts[3].propagation_mode: must be "
                          "\"private\" (host-to-task and bidirectional are not supported yet)"))
      << p;
}

TEST(Volumes, NomadJsonProblemsUseNomadsNames) {
  auto p = problems_of(R"({"Job": {"ID": "db", "TaskGroups": [{"Name": "db",
    "Volumes": {"v": {"Type": "csi", "Source": "ebs", "PerAlloc": true}},
    "EphemeralDisk": {"SizeMB": -1},
    "Tasks": [{"Name": "t", "Driver": "exec", "Config": {"command": "/bin/true"},
      "VolumeMounts": [{"Volume": "w", "Destination": "/x"}]}]}]}})");
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Volumes.v.PerAlloc: per_alloc names a volume per "
                          "alloc index, a CSI feature: not supported by drover"))
      << p;
}

TEST(Volumes, HclVolumeOutsideAGroupSaysWhereItBelongs) {
  auto p = problems_of(R"(job "x" {
  group "g" {
    task "t" {
      driver = "exec"
      config { command = "/bin/true" }
      volume "v" { source = "s" }
    }
  }
}
)");
  EXPECT_NE(p.find("belongs in a group (a task mounts it with volume_mount)"), std::string::npos)
      << p;
}

TEST(Volumes, LogStorageMustFitInTheEphemeralDiskAsNomadRequires) {
  auto p = problems_of(R"(job:
  id: x
  groups:
    - name: g
      ephemeral_disk: {size: 50}
      tasks:
        - {name: t, driver: raw_exec, config: {command: /bin/true}, logs: {max_files: 5, max_file_size: 10}}
)");
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].logs: log storage (50 MB: max_files x max_file_size) "
                          "must be less than the group's ephemeral_disk size (50 MB)"))
      << p;
}

// A dynamic host volume's fields (docs/volumes.md): sticky and the access and attachment
// modes, alike from HCL and YAML, kept in the job JSON, and an unknown mode refused by name.
TEST(Volumes, StickyAndTheModesOfADynamicVolumeAreReadAndChecked) {
  Job h = must_parse(R"(job "db" {
  group "g" {
    volume "data" {
      type            = "host"
      source          = "pgdata"
      sticky          = true
      access_mode     = "single-node-writer"
      attachment_mode = "file-system"
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  ASSERT_EQ(h.groups.at(0).volumes.size(), 1u);
  const auto& v = h.groups[0].volumes[0];
  EXPECT_TRUE(v.sticky);
  EXPECT_EQ(v.access_mode, "single-node-writer");
  EXPECT_EQ(v.attachment_mode, "file-system");
  EXPECT_EQ(job_from_json(to_json(h)), h);
  Job y = must_parse(R"(job:
  id: db
  groups:
    - name: g
      volumes:
        data: {source: pgdata, sticky: true, access_mode: single-node-writer, attachment_mode: file-system}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)");
  EXPECT_EQ(y.groups.at(0).volumes, h.groups[0].volumes);
  auto p = problems_of(R"(job:
  id: db
  groups:
    - name: g
      volumes:
        data: {source: pgdata, access_mode: multi-node-multi-writer}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)");
  EXPECT_NE(p.find("groups[0].volumes.data.access_mode: must be single-node-reader-only"),
            std::string::npos)
      << p;
}
