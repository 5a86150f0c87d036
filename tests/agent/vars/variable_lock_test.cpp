// Variable locks (docs/variables.md, "Locks") on the real SQLite state store, with a clock the
// test moves: a lock shuts out everyone but its holder, lives twice its TTL past the last
// renewal and LockDelay more on each agent's monotonic clock from when that agent saw it
// written, survives a restart of the store, and keeps its holder through a full key rotation.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "state/state_store.hpp"
#include "vars/variable_store.hpp"

using namespace drover::vars;

namespace {

constexpr int64_t kS = kSecondNs;
using Items = std::map<std::string, std::string>;

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<drover::state::StateStore> state;
  std::shared_ptr<Keyring> keyring;
  std::unique_ptr<VariableStore> vars;
  std::shared_ptr<std::atomic<int64_t>> now = std::make_shared<std::atomic<int64_t>>(1000 * kS);
  Fixture() {
    char tmpl[] = "/tmp/drover-var-locks-XXXXXX";
    dir = mkdtemp(tmpl);
    keyring = Keyring::open_local(dir / "keyring").value();
    open();
  }
  ~Fixture() {
    vars.reset();
    state.reset();
    std::filesystem::remove_all(dir);
  }
  void open() {
    vars.reset();
    state.reset();
    state = drover::state::StateStore::open(dir).value();
    vars = std::make_unique<VariableStore>(make_state_store_backend(*state), keyring,
                                           [now = now] { return now->load(); });
  }
  void advance(int64_t ns) { *now += ns; }
  VariableLock lock(int64_t ttl_s, int64_t delay_s) const {
    VariableLock l;
    l.ttl_ns = ttl_s * kS;
    l.delay_ns = delay_s * kS;
    return l;
  }
};

}  // namespace

TEST(VariableLocks, ALockShutsOutEveryoneButItsHolder) {
  Fixture f;
  ASSERT_TRUE(f.vars->put("default", "locks/leader", {{"owner", "none"}}));
  auto a = f.vars->acquire_lock("default", "locks/leader", f.lock(10, 5), std::nullopt);
  ASSERT_TRUE(a) << a.message();
  ASSERT_FALSE(a->conflict);
  ASSERT_TRUE(a->written && a->written->meta.lock);
  const auto id = a->written->meta.lock->id;
  EXPECT_EQ(id.size(), 36u);
  // Acquired without items, the variable keeps its own.
  EXPECT_EQ(f.vars->get("default", "locks/leader")->items.at("owner"), "none");
  EXPECT_EQ(f.vars->get("default", "locks/leader")->meta.lock->id, id);

  auto b = f.vars->acquire_lock("default", "locks/leader", f.lock(10, 5), std::nullopt);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->conflict);
  EXPECT_EQ(b->lock_refusal, "variable already holds a lock");
  auto write = f.vars->put("default", "locks/leader", {{"owner", "b"}});
  ASSERT_TRUE(write);
  EXPECT_EQ(write->lock_refusal, "attempting to modify locked variable");
  auto del = f.vars->remove("default", "locks/leader");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->lock_refusal, "attempting to modify locked variable");
  EXPECT_EQ(f.vars->renew_lock("default", "locks/leader", "not-the-id")->lock_refusal,
            "attempting to modify locked variable");
  EXPECT_EQ(f.vars->release_lock("default", "locks/leader", "not-the-id")->lock_refusal,
            "attempting to modify locked variable");
  EXPECT_EQ(f.vars->get("default", "locks/leader")->items.at("owner"), "none");

  // The holder writes with its ID, and the lock stays.
  auto mine = f.vars->put("default", "locks/leader", {{"owner", "a"}}, std::nullopt, id);
  ASSERT_TRUE(mine);
  ASSERT_FALSE(mine->conflict) << mine->lock_refusal;
  EXPECT_EQ(f.vars->get("default", "locks/leader")->meta.lock->id, id);
  // Released, the items stay and anyone may write or lock again.
  auto released = f.vars->release_lock("default", "locks/leader", id);
  ASSERT_TRUE(released);
  ASSERT_FALSE(released->conflict) << released->lock_refusal;
  auto after = f.vars->get("default", "locks/leader");
  EXPECT_FALSE(after->meta.lock);
  EXPECT_EQ(after->items.at("owner"), "a");
  EXPECT_EQ(f.vars->release_lock("default", "locks/leader", id)->lock_refusal,
            "variable doesn't hold a lock");
  EXPECT_FALSE(f.vars->put("default", "locks/leader", {{"owner", "b"}})->conflict);
  auto again = f.vars->acquire_lock("default", "locks/leader", f.lock(10, 5), std::nullopt);
  ASSERT_FALSE(again->conflict);
  EXPECT_NE(again->written->meta.lock->id, id);
  // Renewing or releasing a variable that is not there is a 404.
  EXPECT_EQ(f.vars->renew_lock("default", "locks/none", id).code(), drover::Errc::NotFound);
}

