// The node's metadata with `node meta apply`'s changes over the config's (runner/node_meta.hpp).
#include "runner/node_meta.hpp"

#include <gtest/gtest.h>

using drover::runner::DynamicMeta;
using drover::runner::NodeMeta;
using Map = std::map<std::string, std::string>;

TEST(NodeMeta, DynamicKeysOverrideTheConfigsAndANullRemovesOne) {
  NodeMeta m({{"rack", "r0"}, {"zone", "z1"}}, {});
  EXPECT_EQ(m.generation(), 0u);
  auto merged = m.apply({{"rack", "r1"}, {"zone", std::nullopt}, {"gpu", "h100"}});
  ASSERT_TRUE(merged) << merged.message();
  EXPECT_EQ(merged.value(), (Map{{"gpu", "h100"}, {"rack", "r1"}}));
  EXPECT_EQ(m.merged(), merged.value());
  EXPECT_EQ(m.get("zone"), std::nullopt);
  EXPECT_EQ(m.get("rack"), "r1");
  EXPECT_EQ(m.static_meta(), (Map{{"rack", "r0"}, {"zone", "z1"}}));
  EXPECT_EQ(m.generation(), 1u);
  // Unsetting a key only the dynamic layer had forgets it; unsetting a config key remembers.
  ASSERT_TRUE(m.apply({{"gpu", std::nullopt}}));
  EXPECT_EQ(m.dynamic(), (DynamicMeta{{"rack", "r1"}, {"zone", std::nullopt}}));
}

TEST(NodeMeta, ARefusedKeyOrAFailedSaveAppliesNothing) {
  std::string saved;
  bool fail = false;
  NodeMeta m({{"rack", "r0"}}, {}, [&](const std::string& j) -> drover::Status {
    if (fail) return drover::make_error("disk full");
    saved = j;
    return {};
  });
  for (const char* key : {"", "a b", "${x}", "tab\t"}) {
    auto r = m.apply({{"ok", "1"}, {key, "v"}});
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.code(), drover::Errc::Invalid);
  }
  EXPECT_FALSE(m.apply({{"k", "line\nbreak"}}));
  EXPECT_FALSE(m.apply({{"k", std::string(5000, 'x')}}));
  DynamicMeta many;  // 20 values of 4 KiB: each allowed, together more than 64 KiB
  for (int i = 0; i < 20; ++i) many["k" + std::to_string(i)] = std::string(4000, 'x');
  auto too_much = m.apply(many);
  ASSERT_FALSE(too_much);
  EXPECT_NE(too_much.message().find("more than 65536"), std::string::npos) << too_much.message();
  EXPECT_EQ(m.merged(), (Map{{"rack", "r0"}}));
  EXPECT_TRUE(saved.empty());
  fail = true;
  auto r = m.apply({{"rack", "r1"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.message(), "disk full");
  EXPECT_EQ(m.get("rack"), "r0");
  EXPECT_EQ(m.generation(), 0u);
  fail = false;
  ASSERT_TRUE(m.apply({{"rack", "r1"}, {"rack.id", "a-1"}}));
  auto back = NodeMeta::from_json(saved);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back.value(), (DynamicMeta{{"rack", "r1"}, {"rack.id", "a-1"}}));
  EXPECT_FALSE(NodeMeta::from_json("[1]"));
  EXPECT_FALSE(NodeMeta::from_json(R"({"k": 1})"));
}
