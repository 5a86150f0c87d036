// Fuzz target: the job parser (YAML and Nomad JSON) and validation, as POST /v1/jobs runs them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jobspec/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = drover::jobspec::parse_job(std::string_view(reinterpret_cast<const char*>(data), size));
  if (parsed.job) (void)drover::jobspec::validate(*parsed.job, {"raw_exec", "docker"});
  return 0;
}
