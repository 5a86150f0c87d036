// `drover volume create|register|status|delete` against a fake agent: Nomad's volume
// specification (the shipped example) read into the API's Volume, a spec's mistakes refused
// naming the line before any request, and an ID prefix or name resolved.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "fake_agent.hpp"

namespace drover::cli::testing {
namespace {

using nlohmann::json;

std::string temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("drover-volume-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(VolumeCommands, CreateSendsTheExampleSpecificationAsNomadsVolume) {
  FakeAgent agent;
  agent.server().Post("/v1/volume/host/create", [](const httplib::Request& req, httplib::Response& res) {
    json v = json::parse(req.body)["Volume"];
    v["ID"] = "0a1b2c3d-0000-0000-0000-000000000000";
    res.set_content(json{{"Volume", v}, {"Warnings", ""}}.dump(), "application/json");
  });
  agent.start();
  auto r = run_cli_against(agent.address(), {"volume", "create",
                                             std::string(DROVER_SOURCE_DIR) + "/examples/data.volume.hcl"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Created host volume \"data\" with ID 0a1b2c3d-0000-0000-0000-000000000000\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const json v = json::parse(reqs[0].body)["Volume"];
  EXPECT_EQ(v["Name"], "data");
  EXPECT_EQ(v["PluginID"], "mkdir");
  EXPECT_EQ(v["Parameters"], json({{"mode", "0750"}, {"uid", "65534"}})) << "parameters are strings";
  EXPECT_EQ(v["RequestedCapabilities"],
            json::array({{{"AccessMode", "single-node-writer"}, {"AttachmentMode", "file-system"}}}));
  EXPECT_EQ(v["Constraints"],
            json::array({{{"LTarget", "${attr.kernel.name}"}, {"Operand", "="}, {"RTarget", "linux"}}}))
      << "a node attribute, left for the node to resolve";
}

TEST(VolumeCommands, ASpecificationsMistakesAreRefusedBeforeAnyRequest) {
  FakeAgent agent;
  agent.start();
  auto sizes = run_cli_against(
      agent.address(),
      {"volume", "create", temp_file("size.hcl", "name = \"a\"\ntype = \"host\"\ncapacity_min = \"10 parsecs\"\n")});
  EXPECT_EQ(sizes.code, 1);
  EXPECT_NE(sizes.err.find("line 3: capacity_min: \"10 parsecs\" is not a size"), std::string::npos)
      << sizes.err;
  auto typo = run_cli_against(
      agent.address(), {"volume", "create", temp_file("typo.hcl", "name = \"a\"\ntype = \"host\"\nplugin = \"x\"\n")});
  EXPECT_NE(typo.err.find("line 3: a volume specification has no \"plugin\""), std::string::npos)
      << typo.err;
  auto field = run_cli_against(
      agent.address(),
      {"volume", "create",
       temp_file("constraint.hcl", "name = \"a\"\ntype = \"host\"\nconstraint {\n  attr = \"x\"\n}\n")});
  EXPECT_NE(field.err.find("line 4: constraint has no \"attr\" (attribute, operator, value)"),
            std::string::npos)
      << field.err;
  auto csi = run_cli_against(agent.address(),
                             {"volume", "create", temp_file("csi.hcl", "name = \"a\"\ntype = \"csi\"\n")});
  EXPECT_NE(csi.err.find("csi volumes are not supported by drover"), std::string::npos) << csi.err;
  EXPECT_TRUE(agent.requests().empty());
}

TEST(VolumeCommands, StatusAndDeleteTakeAnIdPrefixOrTheName) {
  FakeAgent agent;
  agent.server().Get("/v1/volumes", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"([{"ID":"0a1b2c3d-1","Name":"data"},{"ID":"9f00-2","Name":"logs"}])",
                    "application/json");
  });
  agent.server().Delete(R"(/v1/volume/host/(.+))", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  agent.start();
  auto by_name = run_cli_against(agent.address(), {"volume", "delete", "logs"});
  EXPECT_EQ(by_name.code, 0) << by_name.err;
  EXPECT_EQ(by_name.out, "Successfully deleted volume \"9f00-2\"!\n");
  auto by_prefix = run_cli_against(agent.address(), {"volume", "delete", "-type", "host", "0a1b"});
  EXPECT_EQ(by_prefix.out, "Successfully deleted volume \"0a1b2c3d-1\"!\n");
  auto none = run_cli_against(agent.address(), {"volume", "delete", "zz"});
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("no host volume with ID or name \"zz\""), std::string::npos);
}

}  // namespace
}  // namespace drover::cli::testing
