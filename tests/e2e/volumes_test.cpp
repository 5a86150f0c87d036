// Host volumes through the agent (docs/jobspec.md, "volumes"): the agent config's host_volume
// in the Node JSON, a read-only volume bound into a real exec task (runc), a writable one, and
// the refusals before anything runs: a volume the node lacks (409), a writable mount of a
// read-only host volume (409), a mount into raw_exec (400).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::make_temp_dir;
using nlohmann::json;

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A job whose group declares `volumes` and whose one task (driver `driver`) mounts them.
std::string volume_job(const std::string& id, const std::string& driver, const std::string& volumes,
                       const std::string& mounts, const std::string& script) {
  return "job:\n  id: " + id + "\n  type: batch\n  groups:\n    - name: g\n"
         "      restart: {attempts: 0, mode: fail}\n      volumes: " + volumes + "\n"
         "      tasks:\n        - name: t\n          driver: " + driver + "\n"
         "          resources: {memory: 64}\n          volume_mounts: " + mounts + "\n"
         "          config:\n            command: /bin/sh\n            args: [\"-c\", \"" + script +
         "\"]\n";
}

}  // namespace

class HostVolumes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "exec needs root";
    shared_ = make_temp_dir("drover-hv-shared");
    scratch_ = make_temp_dir("drover-hv-scratch");
    std::ofstream(shared_ + "/motd") << "from the host\n";
    // exec tasks run as nobody: the volumes' own modes decide what they may do, as on a host.
    namespace stdfs = std::filesystem;
    stdfs::permissions(shared_, stdfs::perms::owner_all | stdfs::perms::group_read |
                                    stdfs::perms::group_exec | stdfs::perms::others_read |
                                    stdfs::perms::others_exec);
    stdfs::permissions(shared_ + "/motd", stdfs::perms::owner_read | stdfs::perms::owner_write |
                                              stdfs::perms::group_read | stdfs::perms::others_read);
    stdfs::permissions(scratch_, stdfs::perms::all);
    AgentProcess::Options o;
    o.config_yaml = "host_volume:\n  shared: {path: " + shared_ + ", read_only: true}\n"
                    "  scratch: {path: " + scratch_ + "}\n";
    agent_ = AgentProcess::start(o);
    auto node = agent_->get("/v1/node").json();
    if (!node["Drivers"].contains("exec") || !node["Drivers"]["exec"].value("Healthy", false))
      GTEST_SKIP() << "exec driver not healthy here";
  }
  void TearDown() override {
    agent_.reset();
    std::filesystem::remove_all(shared_);
    std::filesystem::remove_all(scratch_);
  }
  std::string shared_, scratch_;
  std::unique_ptr<AgentProcess> agent_;
};

TEST_F(HostVolumes, NodeJsonListsTheConfiguredVolumes) {
  auto node = agent_->get("/v1/node").json();
  EXPECT_EQ(node["HostVolumes"]["shared"]["Path"], shared_) << node["HostVolumes"].dump();
  EXPECT_EQ(node["HostVolumes"]["shared"]["ReadOnly"], true);
  EXPECT_EQ(node["HostVolumes"]["scratch"]["ReadOnly"], false);
  EXPECT_EQ(node["Drivers"]["exec"]["Capabilities"]["MountConfigs"], "all");
  EXPECT_EQ(node["Drivers"]["raw_exec"]["Capabilities"]["MountConfigs"], "none");
}

TEST_F(HostVolumes, ExecTaskReadsAReadOnlyVolumeAndWritesAWritableOne) {
  auto ids = agent_->submit(volume_job(
      "hv", "exec",
      "{cfg: {source: shared, read_only: true}, out: {source: scratch}}",
      "[{volume: cfg, destination: /srv/app}, {volume: out, destination: /srv/out}]",
      "cat /srv/app/motd; touch /srv/app/x 2>/dev/null && echo cfg-writable || echo cfg-readonly; "
      "echo written-by-task > /srv/out/result && echo out-ok"));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent_->wait_client_status(ids[0], "complete", std::chrono::seconds(60));
  EXPECT_EQ(agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body,
            "from the host\ncfg-readonly\nout-ok\n")
      << a.dump(2);
  EXPECT_EQ(read_file(scratch_ + "/result"), "written-by-task\n");
  EXPECT_FALSE(std::filesystem::exists(shared_ + "/x"));
}

// Nomad's jobs mount at "${NOMAD_TASK_DIR}/x": interpolated with the task's env at start, so
// inside an exec task it is /local/x; a destination that interpolates to something relative
// fails the start naming it (docs/jobspec.md, "volumes").
TEST_F(HostVolumes, ADestinationWithTheTaskDirVariableIsMountedThere) {
  auto ids = agent_->submit(volume_job("hvvar", "exec", "{cfg: {source: shared, read_only: true}}",
                                       "[{volume: cfg, destination: \"${NOMAD_TASK_DIR}/cfg\"}]",
                                       "cat /local/cfg/motd"));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent_->wait_client_status(ids[0], "complete", std::chrono::seconds(60));
  EXPECT_EQ(agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body, "from the host\n")
      << a.dump(2);

  auto bad = agent_->submit(volume_job("hvrel", "exec", "{cfg: {source: shared, read_only: true}}",
                                       "[{volume: cfg, destination: \"${NOMAD_META_none}/cfg\"}]",
                                       "true"));
  ASSERT_EQ(bad.size(), 1u);
  auto b = agent_->wait_client_status(bad[0], "failed", std::chrono::seconds(60));
  EXPECT_NE(b.dump().find("destination \\\"${NOMAD_META_none}/cfg\\\" must be an absolute path"),
            std::string::npos)
      << b.dump(2);
}

