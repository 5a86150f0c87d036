// The service catalog's standalone store, change index and queries (choose, filter, tags,
// the /v1/services summary), without an agent.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "catalog/local_catalog.hpp"
#include "catalog/query.hpp"
#include "state/state_store.hpp"

using namespace drover::catalog;
using namespace std::chrono_literals;

namespace {

std::filesystem::path temp_dir() {
  char tmpl[] = "/tmp/drover-catalog-XXXXXX";
  return mkdtemp(tmpl);
}

ServiceRegistration reg(const std::string& id, const std::string& name, int port,
                        std::vector<std::string> tags = {}, const std::string& alloc = "a1") {
  ServiceRegistration r;
  r.id = id;
  r.service_name = name;
  r.node_id = "n1";
  r.datacenter = "dc1";
  r.job_id = "web";
  r.alloc_id = alloc;
  r.task = "t";
  r.provider = "nomad";
  r.address = "10.0.0.1";
  r.port = port;
  r.tags = std::move(tags);
  return r;
}

std::vector<std::string> ids(const std::vector<ServiceRegistration>& list) {
  std::vector<std::string> out;
  for (const auto& r : list) out.push_back(r.id);
  return out;
}

}  // namespace

TEST(LocalCatalog, RegistrationsSurviveAnAgentRestartAndKeepTheirCreateIndex) {
  auto dir = temp_dir();
  uint64_t created = 0;
  {
    auto store = drover::state::StateStore::open(dir);
    ASSERT_TRUE(store) << store.message();
    auto cat = LocalCatalog::open(**store);
    ASSERT_TRUE(cat) << cat.message();
    ASSERT_TRUE((*cat)->upsert(reg("s1", "web", 8080, {"v1"})));
    ASSERT_TRUE((*cat)->upsert(reg("s2", "api", 9090)));
    auto list = (*cat)->list();
    ASSERT_TRUE(list);
    // By service name, then id.
    EXPECT_EQ(ids(list.value()), (std::vector<std::string>{"s2", "s1"}));
    created = list.value()[1].create_index;
    // A replaced registration keeps its CreateIndex and gets a new ModifyIndex.
    ASSERT_TRUE((*cat)->upsert(reg("s1", "web", 8081, {"v2"})));
    auto again = (*cat)->list();
    EXPECT_EQ(again.value()[1].create_index, created);
    EXPECT_GT(again.value()[1].modify_index, created);
    EXPECT_EQ(again.value()[1].port, 8081);
  }
  auto store = drover::state::StateStore::open(dir);
  ASSERT_TRUE(store);
  auto cat = LocalCatalog::open(**store);
  ASSERT_TRUE(cat);
  auto list = (*cat)->list();
  ASSERT_EQ(list.value().size(), 2u);
  EXPECT_EQ(list.value()[1].tags, std::vector<std::string>{"v2"});
  EXPECT_EQ(list.value()[1].create_index, created);
  // New indexes go on from the stored ones, never back.
  ASSERT_TRUE((*cat)->upsert(reg("s3", "web", 1)));
  EXPECT_GT((*cat)->list().value().back().create_index, list.value()[1].modify_index);
  std::filesystem::remove_all(dir);
}

TEST(LocalCatalog, RemoveAndPruneTakeEntriesAwayForGood) {
  auto dir = temp_dir();
  {
    auto store = drover::state::StateStore::open(dir);
    auto cat = LocalCatalog::open(**store);
    ASSERT_TRUE((*cat)->upsert(reg("s1", "web", 1, {}, "live")));
    ASSERT_TRUE((*cat)->upsert(reg("s2", "web", 2, {}, "gone")));
    ASSERT_TRUE((*cat)->upsert(reg("s3", "web", 3, {}, "live")));
    EXPECT_EQ((*cat)->remove("nope").code(), drover::Errc::NotFound);
    ASSERT_TRUE((*cat)->remove("s3"));
    EXPECT_EQ((*cat)->prune([](const ServiceRegistration& r) { return r.alloc_id == "live"; }), 1);
  }
  auto store = drover::state::StateStore::open(dir);
  auto cat = LocalCatalog::open(**store);
  EXPECT_EQ(ids((*cat)->list().value()), std::vector<std::string>{"s1"});
  std::filesystem::remove_all(dir);
}

