// The batched reporter on a fake clock: one write per window, latest per alloc, dedup of
// acknowledged updates, backoff on failure, bounded queue.
#include "upstream/alloc_reporter.hpp"

#include <gtest/gtest.h>

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
