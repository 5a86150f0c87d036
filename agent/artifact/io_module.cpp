// Loading the artifact I/O module on first use; see io_module.hpp.
#include "artifact/io_module.hpp"

#include <mutex>

#include "drover/common/binary_module.hpp"

namespace drover::artifact {

namespace {

Result<const IoFunctions*> load() {
  const auto path = binary_module_path("DROVER_ARTIFACT_IO", "artifact-io.so");
  auto sym = load_binary_module(path, kIoEntry, "artifact fetching");
  if (!sym) return sym.error();
  const IoFunctions* fns = reinterpret_cast<IoEntry>(sym.value())();
  if (!fns || fns->version != kIoVersion)
    return make_error("artifact fetching is unavailable: " + path.string() +
                          " is not this agent's I/O module (rebuild and install them together)",
                      Errc::Unsupported);
  return fns;
}

}  // namespace

Result<const IoFunctions*> io_functions() {
  static std::once_flag once;
  static Result<const IoFunctions*> loaded = make_error("not loaded");
  std::call_once(once, [] { loaded = load(); });
  return loaded;
}

}  // namespace drover::artifact
