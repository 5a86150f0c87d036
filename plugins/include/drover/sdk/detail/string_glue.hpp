// The SDK's boundary helpers shared by driver and device plugins: strings handed to the
// agent, JSON in and out, and the catch-all that keeps exceptions from crossing the C ABI.
// Included by the SDK's glue headers; plugin authors never use it directly.
#pragma once

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "drover/plugin.h"

namespace drover::sdk {

// Thrown from Driver::recover given a Starting handle when the driver is sure the task never
// started (no trace of it): the agent then starts it (plugin.h, DROVER_NEVER_STARTED).
class NeverStarted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace drover::sdk

namespace drover::sdk::detail {

// Strings handed to the agent are malloc'ed here and released by free_string below,
// which the agent reaches through drover_plugin.free_string (plugin.h, "Ownership").
inline char* dup_string(const char* s, std::size_t n) noexcept {
  char* p = static_cast<char*>(std::malloc(n + 1));
  if (p != nullptr) {
    std::memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}
inline char* dup_string(const std::string& s) noexcept { return dup_string(s.data(), s.size()); }
inline void free_string(char* s) { std::free(s); }

// Text a driver read from a task or a runtime may not be UTF-8: it is replaced (U+FFFD), not
// thrown on, so that one odd byte cannot fail the call.
inline void set_out(char** out, const nlohmann::json& j) {
  if (out != nullptr) *out = dup_string(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// Runs `f` and turns any exception into DROVER_ERROR with its message (NeverStarted into
// DROVER_NEVER_STARTED).
template <typename F>
drover_status guarded(char** error, F&& f) noexcept {
  const char* what = "unknown exception in plugin";
  try {
    return f();
  } catch (const NeverStarted& e) {
    if (error != nullptr) *error = dup_string(e.what(), std::strlen(e.what()));
    return DROVER_NEVER_STARTED;
  } catch (const std::exception& e) {
    what = e.what();
    if (error != nullptr) *error = dup_string(what, std::strlen(what));
    return DROVER_ERROR;
  } catch (...) {
  }
  if (error != nullptr) *error = dup_string(what, std::strlen(what));
  return DROVER_ERROR;
}

inline nlohmann::json parse(const char* text) {
  return nlohmann::json::parse(text != nullptr ? text : "null");
}

// The two calls every plugin type has, on its SDK base class P (Driver, DevicePlugin).
template <class P>
drover_status set_config_on(void* self, const char* config, char** error) {
  return guarded(error, [&] {
    static_cast<P*>(self)->set_config(parse(config));
    return DROVER_OK;
  });
}
template <class P>
drover_status fingerprint_of(void* self, char** out, char** error) {
  return guarded(error, [&] {
    set_out(out, static_cast<P*>(self)->fingerprint());
    return DROVER_OK;
  });
}

// The instance's life: a D (the plugin's class) made and deleted through its base P.
template <class P, class D>
drover_status init_as(void** out_instance, char** error) {
  return guarded(error, [&] {
    *out_instance = static_cast<P*>(new D());
    return DROVER_OK;
  });
}
template <class P>
void fini_as(void* instance) {
  try {
    delete static_cast<P*>(instance);
  } catch (...) {  // a throwing destructor must still not cross the ABI
  }
}

}  // namespace drover::sdk::detail
