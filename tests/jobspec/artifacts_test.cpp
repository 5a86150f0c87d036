// The artifact block in the three job formats (HCL, Nomad JSON, YAML), its canonical JSON, and
// what is refused at submit with the field's path: refused schemes, bad checksums,
// destinations leaving the task dir.
#include <gtest/gtest.h>

#include "jobspec/job.hpp"
#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using nlohmann::json;
using testing::has_line;
using testing::must_parse;
using testing::problems_of;

const std::string kSum = "sha256:" + std::string(64, 'a');

TEST(Artifacts, HclBlockWithOptionsAndHeaders) {
  Job j = must_parse(R"(job "web" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      artifact {
        source      = "https://example.com/app.tar.gz"
        destination = "local/app"
        options {
          checksum = ")" +
                     kSum + R"("
        }
        headers {
          X-Token = "abc"
        }
        chown = true
      }
      artifact {
        source  = "git::https://example.com/repo.git"
        mode    = "dir"
        options = { ref = "v1", depth = 1 }
      }
    }
  }
}
)");
  ASSERT_EQ(j.groups.size(), 1u);
  const auto& arts = j.groups[0].tasks[0].artifacts;
  ASSERT_EQ(arts.size(), 2u);
  EXPECT_EQ(arts[0].source, "https://example.com/app.tar.gz");
  EXPECT_EQ(arts[0].destination, "local/app");
  EXPECT_EQ(arts[0].options.at("checksum"), kSum);
  EXPECT_EQ(arts[0].headers.at("X-Token"), "abc");
  EXPECT_TRUE(arts[0].chown);
  EXPECT_EQ(arts[0].mode, "any");
  EXPECT_EQ(arts[1].mode, "dir");
  EXPECT_EQ(arts[1].destination, "local/");
  EXPECT_EQ(arts[1].options.at("depth"), "1");
  // The canonical JSON carries Nomad's names and reads back to the same job.
  json t = to_json(j)["TaskGroups"][0]["Tasks"][0];
  EXPECT_EQ(t["Artifacts"][0]["GetterSource"], "https://example.com/app.tar.gz");
  EXPECT_EQ(t["Artifacts"][0]["GetterOptions"]["checksum"], kSum);
  EXPECT_EQ(t["Artifacts"][0]["RelativeDest"], "local/app");
  EXPECT_EQ(t["Artifacts"][1]["GetterMode"], "dir");
  EXPECT_EQ(t["Artifacts"][0]["Chown"], true);
  EXPECT_EQ(job_from_json(to_json(j)).groups[0].tasks[0].artifacts, arts);
}

TEST(Artifacts, NomadJsonAsNomadPrintsIt) {
  Job j = must_parse(R"({"Job": {"ID": "web", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
    "Artifacts": [{"GetterSource": "https://example.com/x.zip",
                   "GetterOptions": {"archive": "false"}, "GetterHeaders": null,
                   "GetterMode": "file", "RelativeDest": "local/x.zip", "Chown": false,
                   "GetterInsecure": false}]}]}]}})");
  const auto& a = j.groups[0].tasks[0].artifacts.at(0);
  EXPECT_EQ(a.source, "https://example.com/x.zip");
  EXPECT_EQ(a.options.at("archive"), "false");
  EXPECT_EQ(a.mode, "file");
  EXPECT_EQ(a.destination, "local/x.zip");
}

TEST(Artifacts, Yaml) {
  Job j = must_parse(R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          artifacts:
            - source: https://example.com/app.tgz
              destination: local/app
              options: {checksum: ")" +
                     kSum + R"("}
)");
  const auto& a = j.groups[0].tasks[0].artifacts.at(0);
  EXPECT_EQ(a.source, "https://example.com/app.tgz");
  EXPECT_EQ(a.options.at("checksum"), kSum);
}

