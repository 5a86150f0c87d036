// Dynamic host volumes through the agent and the CLI (docs/volumes.md): `volume create` from
// Nomad's specification file, the volume in the Node JSON, a real exec task (runc) writing
// into it, a delete refused while an alloc mounts it, the volume kept across an agent restart,
// and a job asking an access mode the volume does not offer refused before anything runs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent_process.hpp"
#include "test_files.hpp"

using drover::testing::AgentProcess;
using drover::testing::make_temp_dir;
using nlohmann::json;

namespace {

// A Nomad job file whose exec task mounts the host volume "data" at /data and runs `script`.
std::string data_job(const std::string& id, const std::string& access_mode,
                     const std::string& script) {
  return "job \"" + id + "\" {\n  type = \"batch\"\n  group \"g\" {\n"
         "    restart {\n      attempts = 0\n      mode = \"fail\"\n    }\n"
         "    volume \"data\" {\n      type        = \"host\"\n      source      = \"data\"\n"
         "      sticky      = true\n      access_mode = \"" + access_mode + "\"\n    }\n"
         "    task \"t\" {\n      driver = \"exec\"\n      config {\n"
         "        command = \"/bin/sh\"\n        args    = [\"-c\", \"" + script + "\"]\n      }\n"
         "      volume_mount {\n        volume      = \"data\"\n        destination = \"/data\"\n"
         "      }\n      resources {\n        memory = 64\n      }\n    }\n  }\n}\n";
}

}  // namespace

TEST(DynamicHostVolumes, CreatedFromASpecMountedByAnExecTaskAndKeptAcrossARestart) {
  if (geteuid() != 0) GTEST_SKIP() << "exec needs root";
  const std::string dir = make_temp_dir("drover-dhv-e2e");
  AgentProcess::Options o;
  o.data_dir = dir + "/data";
  auto agent = AgentProcess::start(o);
  auto node = agent->get("/v1/node").json();
  if (!node["Drivers"].contains("exec") || !node["Drivers"]["exec"].value("Healthy", false))
    GTEST_SKIP() << "exec driver not healthy here";

  // Nomad's specification; exec tasks run as nobody, so the mode lets them write.
  std::ofstream(dir + "/data.volume.hcl") << "name      = \"data\"\ntype      = \"host\"\n"
                                             "plugin_id = \"mkdir\"\n"
                                             "capability {\n  access_mode     = \"single-node-writer\"\n"
                                             "  attachment_mode = \"file-system\"\n}\n"
                                             "parameters {\n  mode = \"0777\"\n}\n";
  auto created = agent->cli({"volume", "create", dir + "/data.volume.hcl"});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  EXPECT_NE(created.out.find("Created host volume \"data\" with ID "), std::string::npos);
  node = agent->get("/v1/node").json();
  const json hv = node["HostVolumes"]["data"];
  ASSERT_TRUE(hv.is_object()) << node["HostVolumes"].dump();
  EXPECT_EQ(hv["PluginID"], "mkdir") << "what a server's volume list shows of it";
  EXPECT_EQ(hv["Namespace"], "default");
  const std::string id = hv.value("ID", "");
  const std::string path = hv.value("Path", "");
  EXPECT_EQ(path, dir + "/data/host_volumes/" + id);

  // A task writes into it; while it runs, the volume is not deleted.
  std::ofstream(dir + "/writer.nomad.hcl")
      << data_job("writer", "single-node-writer", "echo kept > /data/out; sleep 300");
  auto run = agent->cli({"job", "run", "-detach", dir + "/writer.nomad.hcl"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  ASSERT_TRUE(drover::testing::eventually([&] { return drover::test_support::slurp(path + "/out") == "kept\n"; },
                                          std::chrono::seconds(60)))
      << agent->log();
  auto refused = agent->cli({"volume", "delete", "data"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("host volume \"data\" is in use by alloc"), std::string::npos)
      << refused.err;
  auto status = agent->cli({"volume", "status", id.substr(0, 8)});
  EXPECT_NE(status.out.find("writer  g           running"), std::string::npos) << status.out;

  // A job asking what the volume does not offer is refused, naming the field.
  std::ofstream(dir + "/reader.nomad.hcl") << data_job("reader", "single-node-reader-only", "true");
  auto reader = agent->cli({"job", "run", "-detach", dir + "/reader.nomad.hcl"});
  EXPECT_NE(reader.exit_code, 0);
  EXPECT_NE((reader.out + reader.err).find("Volumes.data.AccessMode: host volume \"data\" does not offer access mode \"single-node-reader-only\""),
            std::string::npos)
      << reader.out << reader.err;

  ASSERT_EQ(agent->cli({"job", "stop", "writer"}).exit_code, 0);
  agent.reset();
  agent = AgentProcess::start(o);
  auto list = agent->cli({"volume", "status"});
  EXPECT_NE(list.out.find(id), std::string::npos) << "kept across the restart: " << list.out;
  auto deleted = agent->cli({"volume", "delete", "data"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(agent->get("/v1/node").json()["HostVolumes"].contains("data"));
  agent.reset();
  std::filesystem::remove_all(dir);
}

// A volume's constraint blocks are judged on the node as it is now (node meta applied since
// the agent started included), as a job's are: unmet, the create is refused naming the block
// and this node's value, and nothing is made.
TEST(DynamicHostVolumes, ConstraintsAreJudgedOnTheNodeAsItIsNow) {
  const std::string dir = make_temp_dir("drover-dhv-constraints");
  AgentProcess::Options o;
  o.data_dir = dir + "/data";
  auto agent = AgentProcess::start(o);
  ASSERT_EQ(agent->cli({"node", "meta", "apply", "rack=r1"}).exit_code, 0);
  auto spec = [&](const std::string& rack) {
    const std::string path = dir + "/" + rack + ".volume.hcl";
    std::ofstream(path) << "name = \"scratch-" + rack + "\"\ntype = \"host\"\n"
                           "constraint {\n  attribute = \"${meta.rack}\"\n  value     = \"" + rack +
                               "\"\n}\n";
    return path;
  };
  auto refused = agent->cli({"volume", "create", spec("r2")});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("Volume.Constraints[0]: constraint \"${meta.rack} = r2\" is not met: "
                             "this node's ${meta.rack} is \"r1\""),
            std::string::npos)
      << refused.err;
  EXPECT_FALSE(agent->get("/v1/node").json()["HostVolumes"].contains("scratch-r2"));

  auto made = agent->cli({"volume", "create", spec("r1")});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto status = agent->cli({"volume", "status", "scratch-r1"});
  EXPECT_NE(status.out.find("Constraints"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("${meta.rack}"), std::string::npos) << status.out;
  ASSERT_EQ(agent->cli({"volume", "delete", "scratch-r1"}).exit_code, 0);
  agent.reset();
  std::filesystem::remove_all(dir);
}
