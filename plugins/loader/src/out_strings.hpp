// The out-parameters of one C call into a plugin (plugin.h, "Ownership"): whatever the plugin
// hands out is given back to it with its own free_string when the call's scope ends.
#pragma once

#include <string>

#include "drover/plugin.h"
#include "drover/sdk/utf8.hpp"

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

// Why a call that did not answer DROVER_OK failed: the plugin's message for DROVER_ERROR,
// made UTF-8 (a plugin's message is bytes; it is stored and served as JSON text), or the
// status plugin.h does not have. The caller names the plugin and the call before it.
inline std::string call_failure(drover_status st, const OutStrings& s) {
  if (st != DROVER_ERROR) return "unexpected status " + std::to_string(static_cast<int>(st));
  return s.error ? drover::sdk::utf8_scrub(s.error) : "failed (no message)";
}

}  // namespace drover::plugins
