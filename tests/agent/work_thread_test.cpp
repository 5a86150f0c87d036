// WorkThread: work posted runs in order, off the poster's thread; stop() runs what was queued
// before it returns; work posted after stop() runs on the poster's thread.
#include "drover/common/work_thread.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace drover {
namespace {

TEST(WorkThread, RunsPostedWorkInOrderOnItsOwnThread) {
  WorkThread w;
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> where;
  for (int i = 0; i < 100; ++i)
    w.post([&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
      where.push_back(std::this_thread::get_id());
    });
  std::promise<void> done;
  w.post([&] { done.set_value(); });
  done.get_future().wait();
  std::lock_guard lock(mu);
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  for (auto id : where) {
    EXPECT_NE(id, std::this_thread::get_id());
    EXPECT_EQ(id, where.front());
  }
}

TEST(WorkThread, StopRunsWhatWasQueuedFirst) {
  int ran = 0;
  {
    WorkThread w;
    std::promise<void> go;
    auto gate = go.get_future().share();
    w.post([gate] { gate.wait(); });  // holds the thread while more is queued
    for (int i = 0; i < 10; ++i) w.post([&] { ++ran; });
    std::thread release([&] { go.set_value(); });
    w.stop();
    release.join();
    EXPECT_EQ(ran, 10);
  }
  EXPECT_EQ(ran, 10);
}

TEST(WorkThread, WorkPostedAfterStopRunsOnThePostersThread) {
  WorkThread w;
  w.stop();
  std::thread::id where;
  w.post([&] { where = std::this_thread::get_id(); });
  EXPECT_EQ(where, std::this_thread::get_id());
}

}  // namespace
}  // namespace drover
