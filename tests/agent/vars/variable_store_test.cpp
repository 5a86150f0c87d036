// VariableStore on the real SQLite state store: check-and-set, Nomad's path and size limits,
// nothing plain in the database file, full key rotation, and the change signal the template
// engine waits on.
#include "vars/variable_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "state/state_store.hpp"

using namespace drover::vars;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<drover::state::StateStore> state;
  std::unique_ptr<VariableStore> vars;
  Fixture() {
    char tmpl[] = "/tmp/drover-vars-XXXXXX";
    dir = mkdtemp(tmpl);
    state = drover::state::StateStore::open(dir).value();
    std::shared_ptr<Keyring> k = Keyring::open_local(dir / "keyring").value();
    vars = std::make_unique<VariableStore>(make_state_store_backend(*state), k);
  }
  std::string db_bytes() const {
    std::string all;
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().filename().string().rfind("state.db", 0) == 0) {
        std::ifstream in(e.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        all += ss.str();
      }
    return all;
  }
};

}  // namespace

TEST(VariableStore, PutGetListDeleteWithIndexes) {
  Fixture f;
  auto w = f.vars->put("default", "nomad/jobs/web", {{"user", "admin"}, {"pass", "s3cret"}});
  ASSERT_TRUE(w) << w.message();
  ASSERT_TRUE(w->written);
  EXPECT_EQ(w->written->meta.create_index, w->written->meta.modify_index);
  auto first = w->written->meta.modify_index;
  auto v = f.vars->get("default", "nomad/jobs/web");
  ASSERT_TRUE(v) << v.message();
  EXPECT_EQ(v->items.at("pass"), "s3cret");
  auto w2 = f.vars->put("default", "nomad/jobs/web", {{"pass", "n3w"}});
  ASSERT_TRUE(w2);
  EXPECT_EQ(w2->written->meta.create_index, first);
  EXPECT_GT(w2->written->meta.modify_index, first);
  ASSERT_TRUE(f.vars->put("default", "other/thing", {{"a", "b"}}));
  auto l = f.vars->list("default", "nomad/");
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].path, "nomad/jobs/web");
  EXPECT_EQ(f.vars->list("*", "")->size(), 2u);
  ASSERT_TRUE(f.vars->remove("default", "nomad/jobs/web"));
  auto gone = f.vars->get("default", "nomad/jobs/web");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.code(), drover::Errc::NotFound);
}

TEST(VariableStore, CheckAndSetRefusesAStaleIndexAndReturnsTheCurrentValue) {
  Fixture f;
  // cas=0: only if absent.
  auto created = f.vars->put("default", "app/config", {{"v", "1"}}, 0);
  ASSERT_TRUE(created);
  ASSERT_FALSE(created->conflict);
  auto again = f.vars->put("default", "app/config", {{"v", "2"}}, 0);
  ASSERT_TRUE(again);
  ASSERT_TRUE(again->conflict);
  ASSERT_TRUE(again->current);
  EXPECT_EQ(again->current->items.at("v"), "1");
  auto idx = created->written->meta.modify_index;
  auto ok = f.vars->put("default", "app/config", {{"v", "3"}}, idx);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->conflict);
  auto stale = f.vars->put("default", "app/config", {{"v", "4"}}, idx);
  ASSERT_TRUE(stale->conflict);
  EXPECT_EQ(stale->current->items.at("v"), "3");
  EXPECT_EQ(f.vars->get("default", "app/config")->items.at("v"), "3");
  auto del = f.vars->remove("default", "app/config", idx);
  ASSERT_TRUE(del);
  EXPECT_TRUE(del->conflict);
  EXPECT_TRUE(f.vars->exists("default", "app/config"));
  EXPECT_FALSE(f.vars->remove("default", "app/config", ok->written->meta.modify_index)->conflict);
  EXPECT_FALSE(f.vars->exists("default", "app/config"));
}

