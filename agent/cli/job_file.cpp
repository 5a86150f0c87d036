// Job files as the CLI reads them (job_file.hpp): HCL evaluated with its variables, problems
// told as FILE:LINE:COLUMN with the line and a caret.
#include "cli/job_file.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "jobspec/hcl/hcl.hpp"
#include "jobspec/hcl_job.hpp"

extern char** environ;

namespace drover::cli {

namespace {

drover::Result<std::string> read_text(const std::string& path, const char* what) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(std::string("cannot read ") + what + " " + path, Errc::Invalid);
  buffer << in.rdbuf();
  if (in.bad()) return make_error(std::string("cannot read ") + what + " " + path, Errc::Invalid);
  return buffer.str();
}

}  // namespace

std::string with_source_lines(const std::string& file_name, const std::string& text,
                              const std::string& problem) {
  static const std::regex where(R"(line (\d+), column (\d+): )");
  std::smatch m;
  if (!std::regex_search(problem, m, where)) return file_name + ": " + problem;
  const long line = std::stol(m.str(1)), column = std::stol(m.str(2));
  // "FILE:L:C: <what came before the position> <message>"
  std::string before = m.prefix().str();
  if (before.size() >= 4 && before.compare(before.size() - 4, 4, " at ") == 0)
    before.replace(before.size() - 4, 4,
                   ": ");  // "malformed HCL at line 2..." -> "malformed HCL: "
  std::string out = file_name + ":" + m.str(1) + ":" + m.str(2) + ": " + before + m.suffix().str();
  std::istringstream lines(text);
  std::string source;
  for (long n = 1; n <= line && std::getline(lines, source); ++n) {
  }
  if (line >= 1 && source.size() < 400) {
    std::string caret;
    long col = 1;
    for (std::size_t i = 0; i < source.size() && col < column; ++i) {
      if ((static_cast<unsigned char>(source[i]) & 0xC0) == 0x80) continue;
      caret += source[i] == '\t' ? '\t' : ' ';
      ++col;
    }
    out += "\n    " + source + "\n    " + caret + "^";
  }
  return out;
}

drover::Result<JobFile> read_job_file(const std::string& path, const JobFileOptions& options) {
  auto text = read_text(path, "job file");
  if (!text) return text.error();
  JobFile file;
  file.text = std::move(*text);
  file.hcl = jobspec::hcl::looks_like_hcl(file.text);
  if (!file.hcl) {
    if (!options.vars.empty() || !options.var_files.empty())
      return make_error("-var and -var-file apply to HCL job files only; " + path + " is not HCL",
                        Errc::Invalid);
    return file;
  }
  jobspec::HclJobOptions hcl;
  hcl.variables.env = jobspec::hcl::variables_from_environment(environ);
  for (const auto& f : options.var_files) {
    auto content = read_text(f, "variables file");
    if (!content) return content.error();
    hcl.variables.files.emplace_back(f, std::move(*content));
  }
  for (const auto& v : options.vars) {
    auto kv = jobspec::hcl::split_var_argument(v);
    if (!kv) return kv.error();
    hcl.variables.args.push_back(std::move(*kv));
  }
  hcl.base_dir = path == "-" ? std::filesystem::current_path().string()
                             : std::filesystem::absolute(path).parent_path().string();
  const std::string name = path == "-" ? "<stdin>" : path;
  // The same checks the agent runs, here where the problems can point into the file.
  auto parsed = jobspec::parse_job(file.text, hcl);
  for (const auto& p : parsed.problems) {
    std::string line = p.path.empty() ? p.message : p.path + ": " + p.message;
    file.problems += with_source_lines(name, file.text, line) + "\n";
  }
  if (!file.problems.empty()) return file;
  auto mapped = jobspec::hcl_to_nomad_json(file.text, hcl);
  for (const auto& p : mapped.problems)
    file.problems += with_source_lines(name, file.text, p.message) + "\n";
  file.doc = std::move(mapped.doc);
  return file;
}

}  // namespace drover::cli
