// The plugin loader against real .so files: what an operator sees in the plugin list when a
// plugin is good, built for another ABI, not a plugin at all, corrupt, named badly, a
// duplicate, or throwing from every call.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "drover/loader/registry.hpp"

namespace fs = std::filesystem;
using drover::plugins::PluginInfo;
using drover::plugins::PluginRegistry;
using ::testing::HasSubstr;

namespace {

fs::path fixture(const char* name) { return fs::path(DROVER_FIXTURES) / name; }

// A fresh, empty folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "drover-plugins-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

PluginInfo only(const std::vector<PluginInfo>& infos) {
  EXPECT_EQ(infos.size(), 1u);
  return infos.empty() ? PluginInfo{} : infos.front();
}

}  // namespace

TEST(PluginLoader, GoodPluginLoadsWithNameVersionAndAbi) {
  PluginRegistry reg;
  reg.load_dir(fixture("good"), nlohmann::json::object());
  const PluginInfo info = only(reg.plugins());
  EXPECT_EQ(info.status, "loaded");
  EXPECT_EQ(info.reason, "");
  EXPECT_EQ(info.name, "good");
  EXPECT_EQ(info.type, "driver");
  EXPECT_EQ(info.version, "1.2.3");
  EXPECT_EQ(info.abi_version, 1u);
  EXPECT_THAT(info.path, HasSubstr("good.so"));
  EXPECT_EQ(reg.driver_names(), std::vector<std::string>{"good"});
  ASSERT_NE(reg.driver("good"), nullptr);
  EXPECT_EQ(reg.driver("good")->name(), "good");
  EXPECT_EQ(reg.driver("nope"), nullptr);
}

TEST(PluginLoader, CallsGoThroughTheAbiBothWays) {
  PluginRegistry reg;
  reg.load_dir(fixture("good"), {{"good", {{"enabled", true}, {"x", 1}}}});
  auto* d = reg.driver("good");
  ASSERT_NE(d, nullptr);
  auto fp = d->fingerprint();
  EXPECT_TRUE(fp["Detected"].get<bool>());
  // The operator's config reached set_config.
  auto seen = nlohmann::json::parse(fp["Attributes"]["config"].get<std::string>());
  EXPECT_EQ(seen, (nlohmann::json{{"enabled", true}, {"x", 1}}));
  EXPECT_EQ(d->validate(nlohmann::json::object()),
            std::vector<std::string>{"config.command: required"});
  EXPECT_TRUE(d->validate({{"command", "x"}}).empty());
  auto handle = d->start({{"TaskName", "t"}});
  ASSERT_TRUE(handle.ok()) << handle.message();
  auto exit = d->wait(*handle, std::chrono::milliseconds(10));
  ASSERT_TRUE(exit.ok());
  ASSERT_TRUE(exit->has_value());
  EXPECT_EQ((*exit)->exit_code, 3);
  auto running = d->wait({{"ID", 8}}, std::chrono::milliseconds(10));
  ASSERT_TRUE(running.ok());
  EXPECT_FALSE(running->has_value());  // "still running" on timeout
}

TEST(PluginLoader, DriverTaskEventsReachTheHandlerUntilItIsCleared) {
  struct Seen {
    std::string alloc, task;
    nlohmann::json event;
  };
  std::vector<Seen> seen;
  PluginRegistry reg;
  reg.load_dir(fixture("good"), nlohmann::json::object());
  auto* d = reg.driver("good");
  ASSERT_NE(d, nullptr);
  // Set after loading, as the agent does once its alloc manager exists.
  reg.set_task_event_handler(
      [&](const std::string& a, const std::string& t, const nlohmann::json& e) {
        seen.push_back({a, t, e});
      });
  nlohmann::json task{
      {"AllocID", "a1"}, {"TaskName", "web"}, {"Config", {{"event_type", "Downloading Image"}}}};
  ASSERT_TRUE(d->start(task).ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].alloc, "a1");
  EXPECT_EQ(seen[0].task, "web");
  EXPECT_EQ(seen[0].event, (nlohmann::json{{"Type", "Downloading Image"},
                                           {"Message", "from start"},
                                           {"Details", {{"step", "1"}}}}));
  // An event without a type is dropped, not handed on.
  task["Config"]["event_type"] = "";
  ASSERT_TRUE(d->start(task).ok());
  EXPECT_EQ(seen.size(), 1u);
  // Cleared: the plugin may still emit (until its fini), and nothing reaches the old handler.
  reg.set_task_event_handler(nullptr);
  task["Config"]["event_type"] = "Late";
  ASSERT_TRUE(d->start(task).ok());
  EXPECT_EQ(seen.size(), 1u);
}

