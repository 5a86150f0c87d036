// The node admission judges constraints against (core/node_json.hpp, AdmissionNode): made once
// per fingerprint refresh, not per submit, and never older than the last refresh.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>

#include "core/node_json.hpp"
#include "core/node_watcher.hpp"
#include "drover/loader/registry.hpp"

namespace {

using drover::agent::AdmissionNode;
using drover::agent::NodeWatcher;

TEST(AdmissionNode, IsTheNodeAsOfTheLastRefreshAndIsMadeAgainAfterTheNext) {
  auto dir = std::filesystem::temp_directory_path() / "drover-admission-node-test";
  std::filesystem::create_directories(dir);
  drover::plugins::PluginRegistry registry;
  drover::runner::NodeInfo node;
  node.id = "n1";
  node.meta["rack"] = "a";
  std::atomic<NodeWatcher*> watcher{nullptr};
  AdmissionNode admission_node(node, registry, watcher);

  // Without a watcher, the node as it is now.
  EXPECT_EQ(admission_node().meta.at("rack"), "a");
  node.meta["rack"] = "b";
  EXPECT_EQ(admission_node().meta.at("rack"), "b");

  NodeWatcher w(dir, registry, std::chrono::hours(1), nullptr);
  w.refresh();
  watcher = &w;
  EXPECT_EQ(admission_node().meta.at("rack"), "b");
  EXPECT_EQ(admission_node().id, "n1");
  // Between two refreshes the node made at the first is kept...
  node.meta["rack"] = "c";
  EXPECT_EQ(admission_node().meta.at("rack"), "b");
  // ...and the next refresh makes it again, dynamic attributes included.
  w.refresh();
  auto after = admission_node();
  EXPECT_EQ(after.meta.at("rack"), "c");
  EXPECT_TRUE(after.attributes.count("unique.storage.bytesfree"));
  std::filesystem::remove_all(dir);
}

}  // namespace
