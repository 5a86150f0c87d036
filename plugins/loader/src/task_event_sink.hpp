// The agent's end of drover_driver_set_event_sink_v1 (plugin.h): one C callback that every
// driver is given at load, checking what a plugin sends before it reaches the agent's handler,
// which the agent may set, swap or clear at any time.
#pragma once

#include <shared_mutex>

#include "drover/loader/registry.hpp"

namespace drover::plugins {

class TaskEventSink {
 public:
  // Once it returns, the previous handler is not running and is never called again.
  void set_handler(TaskEventHandler handler);

  // The drover_event_sink_fn given to plugins, with a TaskEventSink* as ctx. Drops a
  // malformed event (logged); never throws into the plugin.
  static void deliver(void* ctx, const char* alloc_id, const char* task_name,
                      const char* event_json) noexcept;

 private:
  std::shared_mutex mu_;  // shared while delivering: events from many threads at once
  TaskEventHandler handler_;
};

}  // namespace drover::plugins
