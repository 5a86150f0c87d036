// Loading the etcd module on first use; see etcd_module.hpp.
#include "upstream/etcd_module.hpp"

#include <mutex>

#include "drover/common/binary_module.hpp"

namespace drover::upstream {

Result<const EtcdModule*> etcd_module() {
  static std::once_flag once;
  static Result<const EtcdModule*> loaded = make_error("not loaded");
  std::call_once(once, [] {
    loaded = load_binary_module_table<EtcdModule>("DROVER_ETCD_MODULE", "etcd-grpc.so",
                                                  kEtcdModuleEntry, kEtcdModuleVersion, "etcd");
  });
  return loaded;
}

}  // namespace drover::upstream
