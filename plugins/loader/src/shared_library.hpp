// RAII owner of one dlopen handle, so that every path out of the loader dlcloses.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "drover/common/result.hpp"

namespace drover::plugins {

class SharedLibrary {
 public:
  // dlopen(RTLD_NOW | RTLD_LOCAL): unresolved symbols fail here, not at the first call, and
  // one plugin's symbols never satisfy another's.
  static drover::Result<std::unique_ptr<SharedLibrary>> open(const std::filesystem::path& path);
  ~SharedLibrary();
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  // nullptr when the library does not define `name`.
  void* symbol(const char* name) const;

 private:
  explicit SharedLibrary(void* handle) : handle_(handle) {}
  void* handle_;
};

}  // namespace drover::plugins
