// An EtcdClient loads the etcd module (agent/upstream/etcd_module.hpp) from beside the drover
// binary; a test binary is elsewhere, so it names the built module before any test runs.
#include <cstdlib>

namespace {
const bool kModuleNamed = ::setenv("DROVER_ETCD_MODULE", DROVER_ETCD_MODULE, 1) == 0;
}  // namespace
