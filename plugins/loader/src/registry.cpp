// PluginRegistry: scans the plugin folder, dlopens each .so, checks the handshake of
// drover/plugin.h and keeps a status per file. A bad plugin is refused and recorded, never
// fatal: the agent keeps running with the plugins that did load.
#include "drover/loader/registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <system_error>

#include "drover/common/names.hpp"
#include "drover/plugin.h"
#include "elf_check.hpp"
#include "shared_library.hpp"
#include "task_event_sink.hpp"

namespace drover::plugins {
namespace {

namespace fs = std::filesystem;

// The *.so files directly in `dir`, sorted by name so that load order (and so which of two
// same-named plugins wins) does not depend on the filesystem.
std::vector<fs::path> plugin_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) {
    spdlog::warn("plugins: cannot read plugin folder {}: {}", dir.string(), ec.message());
    return files;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    if (p.extension() != ".so") continue;
    std::error_code sec;
    if (!fs::is_regular_file(it->status(sec))) continue;  // follows symlinks on purpose
    files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A string from the plugin, read with a bound so that a missing terminator cannot run away.
std::string bounded(const char* s, std::size_t limit) {
  if (s == nullptr) return {};
  return std::string(s, strnlen(s, limit));
}

// The calls a vtable must fill, by name (plugin.h), checked in one loop (the shape of Slurm's
// plugin_context_create and its syms[] list).
template <typename VTable>
struct Slot {
  const char* name;
  bool (*filled)(const VTable&);
};
#define DROVER_SLOT(VTable, call) Slot<VTable>{#call, [](const VTable& v) { return v.call != nullptr; }}

constexpr Slot<drover_driver_vtable> kDriverSlots[] = {
    DROVER_SLOT(drover_driver_vtable, set_config), DROVER_SLOT(drover_driver_vtable, fingerprint),
    DROVER_SLOT(drover_driver_vtable, validate),   DROVER_SLOT(drover_driver_vtable, start),
    DROVER_SLOT(drover_driver_vtable, wait),       DROVER_SLOT(drover_driver_vtable, stop),
    DROVER_SLOT(drover_driver_vtable, destroy),    DROVER_SLOT(drover_driver_vtable, inspect),
    DROVER_SLOT(drover_driver_vtable, signal),     DROVER_SLOT(drover_driver_vtable, stats),
    DROVER_SLOT(drover_driver_vtable, recover),
};
constexpr Slot<drover_device_vtable> kDeviceSlots[] = {
    DROVER_SLOT(drover_device_vtable, set_config), DROVER_SLOT(drover_device_vtable, fingerprint),
    DROVER_SLOT(drover_device_vtable, reserve),    DROVER_SLOT(drover_device_vtable, stats),
};
#undef DROVER_SLOT

// The first call `v` leaves empty, or null when it fills them all.
template <typename VTable, std::size_t N>
const char* missing_call(const VTable& v, const Slot<VTable> (&slots)[N]) {
  for (const auto& slot : slots)
    if (!slot.filled(v)) return slot.name;
  return nullptr;
}

// A driver's optional extensions are symbols of their own (plugin.h): absent means unsupported.
struct Extension {
  const char* symbol;
  void (*attach)(DriverPlugin&, void* fn);  // fn is null when the plugin lacks it
};
const Extension kDriverExtensions[] = {
    {DROVER_DRIVER_EXEC_V1_NAME,
     [](DriverPlugin& d, void* fn) { d.set_exec(reinterpret_cast<drover_driver_exec_v1_fn>(fn)); }},
    {DROVER_DRIVER_EXEC_STREAM_V1_NAME,
     [](DriverPlugin& d, void* fn) {
       // The symbol is a function that returns the table of calls; all of them must be there.
       auto table = fn ? reinterpret_cast<drover_driver_exec_stream_v1_fn>(fn)() : nullptr;
       if (table && table->start && table->wait && table->resize && table->kill && table->close)
         d.set_exec_stream(table);
     }},
    {DROVER_DRIVER_WAIT_FD_V1_NAME,
     [](DriverPlugin& d, void* fn) { d.set_wait_fd(reinterpret_cast<drover_driver_wait_fd_v1_fn>(fn)); }},
    {DROVER_DRIVER_REAP_V1_NAME,
     [](DriverPlugin& d, void* fn) { d.set_reap(reinterpret_cast<drover_driver_reap_v1_fn>(fn)); }},
    {DROVER_DRIVER_CREATE_NETWORK_V1_NAME,
     [](DriverPlugin& d, void* fn) {
       d.set_create_network(reinterpret_cast<drover_driver_create_network_v1_fn>(fn));
     }},
    {DROVER_DRIVER_DESTROY_NETWORK_V1_NAME,
     [](DriverPlugin& d, void* fn) {
       d.set_destroy_network(reinterpret_cast<drover_driver_destroy_network_v1_fn>(fn));
     }},
};

// The plugin's init, for either kind: its instance, or why it refused.
drover::Result<void*> init_instance(const drover_plugin* plugin) {
  void* instance = nullptr;
  char* err = nullptr;
  if (plugin->init(&instance, &err) != DROVER_OK) {
    std::string why = "init failed: " + bounded(err, 4096);
    plugin->free_string(err);
    return drover::make_error(why);
  }
  plugin->free_string(err);
  return instance;
}

// The operator's config object for one plugin; {} when none.
nlohmann::json config_for(const nlohmann::json& configs, const std::string& name) {
  if (configs.is_object()) {
    if (auto it = configs.find(name); it != configs.end() && it->is_object()) return *it;
  }
  return nlohmann::json::object();
}

// The plugin of one kind (`kind`: the driver or the device member of a loaded entry) named
// `name`, or null; the caller holds the registry's lock.
template <typename Map, typename Kind>
auto* loaded_one(const Map& loaded, std::string_view name, Kind kind) {
  auto it = loaded.find(name);
  return it == loaded.end() ? nullptr : (it->second.*kind).get();
}

// The names of the loaded plugins of one kind, sorted (the map keeps them so).
template <typename Map, typename Kind>
std::vector<std::string> loaded_names(const Map& loaded, Kind kind) {
  std::vector<std::string> names;
  for (const auto& [name, entry] : loaded)
    if (entry.*kind) names.push_back(name);
  return names;
}

}  // namespace

PluginRegistry::PluginRegistry() : events_(std::make_unique<TaskEventSink>()) {}

void PluginRegistry::set_task_event_handler(TaskEventHandler handler) {
  events_->set_handler(std::move(handler));
}

PluginRegistry::~PluginRegistry() {
  // Each plugin's fini must run while its code is still mapped: drop the drivers first.
  for (auto& [name, loaded] : loaded_) {
    loaded.driver.reset();
    loaded.device.reset();
  }
  loaded_.clear();  // dlclose
}

void PluginRegistry::load_dir(const std::filesystem::path& dir, const nlohmann::json& configs) {
  std::lock_guard lock(mu_);
  for (const auto& path : plugin_files(dir)) {
    PluginInfo info = load_file(path, configs);
    if (info.status == "loaded") {
      spdlog::info("plugins: loaded {} plugin {} {} (ABI {}) from {}", info.type, info.name,
                   info.version, info.abi_version, info.path);
    } else {
      spdlog::warn("plugins: refused {}: {}", info.path, info.reason);
    }
    infos_.push_back(std::move(info));
  }
}

PluginInfo PluginRegistry::load_file(const std::filesystem::path& path,
                                     const nlohmann::json& configs) {
  PluginInfo info;
  info.path = path.string();
  info.status = "refused";
  auto refuse = [&](std::string why) {
    info.reason = std::move(why);
    return info;
  };

  if (auto problem = elf_problem(path)) return refuse(*problem);
  auto lib = SharedLibrary::open(path);
  if (!lib.ok()) return refuse(lib.message());
  void* sym = (*lib)->symbol(DROVER_PLUGIN_ENTRY_NAME);
  if (sym == nullptr) {
    return refuse("not a drover plugin: no " DROVER_PLUGIN_ENTRY_NAME " symbol");
  }
  auto entry = reinterpret_cast<drover_plugin_entry_fn>(sym);
  const drover_plugin* plugin = entry();
  if (plugin == nullptr) return refuse(DROVER_PLUGIN_ENTRY_NAME " returned NULL");

  // Only the frozen fields (abi_version, name, version) may be read before the version check.
  info.abi_version = plugin->abi_version;
  info.name = bounded(plugin->name, drover::kMaxNameLength + 1);
  info.version = bounded(plugin->version, 256);
  if (plugin->abi_version != DROVER_PLUGIN_ABI_VERSION) {
    return refuse("plugin ABI version " + std::to_string(plugin->abi_version) +
                  " is not supported: this agent speaks plugin ABI version " +
                  std::to_string(DROVER_PLUGIN_ABI_VERSION));
  }
  if (plugin->name == nullptr) return refuse("plugin has no name");
  if (auto problem = drover::plain_name_problem(info.name)) {
    return refuse("bad plugin name \"" + info.name + "\": " + *problem);
  }
  if (auto it = loaded_.find(info.name); it != loaded_.end()) {
    return refuse("a plugin named \"" + info.name + "\" is already loaded from " + it->second.path);
  }
  if (plugin->type == DROVER_PLUGIN_TYPE_DEVICE)
    return load_device(std::move(info), plugin, std::move(lib).value(), configs);
  if (plugin->type != DROVER_PLUGIN_TYPE_DRIVER) {
    return refuse("unknown plugin type " + std::to_string(static_cast<int>(plugin->type)));
  }
  info.type = "driver";
  if (!plugin->init || !plugin->fini || !plugin->free_string) {
    return refuse("plugin misses init, fini or free_string");
  }
  if (plugin->driver == nullptr) return refuse("driver plugin has no driver calls");
  if (const char* missing = missing_call(*plugin->driver, kDriverSlots)) {
    return refuse(std::string("driver plugin misses the ") + missing + " call");
  }
  auto instance = init_instance(plugin);
  if (!instance) return refuse(instance.message());

  info.status = "loaded";
  auto driver = std::make_unique<DriverPlugin>(info, plugin, instance.value());
  for (const auto& ext : kDriverExtensions) ext.attach(*driver, (*lib)->symbol(ext.symbol));
  if (auto st = driver->set_config(config_for(configs, info.name)); !st.ok()) {
    driver.reset();  // fini before the library goes
    info.status = "refused";
    return refuse(st.message());
  }
  if (auto* sink_fn = reinterpret_cast<drover_driver_set_event_sink_v1_fn>(
          (*lib)->symbol(DROVER_DRIVER_SET_EVENT_SINK_V1_NAME))) {
    // Without events the driver still works: a failure here is logged, not a refusal.
    if (auto st = driver->set_event_sink(sink_fn, &TaskEventSink::deliver, events_.get()); !st.ok())
      spdlog::warn("plugins: {}", st.message());
  }
  loaded_.emplace(info.name, Loaded{std::move(lib).value(), std::move(driver), nullptr, info.path});
  return info;
}

PluginInfo PluginRegistry::load_device(PluginInfo info, const drover_plugin* plugin,
                                       std::unique_ptr<SharedLibrary> lib,
                                       const nlohmann::json& configs) {
  info.type = "device";
  auto refuse = [&](std::string why) {
    info.status = "refused";
    info.reason = std::move(why);
    return info;
  };
  if (plugin->device == nullptr) {
    // As ABI 1 first reserved the type: listed as loaded, never called (not even init).
    info.status = "loaded";
    loaded_.emplace(info.name, Loaded{std::move(lib), nullptr, nullptr, info.path});
    return info;
  }
  if (!plugin->init || !plugin->fini || !plugin->free_string) {
    return refuse("plugin misses init, fini or free_string");
  }
  if (const char* missing = missing_call(*plugin->device, kDeviceSlots)) {
    return refuse(std::string("device plugin misses the ") + missing + " call");
  }
  auto instance = init_instance(plugin);
  if (!instance) return refuse(instance.message());

  info.status = "loaded";
  auto device = std::make_unique<DevicePlugin>(info, plugin, instance.value());
  if (auto st = device->set_config(config_for(configs, info.name)); !st.ok()) {
    device.reset();  // fini before the library goes
    return refuse(st.message());
  }
  loaded_.emplace(info.name, Loaded{std::move(lib), nullptr, std::move(device), info.path});
  return info;
}

std::vector<PluginInfo> PluginRegistry::plugins() const {
  std::lock_guard lock(mu_);
  return infos_;
}

DriverPlugin* PluginRegistry::driver(std::string_view name) const {
  std::lock_guard lock(mu_);
  return loaded_one(loaded_, name, &Loaded::driver);
}

std::vector<std::string> PluginRegistry::driver_names() const {
  std::lock_guard lock(mu_);
  return loaded_names(loaded_, &Loaded::driver);
}

DevicePlugin* PluginRegistry::device(std::string_view name) const {
  std::lock_guard lock(mu_);
  return loaded_one(loaded_, name, &Loaded::device);
}

std::vector<std::string> PluginRegistry::device_names() const {
  std::lock_guard lock(mu_);
  return loaded_names(loaded_, &Loaded::device);
}

}  // namespace drover::plugins
