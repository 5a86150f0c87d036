// The artifact I/O module's one exported symbol (io_module.hpp): libcurl and libarchive are
// linked here and nowhere in the drover binary.
#include "artifact/getters.hpp"
#include "artifact/io_module.hpp"
#include "artifact/pack.hpp"
#include "artifact/unpack.hpp"

extern "C" __attribute__((visibility("default"))) const drover::artifact::IoFunctions*
drover_artifact_io() {
  static const drover::artifact::IoFunctions fns{drover::artifact::kIoVersion,
                                                  &drover::artifact::http_download,
                                                  &drover::artifact::unpack,
                                                  &drover::artifact::pack_tar_gz};
  return &fns;
}
