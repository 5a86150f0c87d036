// Fuzz target: the agent config loader, through a temp file as `drover agent -config` reads it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/agent_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    char tmpl[] = "/tmp/drover-fuzz-config-XXXXXX";
    int fd = mkstemp(tmpl);
    close(fd);
    return std::string(tmpl);
  }();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  drover::agent::AgentFlags flags;
  flags.config_paths = {path};
  flags.data_dir = "/nonexistent/drover-fuzz";  // never created: load only reads
  (void)drover::agent::load_agent_config(flags);
  (void)drover::agent::validate_agent_config({path});
  return 0;
}
