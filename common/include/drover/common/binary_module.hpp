// A module of the drover binary: a shared object built with it, holding what only some
// processes need (artifact-io.so: libcurl and libarchive; etcd-grpc.so: gRPC), loaded on
// first use so that the others never map its libraries.
#pragma once

#include <filesystem>
#include <string>

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

// The module named by `env` and `file` (binary_module_path), loaded, and the table its entry
// function `entry` returns: a struct whose `version` must be `version` (the module and the
// binary are built, and must be installed, together).
template <class Table>
Result<const Table*> load_binary_module_table(const char* env, const char* file, const char* entry,
                                              int version, const std::string& what) {
  const auto path = binary_module_path(env, file);
  auto sym = load_binary_module(path, entry, what);
  if (!sym) return sym.error();
  const Table* table = reinterpret_cast<const Table* (*)()>(sym.value())();
  if (!table || table->version != version)
    return make_error(what + " is unavailable: " + path.string() +
                          " is not this drover's module (rebuild and install them together)",
                      Errc::Unsupported);
  return table;
}

}  // namespace drover
