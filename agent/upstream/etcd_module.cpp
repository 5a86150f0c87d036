// Loading the etcd module on first use; see etcd_module.hpp.
#include "upstream/etcd_module.hpp"

#include <mutex>

#include "drover/common/binary_module.hpp"

namespace drover::upstream {

namespace {

Result<const EtcdModule*> load() {
  const auto path = binary_module_path("DROVER_ETCD_MODULE", "etcd-grpc.so");
  auto sym = load_binary_module(path, kEtcdModuleEntry, "etcd");
  if (!sym) return sym.error();
  const EtcdModule* m = reinterpret_cast<EtcdModuleEntry>(sym.value())();
  if (!m || m->version != kEtcdModuleVersion)
    return make_error("etcd is unavailable: " + path.string() +
                          " is not this drover's etcd module (rebuild and install them together)",
                      Errc::Unsupported);
  return m;
}

}  // namespace

Result<const EtcdModule*> etcd_module() {
  static std::once_flag once;
  static Result<const EtcdModule*> loaded = make_error("not loaded");
  std::call_once(once, [] { loaded = load(); });
  return loaded;
}

}  // namespace drover::upstream
