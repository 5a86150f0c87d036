// Dynamic host volumes on one node (runner/dynamic_host_volumes.hpp, docs/volumes.md): the
// mkdir plugin and an external one speaking Nomad's protocol, a registered directory, what a
// request may not ask, names the config holds, and the volumes kept across a restart.
#include "runner/dynamic_host_volumes.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "state/state_store.hpp"

using namespace drover;
using runner::DynamicHostVolumes;
using nlohmann::json;

namespace {

std::filesystem::path temp_dir() {
  char tmpl[] = "/tmp/drover-dhv-XXXXXX";
  return mkdtemp(tmpl);
}

struct Node {
  std::filesystem::path dir = temp_dir();
  std::unique_ptr<state::StateStore> store = std::move(state::StateStore::open(dir).value());
  DynamicHostVolumes::Options options() const {
    return {dir / "host_volumes", dir / "plugins", "node-1", "default"};
  }
  ~Node() { std::filesystem::remove_all(dir); }
};

runner::DynamicHostVolume request(const json& volume, bool registering = false) {
  auto v = runner::volume_from_request({{"Volume", volume}}, registering);
  if (!v) throw std::runtime_error(v.message());
  return v.value();
}

}  // namespace

TEST(DynamicHostVolumes, MkdirMakesTheDirectoryWithItsModeAndDeleteRemovesIt) {
  Node n;
  DynamicHostVolumes vols(n.options(), {}, n.store.get());
  ASSERT_TRUE(vols.load());
  auto made = vols.create(request({{"Name", "data"}, {"Parameters", {{"mode", "0750"}}}}));
  ASSERT_TRUE(made) << made.message();
  EXPECT_EQ(made->plugin_id, "mkdir");
  EXPECT_EQ(made->host_path, (n.dir / "host_volumes" / made->id).string());
  struct stat st {};
  ASSERT_EQ(::stat(made->host_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  // Joined to the node's volumes under its name, with its id and capabilities.
  auto merged = vols.merged();
  ASSERT_TRUE(merged.count("data"));
  EXPECT_EQ(merged["data"].id, made->id);
  EXPECT_FALSE(merged["data"].read_only);
  ASSERT_EQ(merged["data"].capabilities.size(), 1u) << "single-node-writer by default";
  // Created again by name: the same volume.
  auto again = vols.create(request({{"Name", "data"}}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, made->id);
  const auto generation = vols.generation();
  ASSERT_TRUE(vols.remove(made->id));
  EXPECT_FALSE(std::filesystem::exists(made->host_path));
  EXPECT_FALSE(vols.merged().count("data"));
  EXPECT_GT(vols.generation(), generation);
}

TEST(DynamicHostVolumes, KeptAcrossARestart) {
  Node n;
  std::string id;
  {
    DynamicHostVolumes vols(n.options(), {}, n.store.get());
    ASSERT_TRUE(vols.load());
    id = vols.create(request({{"Name", "data"}})).value().id;
  }
  DynamicHostVolumes vols(n.options(), {}, n.store.get());
  ASSERT_TRUE(vols.load());
  ASSERT_TRUE(vols.get(id).has_value());
  EXPECT_EQ(vols.get(id)->name, "data");
  EXPECT_EQ(vols.by_name("data")->id, id);
}

TEST(DynamicHostVolumes, AnExternalPluginGetsNomadsEnvironmentAndItsPathIsKept) {
  Node n;
  std::filesystem::create_directories(n.dir / "plugins");
  const auto plugin = n.dir / "plugins" / "lvm-ish";
  const auto seen = n.dir / "seen";
  // Logs on stderr, the answer on stdout; on delete it notes what it was told.
  std::ofstream(plugin) << "#!/bin/sh\n"
                           "echo \"running $DHV_OPERATION\" >&2\n"
                           "if [ \"$1\" = create ]; then\n"
                           "  mkdir -p \"$DHV_VOLUMES_DIR/$DHV_VOLUME_NAME\"\n"
                           "  echo \"{\\\"path\\\": \\\"$DHV_VOLUMES_DIR/$DHV_VOLUME_NAME\\\", "
                           "\\\"bytes\\\": $DHV_CAPACITY_MIN_BYTES}\"\n"
                           "else\n"
                           "  echo \"$DHV_OPERATION $DHV_CREATED_PATH $DHV_PARAMETERS\" > " +
                               seen.string() + "\nfi\n";
  std::filesystem::permissions(plugin, std::filesystem::perms::owner_all);
  DynamicHostVolumes vols(n.options(), {}, n.store.get());
  ASSERT_TRUE(vols.load());
  auto made = vols.create(request({{"Name", "fast"},
                                   {"PluginID", "lvm-ish"},
                                   {"RequestedCapacityMinBytes", 1048576},
                                   {"Parameters", {{"vg", "nvme"}}}}));
  ASSERT_TRUE(made) << made.message();
  EXPECT_EQ(made->host_path, (n.dir / "host_volumes" / "fast").string());
  EXPECT_EQ(made->capacity_bytes, 1048576);
  ASSERT_TRUE(vols.remove(made->id));
  std::ifstream in(seen);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "delete " + made->host_path + " {\"vg\":\"nvme\"}");
}

TEST(DynamicHostVolumes, AFailingOrMissingPluginIsAnErrorAndNothingIsKept) {
  Node n;
  std::filesystem::create_directories(n.dir / "plugins");
  const auto plugin = n.dir / "plugins" / "sad";
  std::ofstream(plugin) << "#!/bin/sh\necho '{\"error\": \"no space left in vg\"}'\nexit 3\n";
  std::filesystem::permissions(plugin, std::filesystem::perms::owner_all);
  DynamicHostVolumes vols(n.options(), {}, n.store.get());
  ASSERT_TRUE(vols.load());
  auto sad = vols.create(request({{"Name", "a"}, {"PluginID", "sad"}}));
  ASSERT_FALSE(sad);
  EXPECT_NE(sad.message().find("exited 3: no space left in vg"), std::string::npos) << sad.message();
  auto missing = vols.create(request({{"Name", "b"}, {"PluginID", "nope"}}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("Volume.PluginID: no plugin \"nope\""), std::string::npos);
  auto bad_param = vols.create(request({{"Name", "c"}, {"Parameters", {{"mode", "rwx"}}}}));
  ASSERT_FALSE(bad_param);
  EXPECT_NE(bad_param.message().find("Volume.Parameters.mode"), std::string::npos);
  EXPECT_TRUE(vols.list().empty());
}

TEST(DynamicHostVolumes, ARegisteredDirectoryIsKeptAndLeftOnDelete) {
  Node n;
  const auto dir = n.dir / "existing";
  std::filesystem::create_directories(dir);
  DynamicHostVolumes vols(n.options(), {}, n.store.get());
  ASSERT_TRUE(vols.load());
  auto reg = vols.register_existing(
      request({{"Name", "scratch"},
               {"HostPath", dir.string()},
               {"RequestedCapabilities", {{{"AccessMode", "single-node-reader-only"},
                                           {"AttachmentMode", "file-system"}}}}},
              true));
  ASSERT_TRUE(reg) << reg.message();
  EXPECT_TRUE(vols.merged().at("scratch").read_only) << "reader-only: mounted read-only";
  ASSERT_TRUE(vols.remove(reg->id));
  EXPECT_TRUE(std::filesystem::exists(dir)) << "the operator's directory stays";
  auto missing = vols.register_existing(
      request({{"Name", "gone"}, {"HostPath", (n.dir / "nope").string()}}, true));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("Volume.HostPath"), std::string::npos);
}

TEST(DynamicHostVolumes, RequestsAreCheckedNamingTheField) {
  auto bad = [](const json& v, bool registering = false) {
    auto r = runner::volume_from_request({{"Volume", v}}, registering);
    return r ? std::string() : r.message();
  };
  EXPECT_NE(bad({{"Name", "../etc"}}).find("Volume.Name"), std::string::npos);
  EXPECT_NE(bad({{"Name", "a"}, {"PluginID", "../../bin/sh"}}).find("Volume.PluginID"),
            std::string::npos);
  EXPECT_NE(bad({{"Name", "a"}, {"HostPath", "/srv"}}).find("Volume.HostPath"), std::string::npos);
  EXPECT_NE(bad({{"Name", "a"}}, true).find("Volume.HostPath"), std::string::npos);
  EXPECT_NE(bad({{"Name", "a"},
                 {"RequestedCapabilities", {{{"AccessMode", "multi-node"},
                                             {"AttachmentMode", "file-system"}}}}})
                .find("Volume.RequestedCapabilities[0].AccessMode"),
            std::string::npos);
  EXPECT_NE(bad({{"Name", "a"},
                 {"RequestedCapacityMinBytes", 10},
                 {"RequestedCapacityMaxBytes", 5}})
                .find("Volume.RequestedCapacityMaxBytes"),
            std::string::npos);
}

TEST(DynamicHostVolumes, ANameTheConfigHoldsIsRefused) {
  Node n;
  runner::HostVolumes configured;
  configured["pgdata"] = {"/srv/pgdata", false, "", {}};
  DynamicHostVolumes vols(n.options(), configured, n.store.get());
  ASSERT_TRUE(vols.load());
  auto r = vols.create(request({{"Name", "pgdata"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), Errc::Conflict);
  EXPECT_NE(r.message().find("is a host_volume of the agent config"), std::string::npos);
}

// A volume's Constraints (Nomad's, from the spec's constraint blocks): read as a job's, an
// operator that counts allocs or a right-hand side that can never be read refused naming it,
// and kept with the volume across a restart.
TEST(DynamicHostVolumes, ConstraintsAreCheckedKeptAndShown) {
  auto bad = [](const json& constraints) {
    auto r = runner::volume_from_request({{"Volume", {{"Name", "a"}, {"Constraints", constraints}}}},
                                         false);
    return r ? std::string() : r.message();
  };
  EXPECT_NE(bad(json::array({{{"LTarget", "${attr.x}"}, {"Operand", "near"}}}))
                .find("Volume.Constraints[0].Operand: \"near\" is not a constraint operator"),
            std::string::npos);
  EXPECT_NE(bad(json::array({{{"Operand", "distinct_hosts"}}})).find("counts allocs"),
            std::string::npos);
  EXPECT_NE(bad(json::array({{{"LTarget", "${attr.x}"}, {"Operand", "regexp"}, {"RTarget", "("}}}))
                .find("Volume.Constraints[0].RTarget"),
            std::string::npos);
  EXPECT_NE(bad(json::array({{{"LTarget", 3}}})).find("Volume.Constraints[0].LTarget: must be a string"),
            std::string::npos);
  EXPECT_NE(bad(json::array({{{"RTarget", "linux"}}})).find("Volume.Constraints[0].LTarget: is required"),
            std::string::npos);

  Node n;
  std::string id;
  {
    DynamicHostVolumes vols(n.options(), {}, n.store.get());
    ASSERT_TRUE(vols.load());
    auto v = request({{"Name", "data"},
                      {"Constraints", json::array({{{"LTarget", "${attr.kernel.name}"},
                                                    {"RTarget", "linux"}}})}});
    ASSERT_EQ(v.constraints.size(), 1u);
    EXPECT_EQ(v.constraints[0].op, "=") << "Nomad's default operator";
    id = vols.create(v).value().id;
  }
  DynamicHostVolumes vols(n.options(), {}, n.store.get());
  ASSERT_TRUE(vols.load());
  const json shown = runner::to_json(*vols.get(id), "node-1", "default");
  EXPECT_EQ(shown["Constraints"],
            json::array({{{"LTarget", "${attr.kernel.name}"}, {"Operand", "="}, {"RTarget", "linux"}}}));
}
