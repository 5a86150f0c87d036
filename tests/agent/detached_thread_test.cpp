// DetachedThread: a thread that has ended gives its stack back before anyone joins it, and
// join still waits for the function and its captures.
#include "drover/common/detached_thread.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace drover {
namespace {

using namespace std::chrono_literals;

std::size_t threads_now() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Thread stacks mapped now: writable mappings of the default stack size right after a guard
// page. (Not VmSize: each thread's first malloc may reserve a 64 MiB arena.)
int stack_mappings() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  std::size_t size = 0;
  pthread_getattr_default_np(&attr);
  pthread_attr_getstacksize(&attr, &size);
  pthread_attr_destroy(&attr);
  std::ifstream f("/proc/self/maps");
  std::string line;
  unsigned long prev_end = 0;
  bool prev_guard = false;
  int n = 0;
  while (std::getline(f, line)) {
    unsigned long lo = 0, hi = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) != 3) continue;
    if (prev_guard && prev_end == lo && std::string(perms) == "rw-p" && hi - lo == size) ++n;
    prev_guard = std::string(perms) == "---p";
    prev_end = hi;
  }
  return n;
}

template <class F>
bool eventually(F f) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!f()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(DetachedThread, JoinWaitsForTheFunctionAndItsCaptures) {
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> seen = token;
  std::atomic<bool> go{false};
  DetachedThread t([token = std::move(token), &go] {
    while (!go) std::this_thread::sleep_for(1ms);
  });
  EXPECT_TRUE(t.joinable());
  EXPECT_FALSE(seen.expired());  // the running function still holds its capture
  go = true;
  t.join();
  EXPECT_FALSE(t.joinable());
  EXPECT_TRUE(seen.expired());  // gone before join returned, not at some later thread exit
}

TEST(DetachedThread, EndedThreadsGiveTheirStacksBackBeforeTheyAreJoined) {
  // A std::thread that ended keeps its stack mapped until join, so 32 of them would leave 32
  // stacks. glibc keeps at most 40 MiB of freed stacks for reuse (5 of 8 MiB), and frees a
  // detached thread's stack once it is fully gone, so one or two more may linger.
  constexpr int kThreads = 32;
  const std::size_t threads_before = threads_now();
  const int stacks_before = stack_mappings();
  std::vector<DetachedThread> ts;
  std::atomic<int> ran{0};
  for (int i = 0; i < kThreads; ++i) ts.emplace_back([&ran] { ran.fetch_add(1); });
  ASSERT_TRUE(eventually([&] { return ran == kThreads && threads_now() <= threads_before; }));
  EXPECT_LE(stack_mappings() - stacks_before, 8) << "ended threads still hold their stacks";
  for (auto& t : ts) t.join();
}

TEST(DetachedThread, AThreadCannotJoinItself) {
  std::atomic<bool> threw{false};
  DetachedThread* self = nullptr;
  std::atomic<bool> ready{false};
  DetachedThread t([&] {
    while (!ready) std::this_thread::sleep_for(1ms);
    try {
      self->join();
    } catch (const std::system_error& e) {
      threw = e.code() == std::errc::resource_deadlock_would_occur;
    }
  });
  self = &t;
  ready = true;
  t.join();
  EXPECT_TRUE(threw);
}

}  // namespace
}  // namespace drover