TEST(Artifacts, RefusedAtSubmitWithTheFieldPath) {
  std::string p = problems_of(R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          artifacts:
            - source: s3::https://s3.amazonaws.com/bucket/app.tgz
            - source: https://example.com/app.tgz
              options: {checksum: "sha256:abc"}
            - source: https://example.com/app.tgz
              destination: ../../../etc
            - source: https://example.com/app.tgz
              mode: folder
            - source: https://example.com/app.tgz
              options: {chksum: x}
            - destination: local/x
)");
  const std::string t = "groups[0].tasks[0].artifacts";
  EXPECT_TRUE(has_line(p, t + "[0].source: the s3 getter is not supported by drover (it fetches "
                              "http, https, file and git sources)"))
      << p;
  EXPECT_NE(p.find(t + "[1].options.checksum: a sha256 checksum is 64 hex digits"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find(t + "[2].destination: \"../../../etc\" escapes the alloc dir"), std::string::npos)
      << p;
  EXPECT_NE(p.find(t + "[3].mode: \"folder\" is not any, file or dir"), std::string::npos) << p;
  EXPECT_NE(p.find(t + "[4].options.chksum: unknown option"), std::string::npos) << p;
  EXPECT_TRUE(has_line(p, t + "[5].source: is required")) << p;
}

// Nomad's e2e jobs fetch into the shared dir ("../alloc/page.html"); another task's dir, the
// alloc dir itself and a file named by a dir are refused (docs/artifacts.md).
TEST(Artifacts, DestinationInTheSharedAllocDirIsAcceptedAndOtherTasksDirsAreNot) {
  std::string p = problems_of(R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          artifacts:
            - {source: "https://example.com/a", destination: ../alloc/page.html}
            - {source: "https://example.com/b", destination: "${NOMAD_ALLOC_DIR}/b", mode: file}
            - {source: "https://example.com/c", destination: ../other/local}
            - {source: "https://example.com/d", destination: "..", mode: dir}
            - {source: "https://example.com/e", destination: "${NOMAD_ALLOC_DIR}", mode: file}
            - {source: "https://example.com/f", destination: /etc}
)");
  const std::string t = "groups[0].tasks[0].artifacts";
  EXPECT_EQ(p.find(t + "[0]"), std::string::npos) << p;
  EXPECT_EQ(p.find(t + "[1]"), std::string::npos) << p;
  EXPECT_TRUE(has_line(p, t + "[2].destination: \"../other/local\" is neither in the task dir "
                              "nor in the alloc's shared dir (../alloc/..., ${NOMAD_ALLOC_DIR}/...)"))
      << p;
  EXPECT_TRUE(has_line(p, t + "[3].destination: \"..\" is the alloc dir itself")) << p;
  EXPECT_TRUE(has_line(p, t + "[4].destination: with mode \"file\" it names the file to write"))
      << p;
  EXPECT_NE(p.find(t + "[5].destination: \"/etc\" is absolute"), std::string::npos) << p;
}

TEST(Artifacts, NomadJsonProblemsUseNomadNames) {
  std::string p = problems_of(R"({"Job": {"ID": "web", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
    "Artifacts": [{"GetterSource": "hg::https://example.com/repo",
                   "GetterOptions": {"checksum": "md5:12"}, "GetterInsecure": true}]}]}]}})");
  EXPECT_NE(p.find("Job.TaskGroups[0].Tasks[0].Artifacts[0].GetterSource: the hg getter is not "
                   "supported"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("Artifacts[0].GetterInsecure: not supported by drover"), std::string::npos) << p;
}

TEST(Artifacts, HclProblemsNameTheLine) {
  std::string p = problems_of(R"(job "web" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      artifact {
        source = "gcs::https://www.googleapis.com/storage/v1/bucket/x"
      }
      artifact {
        source      = "https://example.com/x"
        destination = "/etc"
        colour      = "red"
      }
    }
  }
}
)");
  EXPECT_NE(p.find("line 7"), std::string::npos) << p;
  EXPECT_NE(p.find("the gcs getter is not supported"), std::string::npos) << p;
  EXPECT_NE(p.find("line 11"), std::string::npos) << p;
  EXPECT_NE(p.find("is absolute"), std::string::npos) << p;
  EXPECT_NE(p.find("colour"), std::string::npos) << p;
}

}  // namespace
}  // namespace drover::jobspec
