// Loading the etcd module on first use; see etcd_module.hpp.
#include "upstream/etcd_module.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace drover::upstream {

namespace {

std::filesystem::path module_path() {
  if (const char* env = std::getenv("DROVER_ETCD_MODULE"); env && *env) return env;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "etcd-grpc.so";
  return exe.parent_path().parent_path() / "lib" / "drover" / "etcd-grpc.so";
}

Result<const EtcdModule*> load() {
  const auto path = module_path();
  // RTLD_LOCAL: its symbols (the static parts of the agent it carries) resolve nothing else.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return make_error("etcd is unavailable: loading " + path.string() + ": " + ::dlerror(),
                      Errc::Unsupported);
  auto entry = reinterpret_cast<EtcdModuleEntry>(::dlsym(handle, kEtcdModuleEntry));
  const EtcdModule* m = entry ? entry() : nullptr;
  if (!m || m->version != kEtcdModuleVersion)
    return make_error("etcd is unavailable: " + path.string() +
                          " is not this drover's etcd module (rebuild and install them together)",
                      Errc::Unsupported);
  return m;  // never unloaded: its threads and channels live as long as the process
}

}  // namespace

Result<const EtcdModule*> etcd_module() {
  static std::once_flag once;
  static Result<const EtcdModule*> loaded = make_error("not loaded");
  std::call_once(once, [] { loaded = load(); });
  return loaded;
}

}  // namespace drover::upstream