TEST(PluginLoader, ReapGivesTheDriverEveryKnownAllocId) {
  PluginRegistry reg;
  reg.load_dir(fixture("good"), nlohmann::json::object());
  auto* d = reg.driver("good");
  ASSERT_NE(d, nullptr);
  ASSERT_TRUE(d->supports_reap());
  EXPECT_TRUE(d->fingerprint()["Attributes"]["reaped"] == "null");
  ASSERT_TRUE(d->reap({"a1", "b2"}, "/data/alloc").ok());
  auto reaped = [&] {
    return nlohmann::json::parse(d->fingerprint()["Attributes"]["reaped"].get<std::string>());
  };
  EXPECT_EQ(reaped(),
            (nlohmann::json{{"AllocIDs", {"a1", "b2"}}, {"AllocDirRoot", "/data/alloc"}}));
  ASSERT_TRUE(d->reap({}, "/data/alloc").ok());  // an agent that knows no alloc
  EXPECT_EQ(reaped()["AllocIDs"], nlohmann::json::array());
}

// plugin.h, drover_driver_create_network_v1: the request and the spec cross the ABI whole;
// without "MustInitiateNetwork" in its Capabilities the agent never asks the driver for one.
TEST(PluginLoader, NetworkCallsCrossTheAbiAndAreGatedByTheCapability) {
  PluginRegistry reg;
  reg.load_dir(fixture("good"), nlohmann::json::object());
  auto* d = reg.driver("good");
  ASSERT_NE(d, nullptr);
  EXPECT_FALSE(d->initiates_network());
  auto made = d->create_network("a1", "/data/alloc/a1", "bridge");
  ASSERT_TRUE(made.ok()) << made.message();
  EXPECT_EQ(*made, (nlohmann::json{
                       {"Path", "/proc/self/ns/net"},
                       {"Labels", {{"alloc", "a1"}, {"mode", "bridge"}, {"dir", "/data/alloc/a1"}}},
                       {"Created", false}}));
  EXPECT_TRUE(d->destroy_network("a1", nlohmann::json::object()).ok());
  auto refused = d->destroy_network("a1", {{"refuse", "1"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("driver good: destroy_network: cannot remove a1"));
}

TEST(PluginLoader, WrongAbiVersionIsRefusedNamingBothVersions) {
  PluginRegistry reg;
  reg.load_dir(fixture("wrong_abi"), nlohmann::json::object());
  const PluginInfo info = only(reg.plugins());
  EXPECT_EQ(info.status, "refused");
  EXPECT_EQ(info.name, "future");
  EXPECT_EQ(info.abi_version, 999u);
  EXPECT_THAT(info.reason, HasSubstr("999"));
  EXPECT_THAT(info.reason, HasSubstr("version 1"));
  EXPECT_EQ(reg.driver("future"), nullptr);
}

TEST(PluginLoader, SharedObjectWithoutEntrySymbolIsRefused) {
  PluginRegistry reg;
  reg.load_dir(fixture("no_entry"), nlohmann::json::object());
  const PluginInfo info = only(reg.plugins());
  EXPECT_EQ(info.status, "refused");
  EXPECT_THAT(info.reason, HasSubstr("drover_plugin_entry"));
  EXPECT_TRUE(reg.driver_names().empty());
}

TEST(PluginLoader, TextFileNamedSoIsRefusedAndGoodNeighbourStillLoads) {
  TempDir dir;
  std::ofstream(dir.path() / "a_notes.so") << "this is not an ELF file\n";
  fs::copy_file(GOOD_SO, dir.path() / "b_good.so");
  PluginRegistry reg;
  reg.load_dir(dir.path(), nlohmann::json::object());
  auto infos = reg.plugins();
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].status, "refused");
  EXPECT_THAT(infos[0].reason, HasSubstr("not an ELF file"));
  EXPECT_EQ(infos[1].status, "loaded");
  EXPECT_EQ(reg.driver_names(), std::vector<std::string>{"good"});
}

