// Loading a module of the drover binary; see binary_module.hpp.
#include "drover/common/binary_module.hpp"

#include <dlfcn.h>

#include <cstdlib>

namespace drover {

std::filesystem::path binary_module_path(const char* env, const char* file) {
  if (const char* p = std::getenv(env); p && *p) return p;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return file;
  return exe.parent_path().parent_path() / "lib" / "drover" / file;
}

Result<void*> load_binary_module(const std::filesystem::path& path, const char* entry,
                                 const std::string& what) {
  // RTLD_LOCAL: its symbols (the static parts of drover it carries) resolve nothing else.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return make_error(what + " is unavailable: loading " + path.string() + ": " + ::dlerror(),
                      Errc::Unsupported);
  void* sym = ::dlsym(handle, entry);
  if (!sym)
    return make_error(what + " is unavailable: " + path.string() + " has no " + entry +
                          " (not drover's module)",
                      Errc::Unsupported);
  return sym;
}

}  // namespace drover
