// fetch() loads the artifact I/O module (agent/artifact/io_module.hpp) from beside the drover
// binary; this test binary is elsewhere, so it names the built module before any test runs.
#include <cstdlib>

namespace {
const bool kModuleNamed = ::setenv("DROVER_ARTIFACT_IO", ARTIFACT_IO_MODULE, 1) == 0;
}  // namespace
