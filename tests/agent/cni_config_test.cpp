// CNI networks from cni_config_dir (runner/cni_config.hpp, docs/networking.md "CNI networks"):
// the files libcni reads, in its order, each bad file named; the list an alloc is wired with
// (loopback first); CNI_ARGS; the alloc's address from a result of any spec version.
#include "runner/cni_config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "runner/alloc_network.hpp"
#include "test_files.hpp"

using namespace drover::runner;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

// A scratch dir of this test's own, removed after it.
struct Scratch {
  explicit Scratch(const std::string& prefix) : dir(drover::test_support::scratch_dir(prefix)) {}
  ~Scratch() { fs::remove_all(dir); }
  const fs::path& path() const { return dir; }
  fs::path dir;
};

}  // namespace

TEST(CniConfig, NetworksAreFoundByNameListsFirstThenSingleConfigsAndBadFilesAreNamed) {
  Scratch dir("drover-cni-config");
  write(dir.path() / "20-alpha.conflist",
        R"({"cniVersion": "1.0.0", "name": "alpha", "plugins": [{"type": "bridge"}, {"type": "portmap"}]})");
  // Same name in an earlier-sorting single config: the list still wins, as in libcni.
  write(dir.path() / "10-alpha.conf", R"({"cniVersion": "0.4.0", "name": "alpha", "type": "macvlan"})");
  write(dir.path() / "30-beta.json", R"({"cniVersion": "0.4.0", "name": "beta", "type": "ptp"})");
  write(dir.path() / "40-broken.conflist", "{not json");
  write(dir.path() / "50-noplugins.conflist", R"({"name": "gamma", "plugins": []})");
  write(dir.path() / "60-notype.conflist", R"({"name": "delta", "plugins": [{"x": 1}]})");
  write(dir.path() / "70-badname.conf", R"({"name": "../etc", "type": "ptp"})");
  write(dir.path() / "README.txt", "not a config");

  auto scan = scan_cni_configs(dir.path());
  ASSERT_EQ(scan.networks.size(), 2u);
  EXPECT_EQ(scan.networks[0].name, "alpha");
  EXPECT_EQ(scan.networks[0].conflist["plugins"].size(), 2u);
  EXPECT_EQ(scan.networks[0].file.filename(), "20-alpha.conflist");
  EXPECT_EQ(scan.networks[1].name, "beta");
  // A single plugin's config is a list of one, its version kept.
  EXPECT_EQ(scan.networks[1].conflist["cniVersion"], "0.4.0");
  ASSERT_EQ(scan.networks[1].conflist["plugins"].size(), 1u);
  EXPECT_EQ(scan.networks[1].conflist["plugins"][0]["type"], "ptp");
  ASSERT_EQ(scan.problems.size(), 4u);
  EXPECT_EQ(scan.problems[0], "40-broken.conflist: not a JSON object");
  EXPECT_EQ(scan.problems[1], "50-noplugins.conflist: \"plugins\" must be a list of at least one plugin");
  EXPECT_EQ(scan.problems[2], "60-notype.conflist: plugins[0] has no \"type\"");
  EXPECT_NE(scan.problems[3].find("70-badname.conf: \"name\" must be a network name"),
            std::string::npos);

  auto beta = find_cni_network(dir.path(), "beta");
  ASSERT_TRUE(beta.ok()) << beta.message();
  EXPECT_EQ(beta->file.filename(), "30-beta.json");
  auto none = find_cni_network(dir.path(), "overlay");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.code(), drover::Errc::NotFound);
  EXPECT_NE(none.message().find("no CNI network \"overlay\" in " + dir.path().string() +
                                " (cni_config_dir; it has alpha, beta; unreadable: 40-broken"),
            std::string::npos)
      << none.message();
  // A dir that is not there has no networks, and says so.
  auto missing = find_cni_network(dir.path() / "nope", "alpha");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("it has none"), std::string::npos) << missing.message();
}

TEST(CniConfig, AnAllocsListIsTheNetworkWithLoopbackFirst) {
  Scratch dir("drover-cni-config");
  write(dir.path() / "net.conflist",
        R"({"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "bridge", "bridge": "x0"}]})");
  CniSettings cni;
  cni.config_dir = dir.path();
  auto list = alloc_conflist("cni/net", cni);
  ASSERT_TRUE(list.ok()) << list.message();
  ASSERT_EQ((*list)["plugins"].size(), 2u);
  EXPECT_EQ((*list)["plugins"][0]["type"], "loopback");
  EXPECT_EQ((*list)["plugins"][1]["bridge"], "x0");
  EXPECT_EQ((*list)["cniVersion"], "1.0.0");
  EXPECT_FALSE(alloc_conflist("cni/other", cni).ok());
  // bridge and none are drover's own lists, whatever the config dir holds.
  EXPECT_EQ(alloc_conflist("bridge", cni)->at("name"), "nomad");
  EXPECT_TRUE(isolated_network_mode("cni/net"));
  EXPECT_FALSE(isolated_network_mode("host"));
}