TEST_F(HostVolumes, AVolumeMountMarkedReadOnlyIsReadOnlyOnAWritableHostVolume) {
  auto ids = agent_->submit(volume_job(
      "hvro", "exec", "{out: {source: scratch}}",
      "[{volume: out, destination: /srv/out, read_only: true}]",
      "touch /srv/out/x 2>/dev/null && echo writable || echo readonly"));
  agent_->wait_client_status(ids[0], "complete", std::chrono::seconds(60));
  EXPECT_EQ(agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body, "readonly\n");
  EXPECT_FALSE(std::filesystem::exists(scratch_ + "/x"));
}

TEST_F(HostVolumes, AVolumeTheNodeLacksIsA409NamingItAndNothingRuns) {
  auto r = agent_->post("/v1/jobs", volume_job("hvmiss", "exec", "{d: {source: nosuch}}",
                                               "[{volume: d, destination: /d}]", "true"));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("groups[0].volumes.d.source: host volume \\\"nosuch\\\" is not on this node "
                        "(its host volumes: scratch, shared)"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(agent_->get("/v1/job/hvmiss").status, 404);
}

TEST_F(HostVolumes, AWritableVolumeOfAReadOnlyHostVolumeIsA409) {
  auto r = agent_->post("/v1/jobs", volume_job("hvrw", "exec", "{d: {source: shared}}",
                                               "[{volume: d, destination: /d}]", "true"));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("is read-only on this node: the volume needs read_only = true"),
            std::string::npos)
      << r.body;
}

// access_mode single-node-single-writer (docs/volumes.md, "Access modes"): one job writes at
// a time, refused with 409 naming the volume while another writes; readers share it.
TEST_F(HostVolumes, ASingleWriterVolumeTakesOneWritingJobAtATimeAndReadersBesideIt) {
  auto job = [](const std::string& id, bool read_only, const std::string& script) {
    return volume_job(id, "exec",
                      std::string("{out: {source: scratch, access_mode: single-node-single-writer") +
                          (read_only ? ", read_only: true" : "") + "}}",
                      "[{volume: out, destination: /srv/out}]", script);
  };
  auto first = agent_->submit(job("w1", false, "sleep 300"));
  ASSERT_EQ(first.size(), 1u);
  auto second = agent_->post("/v1/jobs", job("w2", false, "true"));
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_NE(second.body.find("host volume \\\"scratch\\\": single-node-single-writer takes one "
                             "writer at a time; 1 asked, 1 writing"),
            std::string::npos)
      << second.body;
  EXPECT_EQ(agent_->get("/v1/job/w2").status, 404) << "refused before anything ran";
  auto reader = agent_->post("/v1/jobs", job("r1", true, "true"));
  EXPECT_EQ(reader.status, 200) << reader.body;
  // Two writers in one job are refused alike.
  std::string pair = job("w3", false, "true");
  pair.replace(pair.find("    - name: g\n"), 14, "    - name: g\n      count: 2\n");
  auto both = agent_->post("/v1/jobs", pair);
  EXPECT_EQ(both.status, 409) << both.body;
  // Once the writer is gone, the next one is taken.
  ASSERT_EQ(agent_->del("/v1/job/w1").status, 200);
  EXPECT_TRUE(drover::testing::eventually(
      [&] { return agent_->post("/v1/jobs", job("w2", false, "true")).status == 200; },
      std::chrono::seconds(60)))
      << agent_->log();
}

TEST_F(HostVolumes, RawExecCannotMountAVolumeAndSaysWhy) {
  auto r = agent_->post("/v1/jobs", volume_job("hvraw", "raw_exec", "{d: {source: scratch}}",
                                               "[{volume: d, destination: /d}]", "true"));
  EXPECT_EQ(r.status, 400) << r.body;
  auto problems = json::parse(r.body)["problems"];
  ASSERT_EQ(problems.size(), 1u) << r.body;
  EXPECT_EQ(problems[0]["path"], "groups[0].tasks[0].volume_mounts");
  EXPECT_EQ(problems[0]["message"],
            "driver \"raw_exec\" runs tasks in the host's filesystem and cannot mount volumes (its "
            "MountConfigs capability is none): use exec or docker");
}

