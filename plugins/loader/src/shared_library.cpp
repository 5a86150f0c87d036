// dlopen/dlclose behind RAII (see shared_library.hpp).
#include "shared_library.hpp"

#include <dlfcn.h>

namespace drover::plugins {

drover::Result<std::unique_ptr<SharedLibrary>> SharedLibrary::open(
    const std::filesystem::path& path) {
  dlerror();  // clear a stale message
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return drover::make_error(std::string("dlopen failed: ") + (why ? why : "unknown error"));
  }
  return std::unique_ptr<SharedLibrary>(new SharedLibrary(handle));
}

SharedLibrary::~SharedLibrary() { dlclose(handle_); }

void* SharedLibrary::symbol(const char* name) const {
  dlerror();
  return dlsym(handle_, name);
}

}  // namespace drover::plugins
