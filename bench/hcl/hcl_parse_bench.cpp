// drover_bench_hcl: how long reading a 1,000-line HCL job file takes (issue 17 sets < 5 ms),
// by stage: the syntax tree alone, evaluated and mapped to Nomad JSON (what `drover job run
// -output` does), and the whole parse_job with validation (what POST /v1/jobs does). Prints
// JSON ({"lines": L, "bytes": B, "stages": {name: [ms per run]}}) for
// bench/benchmarks/hcl_parse.py, which makes the table. `--file F` reads F instead of the
// generated job; `--runs N` (default 200).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "jobspec/hcl/ast.hpp"
#include "jobspec/hcl_job.hpp"

namespace {

// A job as people write them, grown to `lines` lines: variables, locals with a for
// expression, and groups of tasks with config, env, heredocs, templates and function calls.
std::string generated_job(int lines) {
  std::string out = R"(variable "image" {
  type    = string
  default = "nginx:1.25"
}
variable "replicas" {
  type    = number
  default = 2
  validation {
    condition     = var.replicas > 0
    error_message = "at least one"
  }
}
locals {
  names  = [for i in range(8) : format("worker-%02d", i)]
  labels = { for n in local.names : n => upper(n) }
}
job "big" {
  datacenters = ["dc1"]
  type        = "service"
  meta {
    owner = "bench"
  }
)";
  int g = 0;
  auto count = [&] { return static_cast<int>(std::count(out.begin(), out.end(), '\n')); };
  while (count() < lines - 45) {
    std::string n = std::to_string(g++);
    out += R"(
  group "g)" +
           n + R"(" {
    count = var.replicas * 1
    restart {
      attempts = 3
      interval = "5m"
      delay    = "15s"
      mode     = "delay"
    }
    task "t)" +
           n + R"(" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", <<-EOF
          echo "${NOMAD_ALLOC_ID} ${local.labels[local.names[)" +
           std::to_string(g % 8) + R"(]]}"
          %{ for x in slice(local.names, 0, 3) ~}
          echo ${x}
          %{ endfor ~}
          exec sleep ${var.replicas > 1 ? 3600 : 60}
        EOF
        ]
      }
      env {
        IMAGE   = var.image
        INDEX   = ")" +
           n + R"("
        JOINED  = join(",", [for s in split(":", var.image) : trimspace(s)])
        ENCODED = base64encode(jsonencode({ g = )" +
           n + R"( }))
      }
      resources {
        cpu    = 100 + )" +
           n + R"(
        memory = 64
      }
      kill_timeout = "10s"
    }
  }
)";
  }
  while (count() < lines - 1) out += "  # a comment line, as real job files have\n";
  out += "}\n";
  return out;
}

template <typename F>
std::vector<double> time_runs(int runs, F&& f) {
  std::vector<double> ms;
  for (int i = 0; i < runs + 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    auto t1 = std::chrono::steady_clock::now();
    if (i >= 5) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace drover::jobspec;
  int runs = 200;
  std::string text;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::stoi(argv[++i]);
    } else if (a == "--file" && i + 1 < argc) {
      std::ifstream in(argv[++i]);
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    } else {
      std::cerr << "usage: drover_bench_hcl [--runs N] [--file JOB.nomad]\n";
      return 2;
    }
  }
  if (text.empty()) text = generated_job(1000);
  HclJobOptions options;
  auto check = parse_job(text, options);
  if (!check.problems.empty()) {
    std::cerr << "the benchmark's job does not parse:\n" << format_problems(check.problems);
    return 1;
  }
  nlohmann::ordered_json out;  // the stages in the order they run
  out["lines"] = std::count(text.begin(), text.end(), '\n');
  out["bytes"] = text.size();
  out["stages"]["syntax tree"] = time_runs(runs, [&] { (void)hcl::parse_syntax(text); });
  out["stages"]["evaluated, mapped to Nomad JSON"] =
      time_runs(runs, [&] { (void)hcl_to_nomad_json(text, options); });
  out["stages"]["parse_job (with validation)"] =
      time_runs(runs, [&] { (void)parse_job(text, options); });
  std::cout << out.dump() << "\n";
  return 0;
}
