// Loading the artifact I/O module on first use; see io_module.hpp.
#include "artifact/io_module.hpp"

#include <mutex>

#include "drover/common/binary_module.hpp"

namespace drover::artifact {

Result<const IoFunctions*> io_functions() {
  static std::once_flag once;
  static Result<const IoFunctions*> loaded = make_error("not loaded");
  std::call_once(once, [] {
    loaded = load_binary_module_table<IoFunctions>("DROVER_ARTIFACT_IO", "artifact-io.so",
                                                   kIoEntry, kIoVersion, "artifact fetching");
  });
  return loaded;
}

}  // namespace drover::artifact
