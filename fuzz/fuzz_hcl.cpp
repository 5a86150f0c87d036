// Fuzz target: the HCL2 reader and evaluator alone (jobspec/hcl/): the bytes as a file (parsed
// and every expression evaluated: operators, for expressions, splats, templates, functions,
// dynamic blocks), as a standalone template (templatefile()), and as a job file whose
// variables are also given the same bytes as a -var-file and as a -var value; then as a whole
// HCL job file through parse_job and validation, as POST /v1/jobs runs them. Inputs that do
// not open with a job block are given one, so the mapping onto Nomad's JSON shape is reached
// too. No base directory is given: the file functions are refused, as on the agent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "jobspec/hcl/eval.hpp"
#include "jobspec/hcl/hcl.hpp"
#include "jobspec/hcl/variables.hpp"
#include "jobspec/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drover::jobspec;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)hcl::parse(text);

  if (auto tree = hcl::parse_template(text)) {
    hcl::Evaluator ev;
    try {
      (void)ev.render_file_template(**tree, {{"x", 1}, {"l", {"a", "b"}}}, hcl::Pos{});
    } catch (const hcl::EvalError&) {
    }
  }

  hcl::VariableInputs inputs;
  inputs.files.emplace_back("fuzz.vars", std::string(text));
  inputs.args.emplace_back("v", std::string(text.substr(0, 64)));
  (void)hcl::evaluate_file(text, inputs, "");

  std::string job = hcl::looks_like_hcl(text) ? std::string(text)
                                              : "job \"f\" {\n" + std::string(text) + "\n}\n";
  auto parsed = parse_job(job);
  if (parsed.job) (void)validate(*parsed.job, {"raw_exec", "docker"});
  return 0;
}