TEST(VariableLocks, ALeaseLastsTwiceItsTtlPastTheLastRenewalThenItsDelay) {
  Fixture f;
  auto a = f.vars->acquire_lock("default", "locks/job", f.lock(10, 5), std::nullopt);
  ASSERT_TRUE(a && !a->conflict);
  const auto id = a->written->meta.lock->id;
  // A lock on a variable that did not exist makes it, with no items.
  EXPECT_TRUE(f.vars->get("default", "locks/job")->items.empty());

  // Renewed within its TTL, again and again: held for as long as it is renewed.
  for (int i = 0; i < 5; ++i) {
    f.advance(9 * kS);
    auto r = f.vars->renew_lock("default", "locks/job", id);
    ASSERT_TRUE(r);
    ASSERT_FALSE(r->conflict) << i << ": " << r->lock_refusal;
  }
  // Not renewed: still held just before twice the TTL, and the holder may still renew then.
  f.advance(20 * kS - 1);
  EXPECT_TRUE(f.vars->acquire_lock("default", "locks/job", f.lock(10, 5), std::nullopt)->conflict);
  ASSERT_FALSE(f.vars->renew_lock("default", "locks/job", id)->conflict);
  // Lost at twice the TTL: the holder can no longer renew it...
  f.advance(20 * kS);
  EXPECT_EQ(f.vars->renew_lock("default", "locks/job", id)->lock_refusal,
            "the lock was lost: it was not renewed within twice its TTL");
  // ...and for the delay no one else may take it or write the variable.
  f.advance(5 * kS - 1);
  EXPECT_TRUE(f.vars->acquire_lock("default", "locks/job", f.lock(10, 5), std::nullopt)->conflict);
  EXPECT_TRUE(f.vars->put("default", "locks/job", {{"k", "v"}})->conflict);
  EXPECT_TRUE(f.vars->get("default", "locks/job")->meta.lock);
  // After it, the lock is gone: reads show none, and another takes it.
  f.advance(1);
  EXPECT_FALSE(f.vars->get("default", "locks/job")->meta.lock);
  EXPECT_FALSE(f.vars->list("default", "locks/")->at(0).lock);
  auto b = f.vars->acquire_lock("default", "locks/job", f.lock(10, 5), Items{{"owner", "b"}});
  ASSERT_TRUE(b);
  ASSERT_FALSE(b->conflict) << b->lock_refusal;
  EXPECT_NE(b->written->meta.lock->id, id);
  // Items given with an acquire replace the variable's.
  EXPECT_EQ(f.vars->get("default", "locks/job")->items,
            (std::map<std::string, std::string>{{"owner", "b"}}));
  // The old holder's ID opens nothing any more.
  EXPECT_TRUE(f.vars->put("default", "locks/job", {{"k", "v"}}, std::nullopt, id)->conflict);
}

