// Gives the pages of freed heap memory back to the kernel. glibc's free() returns memory
// only from the top of each malloc arena; a burst of work (a thousand task starts, each with
// its JSON, strings and a thread of its own, hence several arenas) leaves tens of MiB free
// but resident between the live allocations, and the agent's RSS stays at its peak. The gc
// loop calls this once a gc_interval (docs/design.md, "Process model").
#pragma once

#include <cstddef>

namespace drover {

struct HeapTrim {
  std::size_t free_bytes = 0;  // free in the arenas before the trim (mallinfo2's fordblks)
  bool trimmed = false;        // malloc_trim ran and gave pages back
  double millis = 0;           // what the trim took
};

// Trims when at least `min_free` bytes are free in the arenas; cheap otherwise.
HeapTrim trim_free_heap(std::size_t min_free = std::size_t{4} << 20);

}  // namespace drover