TEST(PluginLoader, TruncatedElfIsRefused) {
  TempDir dir;
  // The first 4 KiB of a real plugin: an ELF header that promises what the file lacks.
  std::ifstream in(GOOD_SO, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  std::ofstream(dir.path() / "truncated.so", std::ios::binary) << head;
  PluginRegistry reg;
  reg.load_dir(dir.path(), nlohmann::json::object());
  const PluginInfo info = only(reg.plugins());
  EXPECT_EQ(info.status, "refused");
  EXPECT_THAT(info.reason, HasSubstr("truncated"));
}

TEST(PluginLoader, DuplicateNameRefusesTheSecond) {
  PluginRegistry reg;
  reg.load_dir(fixture("dup"), nlohmann::json::object());
  auto infos = reg.plugins();
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_THAT(infos[0].path, HasSubstr("dup_a.so"));
  EXPECT_EQ(infos[0].status, "loaded");
  EXPECT_THAT(infos[1].path, HasSubstr("dup_b.so"));
  EXPECT_EQ(infos[1].status, "refused");
  EXPECT_THAT(infos[1].reason, HasSubstr("already loaded"));
  EXPECT_THAT(infos[1].reason, HasSubstr("dup_a.so"));
  EXPECT_EQ(reg.driver_names(), std::vector<std::string>{"dup"});
}

TEST(PluginLoader, NameWithDotDotSlashIsRefused) {
  PluginRegistry reg;
  reg.load_dir(fixture("bad_name"), nlohmann::json::object());
  const PluginInfo info = only(reg.plugins());
  EXPECT_EQ(info.status, "refused");
  EXPECT_THAT(info.reason, HasSubstr("bad plugin name"));
  EXPECT_THAT(info.reason, HasSubstr("../evil"));
  EXPECT_TRUE(reg.driver_names().empty());
}

TEST(PluginLoader, DevicePluginIsListedButNotADriver) {
  PluginRegistry reg;
  reg.load_dir(fixture("device"), nlohmann::json::object());
  const PluginInfo info = only(reg.plugins());
  EXPECT_EQ(info.status, "loaded");
  EXPECT_EQ(info.type, "device");
  EXPECT_EQ(reg.driver("gpu"), nullptr);
  EXPECT_TRUE(reg.driver_names().empty());
}

TEST(PluginLoader, MissingFolderIsNotFatal) {
  PluginRegistry reg;
  reg.load_dir("/nonexistent/drover/plugins", nlohmann::json::object());
  EXPECT_TRUE(reg.plugins().empty());
}

TEST(PluginLoader, ThrowingPluginReturnsErrorsInsteadOfCrashing) {
  PluginRegistry reg;
  reg.load_dir(fixture("thrower"), nlohmann::json::object());
  auto* d = reg.driver("thrower");
  ASSERT_NE(d, nullptr);
  nlohmann::json h = {{"PID", 1}};

  auto fp = d->fingerprint();
  EXPECT_FALSE(fp["Detected"].get<bool>());
  EXPECT_THAT(fp["HealthDescription"].get<std::string>(), HasSubstr("boom in fingerprint"));

  auto problems = d->validate(nlohmann::json::object());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("unknown exception"));

  auto started = d->start(nlohmann::json::object());
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.message(), HasSubstr("boom in start"));
  EXPECT_THAT(started.message(), HasSubstr("driver thrower: start"));

  auto waited = d->wait(h, std::chrono::milliseconds(1));
  ASSERT_FALSE(waited.ok());
  EXPECT_THAT(waited.message(), HasSubstr("boom in wait"));
  EXPECT_FALSE(d->stop(h, "SIGTERM", std::chrono::milliseconds(1)).ok());
  EXPECT_FALSE(d->destroy(h).ok());
  auto inspected = d->inspect(h);
  ASSERT_FALSE(inspected.ok());
  EXPECT_THAT(inspected.message(), HasSubstr("missing"));
  EXPECT_FALSE(d->signal(h, "SIGHUP").ok());
  EXPECT_FALSE(d->recover(h).ok());
  auto reaped = d->reap({"a1"}, "/data/alloc");
  ASSERT_FALSE(reaped.ok());
  EXPECT_THAT(reaped.message(), HasSubstr("driver thrower: reap: boom in reap"));
  // Malformed JSON from the agent side is also caught inside the plugin.
  EXPECT_TRUE(d->stats(h).ok());  // the SDK's default stats returns {}
}

