// The SDK's C adapters: turn the drover_driver_vtable calls of plugin.h into calls on a
// drover::sdk::Driver, parse and print the JSON, and catch every exception at the boundary.
// Included by driver.hpp; plugin authors never use it directly.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "drover/plugin.h"
#include "drover/sdk/detail/string_glue.hpp"

namespace drover::sdk::detail {

inline Driver& as_driver(void* self) { return *static_cast<Driver*>(self); }

inline drover_status validate(void* self, const char* config, char** out, char** error) {
  return guarded(error, [&] {
    set_out(out, nlohmann::json(as_driver(self).validate(parse(config))));
    return DROVER_OK;
  });
}
inline drover_status start(void* self, const char* task, char** out, char** error) {
  return guarded(error, [&] {
    set_out(out, as_driver(self).start(task_spec_from_json(parse(task))));
    return DROVER_OK;
  });
}
inline drover_status wait(void* self, const char* handle, int64_t timeout_ms, char** out,
                          char** error) {
  return guarded(error, [&] {
    auto exit = as_driver(self).wait(parse(handle), std::chrono::milliseconds(timeout_ms));
    if (!exit) return DROVER_STILL_RUNNING;
    set_out(out, nlohmann::json{{"ExitCode", exit->exit_code},
                                {"Signal", exit->signal},
                                {"OOMKilled", exit->oom_killed},
                                {"Err", exit->err}});
    return DROVER_OK;
  });
}
inline drover_status stop(void* self, const char* handle, const char* signal, int64_t timeout_ms,
                          char** error) {
  return guarded(error, [&] {
    as_driver(self).stop(parse(handle), signal != nullptr ? signal : "",
                         std::chrono::milliseconds(timeout_ms));
    return DROVER_OK;
  });
}
inline drover_status destroy(void* self, const char* handle, char** error) {
  return guarded(error, [&] {
    as_driver(self).destroy(parse(handle));
    return DROVER_OK;
  });
}
inline drover_status inspect(void* self, const char* handle, char** out, char** error) {
  return guarded(error, [&] {
    set_out(out, as_driver(self).inspect(parse(handle)));
    return DROVER_OK;
  });
}
inline drover_status signal(void* self, const char* handle, const char* sig, char** error) {
  return guarded(error, [&] {
    as_driver(self).signal(parse(handle), sig != nullptr ? sig : "");
    return DROVER_OK;
  });
}
inline drover_status stats(void* self, const char* handle, char** out, char** error) {
  return guarded(error, [&] {
    set_out(out, as_driver(self).stats(parse(handle)));
    return DROVER_OK;
  });
}
inline drover_status recover(void* self, const char* handle, char** out, char** error) {
  return guarded(error, [&] {
    set_out(out, as_driver(self).recover(parse(handle)));
    return DROVER_OK;
  });
}

inline drover_status exec_task(void* self, const char* handle, const char* argv,
                               int64_t timeout_ms, char** out, char** error) {
  return guarded(error, [&] {
    nlohmann::json args = parse(argv);
    if (!args.is_array() || args.empty()) throw std::runtime_error("exec: argv must be a non-empty array of strings");
    auto r = as_driver(self).exec_task(parse(handle), args.get<std::vector<std::string>>(),
                                       std::chrono::milliseconds(timeout_ms));
    set_out(out, nlohmann::json{{"Stdout", r.stdout_text}, {"Stderr", r.stderr_text},
                                {"ExitCode", r.exit_code}});
    return DROVER_OK;
  });
}

// drover_driver_exec_stream_v1: the session handed to the agent is the ExecStream itself.
inline ExecStream& as_stream(void* session) { return *static_cast<ExecStream*>(session); }

inline drover_status exec_stream_start(void* self, const char* handle, const char* request,
                                       void** out_session, int out_fds[4], char** error) {
  *out_session = nullptr;
  for (int i = 0; i < 4; ++i) out_fds[i] = -1;
  return guarded(error, [&] {
    nlohmann::json j = parse(request);
    if (!j.is_object()) throw std::runtime_error("exec: the request must be an object");
    ExecStreamRequest r;
    const auto& cmd = j.contains("Command") ? j["Command"] : nlohmann::json();
    if (!cmd.is_array() || cmd.empty())
      throw std::runtime_error("exec: Command must be a non-empty array of strings");
    for (const auto& a : cmd) {
      if (!a.is_string()) throw std::runtime_error("exec: Command must be a non-empty array of strings");
      r.argv.push_back(a.get<std::string>());
    }
    r.tty = j.value("Tty", false);
    r.height = j.value("Height", 0);
    r.width = j.value("Width", 0);
    std::unique_ptr<ExecStream> s = as_driver(self).exec_stream(parse(handle), r);
    if (!s) throw std::runtime_error("exec: the driver started nothing");
    for (int i = 0; i < 4; ++i) out_fds[i] = std::exchange(s->fds[i], -1);
    *out_session = s.release();
    return DROVER_OK;
  });
}
inline drover_status exec_stream_wait(void*, void* session, int64_t timeout_ms, char** out,
                                      char** error) {
  return guarded(error, [&] {
    auto exit = as_stream(session).wait(std::chrono::milliseconds(timeout_ms));
    if (!exit) return DROVER_STILL_RUNNING;
    set_out(out, nlohmann::json{{"ExitCode", exit->exit_code}, {"Signal", exit->signal}});
    return DROVER_OK;
  });
}
inline drover_status exec_stream_resize(void*, void* session, int height, int width,
                                        char** error) {
  return guarded(error, [&] {
    as_stream(session).resize(height, width);
    return DROVER_OK;
  });
}
inline drover_status exec_stream_kill(void*, void* session, char** error) {
  return guarded(error, [&] {
    as_stream(session).kill();
    return DROVER_OK;
  });
}
inline void exec_stream_close(void*, void* session) {
  try {
    delete static_cast<ExecStream*>(session);
  } catch (...) {  // a destructor that throws must not cross the ABI
  }
}
inline constexpr drover_exec_stream_v1 kExecStreamV1 = {
    &exec_stream_start, &exec_stream_wait, &exec_stream_resize, &exec_stream_kill,
    &exec_stream_close};

inline drover_status set_event_sink(void* self, drover_event_sink_fn sink, void* ctx,
                                    char** error) {
  return guarded(error, [&] {
    as_driver(self).attach_event_sink(sink, ctx);
    return DROVER_OK;
  });
}

inline drover_status reap(void* self, const char* known, char** error) {
  return guarded(error, [&] {
    nlohmann::json j = parse(known);
    if (!j.is_object() || !j.contains("AllocIDs") || !j["AllocIDs"].is_array())
      throw std::runtime_error("reap: expected {\"AllocIDs\": [...], \"AllocDirRoot\": str}");
    KnownAllocs k;
    k.alloc_ids = j["AllocIDs"].get<std::vector<std::string>>();
    if (j.contains("AllocDirRoot") && j["AllocDirRoot"].is_string())
      k.alloc_dir_root = j["AllocDirRoot"].get<std::string>();
    as_driver(self).reap(k);
    return DROVER_OK;
  });
}

// {str: str} from an optional "Labels" key; anything else is refused naming the call.
inline std::map<std::string, std::string> labels_of(const nlohmann::json& j, const char* call) {
  std::map<std::string, std::string> out;
  if (!j.contains("Labels") || j["Labels"].is_null()) return out;
  if (!j["Labels"].is_object())
    throw std::runtime_error(std::string(call) + ": Labels must be an object of strings");
  for (const auto& [k, v] : j["Labels"].items()) {
    if (!v.is_string())
      throw std::runtime_error(std::string(call) + ": Labels." + k + " must be a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

inline drover_status create_network(void* self, const char* request, char** out, char** error) {
  return guarded(error, [&] {
    nlohmann::json j = parse(request);
    if (!j.is_object() || !j.contains("AllocID") || !j["AllocID"].is_string() ||
        j["AllocID"].get_ref<const std::string&>().empty())
      throw std::runtime_error("create_network: expected {\"AllocID\": str, ...}");
    NetworkRequest r;
    r.alloc_id = j["AllocID"].get<std::string>();
    if (j.contains("AllocDir") && j["AllocDir"].is_string()) r.alloc_dir = j["AllocDir"];
    if (j.contains("Mode") && j["Mode"].is_string()) r.mode = j["Mode"];
    if (j.contains("Hostname") && j["Hostname"].is_string()) r.hostname = j["Hostname"];
    if (j.contains("DNS") && j["DNS"].is_object()) {
      TaskDns d;
      for (auto [key, out] : {std::pair{"Servers", &d.servers}, std::pair{"Searches", &d.searches},
                              std::pair{"Options", &d.options}})
        for (const auto& v : j["DNS"].value(key, nlohmann::json::array()))
          if (v.is_string()) out->push_back(v.get<std::string>());
      r.dns = std::move(d);
    }
    NetworkSpec spec = as_driver(self).create_network(r);
    set_out(out, nlohmann::json{{"Path", spec.path}, {"Labels", spec.labels},
                                {"Created", spec.created}});
    return DROVER_OK;
  });
}

inline drover_status destroy_network(void* self, const char* spec, char** error) {
  return guarded(error, [&] {
    nlohmann::json j = parse(spec);
    if (!j.is_object() || !j.contains("AllocID") || !j["AllocID"].is_string())
      throw std::runtime_error("destroy_network: expected {\"AllocID\": str, \"Labels\": {...}}");
    as_driver(self).destroy_network(j["AllocID"].get<std::string>(),
                                    labels_of(j, "destroy_network"));
    return DROVER_OK;
  });
}

inline drover_status wait_fd(void* self, const char* handle, int* out_fd, char** error) {
  *out_fd = -1;
  return guarded(error, [&] {
    *out_fd = as_driver(self).wait_fd(parse(handle));
    return DROVER_OK;
  });
}

inline constexpr drover_driver_vtable kDriverVtable = {
    &set_config_on<Driver>, &fingerprint_of<Driver>, &validate, &start, &wait, &stop,
    &destroy, &inspect, &signal, &stats, &recover};

template <typename D>
const drover_plugin* driver_plugin(const char* name, const char* version) {
  static const drover_plugin plugin = {DROVER_PLUGIN_ABI_VERSION,
                                       name,
                                       version,
                                       DROVER_PLUGIN_TYPE_DRIVER,
                                       &init_as<Driver, D>,
                                       &fini_as<Driver>,
                                       &free_string,
                                       &kDriverVtable,
                                       nullptr};
  return &plugin;
}

}  // namespace drover::sdk::detail
