// The batched reporter on a fake clock: one write per window, latest per alloc, dedup of
// acknowledged updates, backoff on failure, bounded queue.
#include "upstream/alloc_reporter.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace drover;
using namespace std::chrono_literals;
using upstream::AllocReporter;
using upstream::AllocUpdate;

namespace {

struct FakeUpstream {
  std::vector<std::vector<AllocUpdate>> writes;
  bool fail = false;
  Status send(const std::vector<AllocUpdate>& batch) {
    writes.push_back(batch);
    if (fail) return make_error("etcd unreachable");
    return {};
  }
};

AllocUpdate update(const std::string& id, const std::string& status) {
  return {id, {{"ClientStatus", status}}};
}

}  // namespace

TEST(AllocReporter, OneWritePerWindowWithTheLatestPerAlloc) {
  FakeUpstream up;
  AllocReporter r([&](const auto& b) { return up.send(b); });
  auto t0 = AllocReporter::Clock::time_point{} + 1h;
  r.enqueue(update("a", "pending"));
  r.enqueue(update("a", "running"));
  r.enqueue(update("b", "pending"));
  EXPECT_TRUE(r.tick(t0));
  ASSERT_EQ(up.writes.size(), 1u);
  ASSERT_EQ(up.writes[0].size(), 2u);
  EXPECT_EQ(up.writes[0][0].status["ClientStatus"], "running");
  r.enqueue(update("a", "complete"));
  EXPECT_FALSE(r.tick(t0 + 100ms));  // inside the 200 ms window
  EXPECT_TRUE(r.tick(t0 + 200ms));
  ASSERT_EQ(up.writes.size(), 2u);
  EXPECT_EQ(up.writes[1].size(), 1u);
  EXPECT_EQ(r.pending(), 0u);
}

TEST(AllocReporter, AnUpdateEqualToTheAcknowledgedOneIsDropped) {
  FakeUpstream up;
  AllocReporter r([&](const auto& b) { return up.send(b); });
  auto t0 = AllocReporter::Clock::time_point{} + 1h;
  r.enqueue(update("a", "running"));
  r.tick(t0);
  r.enqueue(update("a", "running"));
  EXPECT_EQ(r.pending(), 0u);
  // A change and back again before the next write: nothing to send.
  r.enqueue(update("a", "failed"));
  r.enqueue(update("a", "running"));
  EXPECT_FALSE(r.tick(t0 + 1s));
  EXPECT_EQ(up.writes.size(), 1u);
}

TEST(AllocReporter, FailedWritesBackOffKeepTheLatestAndFlushOnReturn) {
  FakeUpstream up;
  up.fail = true;
  AllocReporter r([&](const auto& b) { return up.send(b); });
  auto t = AllocReporter::Clock::time_point{} + 1h;
  r.enqueue(update("a", "running"));
  EXPECT_TRUE(r.tick(t));  // fails: retry after 250 ms
  EXPECT_FALSE(r.tick(t + 200ms));
  EXPECT_TRUE(r.tick(t + 250ms));  // fails: 500 ms
  EXPECT_FALSE(r.tick(t + 700ms));
  EXPECT_TRUE(r.tick(t + 750ms));   // fails: 1 s
  EXPECT_TRUE(r.tick(t + 1750ms));  // fails: 2 s
  EXPECT_TRUE(r.tick(t + 3750ms));  // fails: 4 s
  EXPECT_TRUE(r.tick(t + 7750ms));  // fails: 8 s, capped at 5 s
  EXPECT_FALSE(r.tick(t + 12700ms));
  EXPECT_TRUE(r.tick(t + 12750ms));  // fails: 5 s again
  auto before = up.writes.size();
  EXPECT_FALSE(r.tick(t + 13s));
  r.enqueue(update("a", "complete"));
  r.enqueue(update("b", "running"));
  up.fail = false;
  r.retry_now();  // the upstream is back: no waiting out the backoff
  EXPECT_TRUE(r.tick(t + 13s));
  EXPECT_EQ(up.writes.size(), before + 1);
  ASSERT_EQ(up.writes.back().size(), 2u);
  EXPECT_EQ(up.writes.back()[0].status["ClientStatus"], "complete");
  EXPECT_EQ(r.pending(), 0u);
  EXPECT_TRUE(r.last_write_ok());
}