// The health watcher's results land on the registration (docs/networking.md, "Health"): a
// change moves the index and survives a restart; the same statuses again change nothing.
TEST(LocalCatalog, ChecksSetTheHealthOfARegistration) {
  auto dir = temp_dir();
  {
    auto store = drover::state::StateStore::open(dir);
    auto cat = LocalCatalog::open(**store);
    auto r = reg("s1", "web", 1);
    r.health = "pending";
    ASSERT_TRUE((*cat)->upsert(r));
    EXPECT_EQ((*cat)->set_checks("nope", {}).code(), drover::Errc::NotFound);
    const std::vector<CheckStatus> failing = {{"alive", "success"}, {"ready", "failure"}};
    ASSERT_TRUE((*cat)->set_checks("s1", failing));
    const uint64_t index = (*cat)->index();
    ASSERT_TRUE((*cat)->set_checks("s1", failing));
    EXPECT_EQ((*cat)->index(), index);
    auto j = to_json((*cat)->list().value()[0]);
    EXPECT_EQ(j["Health"], "critical");
    EXPECT_EQ(j["Checks"], nlohmann::json::parse(
                               R"([{"Name": "alive", "Status": "success"},
                                   {"Name": "ready", "Status": "failure"}])"));
    auto critical = filtered((*cat)->list().value(), "Health == \"passing\"");
    ASSERT_TRUE(critical) << critical.message();
    EXPECT_TRUE(critical.value().empty());
    ASSERT_TRUE((*cat)->set_checks("s1", {{"alive", "success"}, {"ready", "success"}}));
    EXPECT_GT((*cat)->index(), index);
  }
  auto store = drover::state::StateStore::open(dir);
  auto cat = LocalCatalog::open(**store);
  EXPECT_EQ((*cat)->list().value()[0].health, "passing");
  std::filesystem::remove_all(dir);
}

TEST(ServiceRegistrationJson, HealthIsTheWorstOfItsChecks) {
  EXPECT_EQ(health_of({}), "passing");
  EXPECT_EQ(health_of({{"a", "success"}, {"b", "pending"}}), "pending");
  EXPECT_EQ(health_of({{"a", "warning"}, {"b", "pending"}}), "warning");
  EXPECT_EQ(health_of({{"a", "warning"}, {"b", "failure"}}), "critical");
  EXPECT_EQ(health_of({{"a", "success"}}), "passing");
}

TEST(LocalCatalog, AChangeWakesAWaiterAndCallsSubscribers) {
  auto dir = temp_dir();
  auto store = drover::state::StateStore::open(dir);
  auto cat = LocalCatalog::open(**store);
  auto& c = **cat;
  std::atomic<int> calls{0};
  auto sub = c.subscribe([&] { ++calls; });
  const auto before = c.index();
  // Nothing changes: the wait runs out and the index is the same.
  EXPECT_EQ(c.wait_for_change(before, 50ms), before);
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(c.upsert(reg("s1", "web", 1)));
  });
  auto after = c.wait_for_change(before, 10s);
  writer.join();
  EXPECT_GT(after, before);
  EXPECT_EQ(calls.load(), 1);
  c.unsubscribe(sub);
  ASSERT_TRUE(c.remove("s1"));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_GT(c.index(), after);
  std::filesystem::remove_all(dir);
}

TEST(ServiceRegistrationJson, ReadsBackWhatItWritesAndNamesABadField) {
  auto r = reg("s1", "web", 8080, {"a", "b"});
  r.create_index = 3;
  r.modify_index = 7;
  auto j = to_json(r);
  for (const char* k : {"ID", "ServiceName", "Namespace", "NodeID", "Datacenter", "JobID",
                        "AllocID", "Tags", "Address", "Port", "CreateIndex", "ModifyIndex"})
    EXPECT_TRUE(j.contains(k)) << k;
  auto back = registration_from_json(j);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back.value(), r);
  j["Port"] = "http";
  auto bad = registration_from_json(j);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("Port"), std::string::npos) << bad.message();
}

TEST(ServiceRegistrationJson, IdsFollowNomadsScheme) {
  EXPECT_EQ(registration_id("a1", "srv", "", "web", "http"), "_nomad-task-a1-srv-web-http");
  EXPECT_EQ(registration_id("a1", "srv", "g", "web", "http"), "_nomad-task-a1-group-g-web-http");
}