TEST(PluginLoader, DevicePluginCallsGoThroughTheAbiBothWays) {
  PluginRegistry reg;
  reg.load_dir(fixture("good_device"), {{"acme", {{"x", 1}}}});
  const PluginInfo info = only(reg.plugins());
  EXPECT_EQ(info.status, "loaded") << info.reason;
  EXPECT_EQ(info.type, "device");
  EXPECT_EQ(info.version, "2.0.0");
  EXPECT_EQ(reg.device_names(), std::vector<std::string>{"acme"});
  EXPECT_TRUE(reg.driver_names().empty());
  EXPECT_EQ(reg.driver("acme"), nullptr);
  auto* d = reg.device("acme");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->name(), "acme");

  auto fp = d->fingerprint();
  EXPECT_TRUE(fp["Detected"].get<bool>());
  EXPECT_EQ(fp["HealthDescription"], "");  // filled in by the loader
  ASSERT_EQ(fp["Devices"].size(), 1u);
  const auto& g = fp["Devices"][0];
  EXPECT_EQ(g["Attributes"]["config"]["Value"], R"({"x":1})");
  ASSERT_EQ(g["Instances"].size(), 2u);
  EXPECT_TRUE(g["Instances"][0]["Healthy"].get<bool>());
  EXPECT_FALSE(g["Instances"][1]["Healthy"].get<bool>());  // left out: not healthy
  EXPECT_TRUE(g["Instances"][1]["Attributes"].is_object());

  auto r = d->reserve({"f-1", "f-0"});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)["Env"]["ACME_VISIBLE"], "f-1,f-0");
  EXPECT_EQ((*r)["Devices"][0]["HostPath"], "/dev/acme0");
  EXPECT_TRUE((*r)["Mounts"].is_array());  // filled in by the loader

  auto unknown = d->reserve({"f-9"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.message(), HasSubstr("unknown instance f-9"));
  EXPECT_THAT(unknown.message(), HasSubstr("device plugin acme: reserve"));
  EXPECT_FALSE(d->reserve({}).ok());

  auto stats = d->stats();  // the SDK's default
  ASSERT_TRUE(stats.ok()) << stats.message();
  EXPECT_TRUE((*stats)["Instances"].empty());
}

TEST(PluginLoader, DevicePluginOfAnotherAbiIsRefusedNamingBothVersions) {
  PluginRegistry reg;
  reg.load_dir(fixture("wrong_abi_device"), nlohmann::json::object());
  const PluginInfo info = only(reg.plugins());
  EXPECT_EQ(info.status, "refused");
  EXPECT_EQ(info.name, "future_gpu");
  EXPECT_EQ(info.abi_version, 7u);
  EXPECT_THAT(info.reason, HasSubstr("version 7"));
  EXPECT_THAT(info.reason, HasSubstr("version 1"));
  EXPECT_EQ(reg.device("future_gpu"), nullptr);
  EXPECT_TRUE(reg.device_names().empty());
}

TEST(PluginLoader, DevicePluginMissingACallIsRefused) {
  PluginRegistry reg;
  reg.load_dir(fixture("half_device"), nlohmann::json::object());
  const PluginInfo info = only(reg.plugins());
  EXPECT_EQ(info.status, "refused");
  EXPECT_EQ(info.type, "device");
  EXPECT_THAT(info.reason, HasSubstr("misses the reserve call"));
  EXPECT_EQ(reg.device("half"), nullptr);
}

TEST(PluginLoader, DriverPluginMissingACallIsRefusedNamingIt) {
  PluginRegistry reg;
  reg.load_dir(fixture("half_driver"), nlohmann::json::object());
  const PluginInfo info = only(reg.plugins());
  EXPECT_EQ(info.status, "refused");
  EXPECT_THAT(info.reason, HasSubstr("misses the recover call"));
  EXPECT_EQ(reg.driver("half_driver"), nullptr);
}

TEST(PluginLoader, DeviceAndDriverCannotShareAName) {
  PluginRegistry reg;
  reg.load_dir(fixture("same_name"), nlohmann::json::object());
  auto infos = reg.plugins();
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].status, "loaded");
  EXPECT_EQ(infos[0].type, "driver");
  EXPECT_EQ(infos[1].status, "refused");
  EXPECT_THAT(infos[1].reason, HasSubstr("already loaded"));
  EXPECT_THAT(infos[1].reason, HasSubstr("same_name_a.so"));
  EXPECT_TRUE(reg.device_names().empty());
}

TEST(PluginLoader, ThrowingDevicePluginReturnsErrorsInsteadOfCrashing) {
  PluginRegistry reg;
  reg.load_dir(fixture("throwing_device"), nlohmann::json::object());
  auto* d = reg.device("throwing_device");
  ASSERT_NE(d, nullptr);
  auto fp = d->fingerprint();
  EXPECT_FALSE(fp["Detected"].get<bool>());
  EXPECT_TRUE(fp["Devices"].empty());
  EXPECT_THAT(fp["HealthDescription"].get<std::string>(), HasSubstr("boom in fingerprint"));
  auto r = d->reserve({"x"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("unknown exception"));
  auto s = d->stats();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("boom in stats"));
}
