// Fuzz target: the plugin loader's scan and handshake, on a .so made of the fuzzer's bytes
// (usually refused by dlopen; an ELF that loads must still pass the ABI and name checks).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "drover/loader/registry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/drover-fuzz-plugins-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  // A new name each run: glibc caches dlopen by path.
  static unsigned long n = 0;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto path = dir + "/fuzz" + std::to_string(n++) + ".so";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  drover::plugins::PluginRegistry registry;
  registry.load_dir(dir, nlohmann::json::object());
  (void)registry.plugins();
  return 0;
}
