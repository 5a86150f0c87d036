// A module of the drover binary: a shared object built with it, holding what only some
// processes need (artifact-io.so: libcurl and libarchive; etcd-grpc.so: gRPC), loaded on
// first use so that the others never map its libraries.
#pragma once

#include <filesystem>

#include "drover/common/result.hpp"

namespace drover {

// Where module `file` is: $`env` when set (tests, unusual layouts), else
// ../lib/drover/<file> beside the running binary (the package puts drover in /usr/bin and its
// modules in /usr/lib/drover; a build tree has bin/ and lib/drover/).
std::filesystem::path binary_module_path(const char* env, const char* file);

// Loads the module at `path` (never unloaded: its code may run on another thread until the
// process ends) and finds its one exported symbol `entry`. The error, of kind Unsupported,
// reads "<what> is unavailable: loading <path>: <dlopen's reason>" or names the missing entry.
Result<void*> load_binary_module(const std::filesystem::path& path, const char* entry,
                                 const std::string& what);

}  // namespace drover
