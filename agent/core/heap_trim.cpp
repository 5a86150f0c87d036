// Freed heap pages back to the kernel; see heap_trim.hpp.
#include "core/heap_trim.hpp"

#include <malloc.h>

#include <chrono>

namespace drover {

HeapTrim trim_free_heap(std::size_t min_free) {
  HeapTrim r;
  // mallinfo2 walks the free lists of each arena under its lock, not the heap itself.
  struct mallinfo2 mi = ::mallinfo2();
  r.free_bytes = mi.fordblks;
  if (r.free_bytes < min_free) return r;
  auto t0 = std::chrono::steady_clock::now();
  // With pad 0, every whole free page of every arena is given back (MADV_DONTNEED), not only
  // the top of each.
  r.trimmed = ::malloc_trim(0) != 0;
  r.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace drover