TEST(HostVolumeConfig, AMissingPathStopsTheAgentNamingTheVolume) {
  const std::string dir = make_temp_dir("drover-hv-cfg");
  std::ofstream(dir + "/agent.yaml") << "host_volume:\n  data: {path: /nonexistent/drover-hv}\n";
  auto out = drover::testing::run_drover({"config", "validate", dir + "/agent.yaml"}, "");
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE((out.out + out.err).find("host_volume.data.path: /nonexistent/drover-hv: No such file or directory"),
            std::string::npos)
      << out.out << out.err;
  std::filesystem::remove_all(dir);
}

namespace {

// A service job whose task prints what the alloc's data and its local/ hold, then appends its
// version to both, and sleeps.
std::string sticky_job(const std::string& version, bool sticky) {
  return "job:\n  id: sticky\n  groups:\n    - name: g\n"
         "      ephemeral_disk: {sticky: " + std::string(sticky ? "true" : "false") + "}\n"
         "      tasks:\n        - name: t\n          driver: raw_exec\n"
         "          kill_timeout: 1s\n          env: {V: " + version + "}\n"
         "          config:\n            command: /bin/sh\n            args: [\"-c\", \""
         "echo data: $(cat $NOMAD_ALLOC_DIR/data/log 2>/dev/null); "
         "echo local: $(cat $NOMAD_TASK_DIR/mine 2>/dev/null); "
         "echo $V >> $NOMAD_ALLOC_DIR/data/log; echo $V >> $NOMAD_TASK_DIR/mine; "
         "exec sleep 1000\"]\n";
}

std::string first_lines(const AgentProcess& a, const std::string& alloc, int n) {
  std::string log;
  drover::testing::eventually(
      [&] {
        log = a.get("/v1/client/fs/logs/" + alloc + "?task=t").body;
        return std::count(log.begin(), log.end(), '\n') >= n;
      },
      std::chrono::seconds(20));
  return log;
}

}  // namespace

TEST(EphemeralDisk, AStickyDiskIsTakenOverByTheReplacementAlloc) {
  auto agent = AgentProcess::start();
  auto v1 = agent->submit(sticky_job("one", true));
  ASSERT_EQ(v1.size(), 1u);
  agent->wait_client_status(v1[0], "running");
  EXPECT_EQ(first_lines(*agent, v1[0], 2), "data:\nlocal:\n");
  auto v2 = agent->submit(sticky_job("two", true));
  ASSERT_EQ(v2.size(), 1u);
  ASSERT_NE(v2[0], v1[0]);
  auto a = agent->wait_client_status(v2[0], "running", std::chrono::seconds(30));
  EXPECT_EQ(a["PreviousAllocation"], v1[0]);
  // The new alloc starts only once the old one has stopped, with the old one's files.
  EXPECT_NE(agent->alloc(v1[0])["ClientStatus"], "running");
  EXPECT_EQ(first_lines(*agent, v2[0], 2), "data: one\nlocal: one\n");
  ASSERT_EQ(agent->del("/v1/job/sticky").status, 200);
  agent->wait_client_status(v2[0], "complete", std::chrono::seconds(30));
}

TEST(EphemeralDisk, WithoutStickyTheReplacementStartsEmpty) {
  auto agent = AgentProcess::start();
  auto v1 = agent->submit(sticky_job("one", false));
  agent->wait_client_status(v1[0], "running");
  EXPECT_EQ(first_lines(*agent, v1[0], 2), "data:\nlocal:\n");
  auto v2 = agent->submit(sticky_job("two", false));
  auto a = agent->wait_client_status(v2[0], "running", std::chrono::seconds(30));
  EXPECT_EQ(a["PreviousAllocation"], v1[0]);
  EXPECT_EQ(first_lines(*agent, v2[0], 2), "data:\nlocal:\n");
  ASSERT_EQ(agent->del("/v1/job/sticky").status, 200);
  agent->wait_client_status(v2[0], "complete", std::chrono::seconds(30));
}

TEST(EphemeralDisk, AnAllocOverItsDiskSizeIsFailedWithDiskResourcesExceeded) {
  AgentProcess::Options o;
  o.config_yaml = "gc_interval: 1s\n";
  auto agent = AgentProcess::start(o);
  auto ids = agent->submit(
      "job:\n  id: disk\n  groups:\n    - name: g\n      ephemeral_disk: {size: 8}\n"
      "      restart: {attempts: 0, mode: fail}\n"
      "      tasks:\n        - name: t\n          driver: raw_exec\n          kill_timeout: 1s\n"
      "          logs: {max_files: 2, max_file_size: 1}\n"
      "          config:\n            command: /bin/sh\n            args: [\"-c\", \""
      "head -c 16000000 /dev/urandom > $NOMAD_ALLOC_DIR/data/big; exec sleep 1000\"]\n");
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "failed", std::chrono::seconds(30));
  bool saw = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"])
    saw |= e["Type"] == "Disk Resources Exceeded" &&
           e.value("DisplayMessage", e.value("Message", "")).find("above its ephemeral_disk size of 8 MB") !=
               std::string::npos;
  EXPECT_TRUE(saw) << a.dump(2);
  EXPECT_EQ(a["TaskStates"]["t"]["Failed"], true);
}
