// Fuzz target: the HCL2 reader alone (jobspec/hcl/), then the same bytes as a whole HCL job
// file through parse_job and validation, as POST /v1/jobs runs them. Inputs that do not open
// with a job block are given one, so the mapping onto Nomad's JSON shape is reached too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "jobspec/hcl/hcl.hpp"
#include "jobspec/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)drover::jobspec::hcl::parse(text);
  std::string job = drover::jobspec::hcl::looks_like_hcl(text)
                        ? std::string(text)
                        : "job \"f\" {\n" + std::string(text) + "\n}\n";
  auto parsed = drover::jobspec::parse_job(job);
  if (parsed.job) (void)drover::jobspec::validate(*parsed.job, {"raw_exec", "docker"});
  return 0;
}
