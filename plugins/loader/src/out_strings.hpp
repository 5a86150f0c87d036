// The out-parameters of one C call into a plugin (plugin.h, "Ownership"): whatever the plugin
// hands out is given back to it with its own free_string when the call's scope ends.
#pragma once

#include "drover/plugin.h"

namespace drover::plugins {

class OutStrings {
 public:
  explicit OutStrings(const drover_plugin* plugin) : plugin_(plugin) {}
  ~OutStrings() {
    plugin_->free_string(out);
    plugin_->free_string(error);
  }
  OutStrings(const OutStrings&) = delete;
  OutStrings& operator=(const OutStrings&) = delete;

  char* out = nullptr;
  char* error = nullptr;

 private:
  const drover_plugin* plugin_;
};

}  // namespace drover::plugins
