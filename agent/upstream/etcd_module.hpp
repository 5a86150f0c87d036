// The etcd module: etcd_grpc.cpp, with gRPC, protobuf and abseil (about fifty shared
// libraries), built as etcd-grpc.so and loaded by the first EtcdClient of a process. Linked
// into the drover binary they doubled the start of every `drover` command (6 -> 12 ms) and
// of a standalone agent, which never speak to etcd (docs/cluster.md, "The etcd module").
#pragma once

#include <memory>

#include "drover/common/result.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::upstream {

// What the module gives. It is built with the agent, from the same sources and compiler, so
// C++ types cross the boundary; its one exported symbol is the C function below, checked by
// version.
struct EtcdModule {
  int version;  // kEtcdModuleVersion
  std::unique_ptr<EtcdTransport> (*make)(const EtcdConfig& cfg);
};
inline constexpr int kEtcdModuleVersion = 1;
inline constexpr const char* kEtcdModuleEntry = "drover_etcd_module";
using EtcdModuleEntry = const EtcdModule* (*)();

// The module, loaded once: from $DROVER_ETCD_MODULE when set (tests, unusual layouts), else
// from ../lib/drover/etcd-grpc.so beside the running binary (the package puts drover in
// /usr/bin and the module in /usr/lib/drover; a build tree in bin/ and lib/drover/). An error
// names the path and dlopen's reason, and stays: later calls get it too.
Result<const EtcdModule*> etcd_module();

}  // namespace drover::upstream