TEST(VariableLocks, NomadsDefaultsAndBoundsForTtlAndDelay) {
  Fixture f;
  auto d = f.vars->acquire_lock("default", "locks/defaults", f.lock(0, 0), std::nullopt);
  ASSERT_TRUE(d) << d.message();
  EXPECT_EQ(d->written->meta.lock->ttl_ns, 15 * kS);
  EXPECT_EQ(d->written->meta.lock->delay_ns, 15 * kS);
  auto json = to_json(d->written->meta);
  EXPECT_EQ(json["Lock"]["TTL"], "15s");
  EXPECT_EQ(json["Lock"]["LockDelay"], "15s");
  EXPECT_FALSE(to_json(d->written->meta, false).contains("Lock"));
  for (int64_t ttl : {9, 24 * 3600 + 1}) {
    auto r = f.vars->acquire_lock("default", "locks/bounds", f.lock(ttl, 1), std::nullopt);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.code(), drover::Errc::Invalid);
    EXPECT_NE(r.message().find("Lock.TTL: must be between 10 seconds and 24 hours"),
              std::string::npos)
        << r.message();
  }
  auto negative = f.vars->acquire_lock("default", "locks/bounds", f.lock(10, -1), std::nullopt);
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.message().find("must be positive"), std::string::npos);
  EXPECT_FALSE(f.vars->exists("default", "locks/bounds"));
}

TEST(VariableLocks, ALockOutlivesARestartAndAFullKeyRotation) {
  Fixture f;
  auto a = f.vars->acquire_lock("default", "locks/db", f.lock(30, 5), Items{{"dsn", "pg://a"}});
  ASSERT_TRUE(a && !a->conflict);
  const auto id = a->written->meta.lock->id;
  f.open();  // the agent restarted: the state store opened again
  auto v = f.vars->get("default", "locks/db");
  ASSERT_TRUE(v && v->meta.lock);
  EXPECT_EQ(v->meta.lock->id, id);
  EXPECT_TRUE(f.vars->put("default", "locks/db", {{"dsn", "x"}})->conflict);
  ASSERT_TRUE(f.vars->rotate_key(true));
  auto rotated = f.vars->get("default", "locks/db");
  ASSERT_TRUE(rotated && rotated->meta.lock);
  EXPECT_EQ(rotated->meta.lock->id, id);
  EXPECT_EQ(rotated->items.at("dsn"), "pg://a");
  EXPECT_FALSE(f.vars->renew_lock("default", "locks/db", id)->conflict);
}

TEST(VariableLocks, EachAgentMeasuresALeaseFromWhenItFirstSawTheLockSoNoneEndsItEarly) {
  Fixture f;
  // A second agent over the same store (as two agents over one etcd), its own clock far off.
  auto other_now = std::make_shared<std::atomic<int64_t>>(5 * kS);
  VariableStore other(make_state_store_backend(*f.state), f.keyring,
                      [other_now] { return other_now->load(); });
  auto a = f.vars->acquire_lock("default", "locks/shared", f.lock(10, 5), std::nullopt);
  ASSERT_TRUE(a && !a->conflict);
  // The holder's agent is 15 s on before the other first reads the lock...
  f.advance(15 * kS);
  EXPECT_TRUE(other.acquire_lock("default", "locks/shared", f.lock(10, 5), std::nullopt)->conflict);
  // ...so there the lease ends 20 s after that read, not 5 s after it: at 19 s it still holds,
  // where the holder's own agent already counts it gone.
  f.advance(19 * kS);
  *other_now += 19 * kS;
  EXPECT_FALSE(f.vars->renew_lock("default", "locks/shared", a->written->meta.lock->id)
                   ->lock_refusal.empty());
  EXPECT_TRUE(other.acquire_lock("default", "locks/shared", f.lock(10, 5), std::nullopt)->conflict);
  // Past its own lease and delay the other agent lets a new holder in.
  *other_now += 6 * kS;
  auto b = other.acquire_lock("default", "locks/shared", f.lock(10, 5), std::nullopt);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->conflict) << b->lock_refusal;
}
