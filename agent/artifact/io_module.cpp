// Loading the artifact I/O module on first use; see io_module.hpp.
#include "artifact/io_module.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace drover::artifact {

namespace {

std::filesystem::path module_path() {
  if (const char* env = std::getenv("DROVER_ARTIFACT_IO"); env && *env) return env;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "artifact-io.so";
  return exe.parent_path().parent_path() / "lib" / "drover" / "artifact-io.so";
}

Result<const IoFunctions*> load() {
  const auto path = module_path();
  // RTLD_LOCAL: its symbols (the static parts of the agent it carries) resolve nothing else.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return make_error("artifact fetching is unavailable: loading " + path.string() + ": " +
                          ::dlerror(),
                      Errc::Unsupported);
  auto entry = reinterpret_cast<IoEntry>(::dlsym(handle, kIoEntry));
  const IoFunctions* fns = entry ? entry() : nullptr;
  if (!fns || fns->version != kIoVersion)
    return make_error("artifact fetching is unavailable: " + path.string() +
                          " is not this agent's I/O module (rebuild and install them together)",
                      Errc::Unsupported);
  return fns;  // never unloaded: its functions may be running on another thread
}

}  // namespace

Result<const IoFunctions*> io_functions() {
  static std::once_flag once;
  static Result<const IoFunctions*> loaded = make_error("not loaded");
  std::call_once(once, [] { loaded = load(); });
  return loaded;
}

}  // namespace drover::artifact