TEST(AllocReporter, TheQueueIsBounded) {
  FakeUpstream up;
  AllocReporter::Options o;
  o.max_pending = 3;
  AllocReporter r([&](const auto& b) { return up.send(b); }, o);
  for (int i = 0; i < 5; ++i) r.enqueue(update("a" + std::to_string(i), "running"));
  EXPECT_EQ(r.pending(), 3u);
  EXPECT_EQ(r.dropped(), 2u);
  r.tick(AllocReporter::Clock::time_point{} + 1h);
  EXPECT_EQ(up.writes[0].front().alloc_id, "a2");
}

// An outage long enough to overflow the queue loses no alloc's final status: the allocs
// pushed out are queued again, as they are by then, once writes go through and there is room.
TEST(AllocReporter, AllocsPushedOutByTheBoundAreSentOnceTheUpstreamIsBack) {
  FakeUpstream up;
  up.fail = true;
  AllocReporter::Options o;
  o.max_pending = 4;
  o.max_batch = 2;
  AllocReporter r([&](const auto& b) { return up.send(b); }, o);
  std::map<std::string, std::string> now;  // each alloc's status as the agent has it
  std::vector<std::vector<std::string>> asked;
  r.set_refill([&](const std::vector<std::string>& ids) {
    asked.push_back(ids);
    for (const auto& id : ids) r.enqueue(update(id, now[id]));
  });
  auto t = AllocReporter::Clock::time_point{} + 1h;
  for (int i = 0; i < 10; ++i) {
    const std::string id = "a" + std::to_string(i);
    now[id] = "running";
    r.enqueue(update(id, "running"));
  }
  EXPECT_TRUE(r.tick(t));  // fails: nothing refilled while the upstream is down
  EXPECT_TRUE(asked.empty());
  for (auto& [id, status] : now) status = "complete";  // they all finish during the outage
  for (int i = 6; i < 10; ++i) r.enqueue(update("a" + std::to_string(i), "complete"));
  EXPECT_EQ(r.dropped(), 6u);
  up.fail = false;
  std::map<std::string, std::string> seen;
  for (int round = 0; round < 20 && r.pending() > 0; ++round) {
    r.retry_now();
    r.tick(t += 1s);
    for (const auto& u : up.writes.back()) seen[u.alloc_id] = u.status["ClientStatus"];
  }
  EXPECT_EQ(r.pending(), 0u);
  EXPECT_EQ(seen, now) << "every alloc's latest status reached the upstream";
  EXPECT_FALSE(asked.empty());
  for (const auto& ids : asked) EXPECT_LE(ids.size(), 2u) << "refilled beyond half the bound";
}

// Before an agent registers its node again, every queued status goes out at once, in as many
// batches as it takes (docs/cluster.md, "Disconnected nodes").
TEST(AllocReporter, FlushSendsEveryQueuedUpdateNowAndSaysWhenAWriteFailed) {
  FakeUpstream up;
  AllocReporter::Options o;
  o.max_batch = 2;
  AllocReporter r([&](const auto& b) { return up.send(b); }, o);
  EXPECT_TRUE(r.flush(1s)) << "nothing queued";
  EXPECT_TRUE(up.writes.empty());
  r.enqueue(update("a", "running"));
  r.enqueue(update("b", "failed"));
  r.enqueue(update("c", "complete"));
  EXPECT_TRUE(r.flush(5s));
  EXPECT_EQ(up.writes.size(), 2u) << "two batches, no window between them";
  EXPECT_EQ(r.pending(), 0u);
  up.fail = true;
  r.enqueue(update("a", "complete"));
  EXPECT_FALSE(r.flush(5s));
  EXPECT_EQ(r.pending(), 1u) << "kept for the next write";
}