TEST(VariableStore, NomadsPathAndSizeLimits) {
  Fixture f;
  auto bad = [&](const std::string& path, std::map<std::string, std::string> items,
                 const std::string& words) {
    auto r = f.vars->put("default", path, items);
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(r.code(), drover::Errc::Invalid);
    EXPECT_NE(r.message().find(words), std::string::npos) << r.message();
  };
  bad("", {{"a", "b"}}, "requires a path");
  bad(std::string(129, 'a'), {{"a", "b"}}, "at most 128");
  bad("has space", {{"a", "b"}}, "character outside");
  bad("dots.not.ok", {{"a", "b"}}, "character outside");
  bad("nomad", {{"a", "b"}}, "reserved top-level");
  bad("nomad/other", {{"a", "b"}}, "only paths at");
  bad("nomad/job-templates", {{"a", "b"}}, "reserved directory");
  bad("ok/path", {}, "empty variables");
  bad("ok/path", {{"k", std::string(64 * 1024, 'x')}}, "64KiB");
  EXPECT_TRUE(f.vars->put("default", std::string(128, 'a'), {{"a", "b"}}));
  EXPECT_TRUE(f.vars->put("default", "a-b_c~d/e", {{"k", std::string(64 * 1024 - 1, 'x')}}));
  EXPECT_TRUE(f.vars->put("default", "nomad/job-templates/t", {{"a", "b"}}));
  EXPECT_FALSE(f.vars->put("*", "ok", {{"a", "b"}}));
}

TEST(VariableStore, TheDatabaseNeverHoldsAPlainValue) {
  Fixture f;
  const std::string secret = "PlainSecretValue-7f3a9c";
  ASSERT_TRUE(f.vars->put("default", "nomad/jobs/web", {{"password", secret}}));
  ASSERT_TRUE(f.vars->put("default", "nomad/jobs/web", {{"password", secret + "2"}}));
  auto bytes = f.db_bytes();
  ASSERT_FALSE(bytes.empty());
  EXPECT_NE(bytes.find("nomad/jobs/web"), std::string::npos);  // metadata is in clear
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(bytes.find("password"), std::string::npos);  // item keys are sealed too
}

TEST(VariableStore, FullRotationReSealsEveryValueWithTheNewKey) {
  Fixture f;
  ASSERT_TRUE(f.vars->put("default", "a", {{"k", "1"}}));
  ASSERT_TRUE(f.vars->put("default", "b", {{"k", "2"}}));
  auto old_id = f.vars->keyring().active_id();
  // Without -full the old value keeps its key and still opens.
  auto r1 = f.vars->rotate_key(false);
  ASSERT_TRUE(r1) << r1.message();
  EXPECT_EQ(f.state->variable("default", "a")->key_id, old_id);
  EXPECT_EQ(f.vars->get("default", "a")->items.at("k"), "1");
  auto r2 = f.vars->rotate_key(true);
  ASSERT_TRUE(r2) << r2.message();
  for (const char* p : {"a", "b"}) {
    EXPECT_EQ(f.state->variable("default", p)->key_id, r2->id) << p;
  }
  EXPECT_EQ(f.vars->get("default", "b")->items.at("k"), "2");
}

TEST(VariableStore, WaitForChangeWakesOnAChangeUnderItsPrefixOnly) {
  Fixture f;
  auto seen = f.vars->index();
  // A change elsewhere does not wake a waiter on nomad/jobs/web.
  ASSERT_TRUE(f.vars->put("default", "nomad/jobs/db", {{"a", "b"}}));
  auto t0 = std::chrono::steady_clock::now();
  f.vars->wait_for_change("default", "nomad/jobs/web", seen, 200ms);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
  std::string got;
  int sub =
      f.vars->subscribe([&](const std::string&, const std::string& path, uint64_t) { got = path; });
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    (void)f.vars->put("default", "nomad/jobs/web", {{"a", "c"}});
  });
  auto idx = f.vars->wait_for_change("default", "nomad/jobs/web", seen, 10s);
  writer.join();
  EXPECT_GT(idx, seen + 1);
  EXPECT_EQ(got, "nomad/jobs/web");
  f.vars->unsubscribe(sub);
}