TEST(ServiceQueries, SummaryListsEachServiceOnceWithTheUnionOfItsTags) {
  std::vector<ServiceRegistration> all = {reg("1", "web", 1, {"b", "a"}), reg("2", "web", 2, {"c"}),
                                          reg("3", "db", 3)};
  auto s = services_summary(all);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["Namespace"], "default");
  ASSERT_EQ(s[0]["Services"].size(), 2u);
  EXPECT_EQ(s[0]["Services"][0]["ServiceName"], "db");
  EXPECT_EQ(s[0]["Services"][1]["ServiceName"], "web");
  EXPECT_EQ(s[0]["Services"][1]["Tags"], nlohmann::json({"a", "b", "c"}));
}

TEST(ServiceQueries, FilterReadsNomadsTagAndFieldClauses) {
  std::vector<ServiceRegistration> all = {reg("1", "web", 1, {"v1", "primary"}),
                                          reg("2", "web", 2, {"v2"}),
                                          reg("3", "web", 3, {"v1"}, "other")};
  auto f = [&](const std::string& e) {
    auto r = filtered(all, e);
    EXPECT_TRUE(r) << e << ": " << r.message();
    return r ? ids(r.value()) : std::vector<std::string>{};
  };
  EXPECT_EQ(f("\"v1\" in Tags"), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(f("\"v1\" not in Tags"), std::vector<std::string>{"2"});
  EXPECT_EQ(f("Tags contains \"primary\""), std::vector<std::string>{"1"});
  EXPECT_EQ(f("\"v1\" in Tags and AllocID == \"other\""), std::vector<std::string>{"3"});
  EXPECT_EQ(f("Port != \"2\""), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(f(""), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(ids(with_tag(all, "v2")), std::vector<std::string>{"2"});
  for (const char* bad :
       {"Tags matches \"x\"", "Colour == \"red\"", "\"v1\" in Tags or", "\"open"}) {
    auto r = filtered(all, bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.code(), drover::Errc::Invalid);
      EXPECT_NE(r.message().find("filter"), std::string::npos) << r.message();
    }
  }
}

TEST(ServiceQueries, ChooseIsStableAndMovesLittleWhenAnInstanceGoes) {
  std::vector<ServiceRegistration> all;
  for (int i = 0; i < 20; ++i)
    all.push_back(reg("id" + std::to_string(i), "web", 20000 + i, {}, "a" + std::to_string(i)));
  auto first = choose(all, "3|client-a");
  ASSERT_TRUE(first) << first.message();
  ASSERT_EQ(first.value().size(), 3u);
  // The same key picks the same instances whatever order the catalog lists them in.
  auto reversed = all;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(ids(choose(reversed, "3|client-a").value()), ids(first.value()));
  // Another key spreads elsewhere (with 20 instances, two keys agreeing on all 3 is unlikely).
  EXPECT_NE(ids(choose(all, "3|client-b").value()), ids(first.value()));
  // An instance that was not picked going away changes no pick.
  std::set<std::string> picked;
  for (const auto& r : first.value()) picked.insert(r.id);
  auto fewer = all;
  std::erase_if(fewer, [&](const auto& r) { return !picked.count(r.id) && r.id == "id5"; });
  EXPECT_EQ(ids(choose(fewer, "3|client-a").value()), ids(first.value()));
  // More asked for than there are: all of them.
  EXPECT_EQ(choose(all, "50|k").value().size(), 20u);
  for (const char* bad : {"3", "|k", "x|k", "3|", "-1|k"}) {
    auto r = choose(all, bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.code(), drover::Errc::Invalid);
    }
  }
}

TEST(ServiceQueries, ChooseHashesAsNomadDoes) {
  // md5 over the port as a Go varint in 8 bytes, then AllocID, ID, Namespace, Address,
  // ServiceName, tags and the key: a value worked out by hand with Python's hashlib.
  ServiceRegistration r;
  r.id = "i";
  r.service_name = "s";
  r.alloc_id = "a";
  r.namespace_ = "default";
  r.address = "1.2.3.4";
  r.port = 80;
  r.tags = {"t"};
  EXPECT_EQ(hash_with(r, "k"), "f573c384c70e04c4eb92ed4a29a6e146");
}