TEST(CniConfig, HostProblemNamesTheMissingNetworkOrPlugin) {
  Scratch dir("drover-cni-config"), bin("drover-cni-bin");
  write(dir.path() / "net.conflist",
        R"({"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "fancy"}, {"type": "loopback"}]})");
  write(bin.path() / "loopback", "#!/bin/sh\n");
  ::chmod((bin.path() / "loopback").c_str(), 0755);
  CniSettings cni;
  cni.config_dir = dir.path();
  cni.plugin_dirs = {bin.path().string()};
  const std::string p = network_host_problem("cni/net", cni);
  EXPECT_NE(p.find("the CNI plugin fancy is not installed on this node (looked in " +
                   bin.path().string() + ", cni_path)"),
            std::string::npos)
      << p;
  EXPECT_NE(network_host_problem("cni/gone", cni).find("no CNI network \"gone\""), std::string::npos);
  // A plugin type is a file name: nothing outside the plugin dirs is run.
  EXPECT_EQ(cni.find_plugin("../" + bin.path().filename().string() + "/loopback"), "");
  EXPECT_EQ(cni.find_plugin("loopback"), bin.path().string() + "/loopback");
}

TEST(CniConfig, CniPathIsAbsoluteDirsSeparatedByColons) {
  auto ok = parse_cni_path("/opt/cni/bin:/usr/lib/cni:");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<std::string>{"/opt/cni/bin", "/usr/lib/cni"}));
  EXPECT_EQ(parse_cni_path("/a:bin").message(), "\"bin\" is not an absolute path");
  EXPECT_FALSE(parse_cni_path("").ok());
  EXPECT_EQ((CniSettings{{"/a", "/b"}, "/c"}).path_env(), "/a:/b");
}

TEST(CniConfig, CniArgsAreNomadsIgnoreUnknownAndTheJobsPairs) {
  EXPECT_EQ(cni_args_env({}), "IgnoreUnknown=true");
  EXPECT_EQ(cni_args_env({{"tier", "gold"}, {"K8S_POD_NAME", "web"}}),
            "IgnoreUnknown=true;K8S_POD_NAME=web;tier=gold");
  EXPECT_EQ(cni_args_env({{"IgnoreUnknown", "false"}}), "IgnoreUnknown=false");
}

TEST(CniConfig, AddressIsTheSandboxInterfacesAndOldResultsAreRead) {
  // A host-side address listed first (a bridge's gateway with an interface of its own) is
  // not the alloc's.
  json result = json::parse(R"({"cniVersion": "1.0.0",
    "interfaces": [{"name": "br0", "mac": "x"}, {"name": "eth0", "sandbox": "/run/drover/netns/a"}],
    "ips": [{"address": "10.1.0.1/24", "interface": 0}, {"address": "10.1.0.7/24", "interface": 1}]})");
  EXPECT_EQ(*cni_result_ip(result), "10.1.0.7");
  // Spec 0.2.0's shape.
  EXPECT_EQ(*cni_result_ip(json::parse(R"({"cniVersion": "0.2.0", "ip4": {"ip": "10.2.0.9/16"}})")),
            "10.2.0.9");
  EXPECT_FALSE(cni_result_ip(json::parse(R"({"cniVersion": "0.2.0"})")).ok());
}

// A plugin that never answers (a dhcp plugin without its daemon) is killed at cni's
// call_timeout: the alloc's network fails saying so, and no namespace or record is left.
TEST(CniConfig, APluginThatHangsIsKilledAndTheNamespaceUndone) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  Scratch bin("drover-cni-hang");
  write(bin.path() / "loopback", "#!/bin/sh\nexec sleep 600\n");
  ::chmod((bin.path() / "loopback").c_str(), 0755);
  CniSettings cni;
  cni.plugin_dirs = {bin.path().string()};
  cni.call_timeout = std::chrono::seconds(1);
  const std::string alloc = "cni-hang-" + std::to_string(::getpid());
  auto made = AllocNetwork::setup(alloc, "none", {}, bin.path(), {}, cni);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.message(), "alloc network (mode none): CNI ADD loopback: no answer in 1s; killed");
  EXPECT_FALSE(fs::exists(fs::path(kNetnsDir) / alloc));
  EXPECT_FALSE(fs::exists(fs::path(kNetnsDir) / (alloc + ".json")));
}
