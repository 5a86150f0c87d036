// trim_free_heap: memory freed below a live allocation goes back to the kernel, which glibc's
// free() alone does not do.
#include "core/heap_trim.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace drover {
namespace {

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string key;
  long value = 0;
  while (f >> key) {
    if (key == "VmRSS:") {
      f >> value;
      return value;
    }
    f.ignore(1 << 20, '\n');
  }
  return -1;
}

TEST(HeapTrim, FreedMemoryUnderALiveBlockGoesBack) {
  // 64 MiB in 4 KiB blocks (below the mmap threshold: they come from the arena), written so
  // that they are resident, then a live block above them, then the 64 MiB freed.
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 16384; ++i) {
    blocks.emplace_back(new char[4096]);
    std::fill_n(blocks.back().get(), 4096, 'x');
  }
  auto pin = std::make_unique<char[]>(4096);  // keeps the arena's top from shrinking
  pin[0] = 'y';
  blocks.clear();
  const long before = rss_kib();
  HeapTrim t = trim_free_heap();
  const long after = rss_kib();
  EXPECT_GE(t.free_bytes, std::size_t{60} << 20);
  EXPECT_TRUE(t.trimmed);
  EXPECT_GT(before - after, 48 * 1024) << "RSS " << before << " -> " << after << " KiB";
  EXPECT_EQ(pin[0], 'y');
}

TEST(HeapTrim, LittleFreeMemoryIsLeftAlone) {
  HeapTrim t = trim_free_heap(std::size_t{1} << 40);
  EXPECT_FALSE(t.trimmed);
}

}  // namespace
}  // namespace drover
