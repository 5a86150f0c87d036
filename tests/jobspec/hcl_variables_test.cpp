// Nomad's HCL variables and locals: declarations, types, validation, the precedence of
// default < NOMAD_VAR_ < -var-file < -var, locals in any order and in circles, and file() and
// templatefile() relative to the job file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "jobspec/hcl/variables.hpp"
#include "jobspec/hcl_job.hpp"

namespace drover::jobspec {
namespace {

using nlohmann::json;

hcl::EvaluatedFile eval(const std::string& text, const hcl::VariableInputs& in = {},
                        const std::string& dir = "") {
  return hcl::evaluate_file(text, in, dir);
}

json attr(const hcl::EvaluatedFile& f, const std::string& name) {
  for (const auto& a : f.body.attributes)
    if (a.name == name) return a.value;
  ADD_FAILURE() << "no attribute " << name;
  return nullptr;
}

std::string errors(const hcl::EvaluatedFile& f) {
  std::string all;
  for (const auto& e : f.errors) all += e + "\n";
  return all;
}

const char* kDeclared = R"(variable "image" {
  type        = string
  default     = "nginx:1"
  description = "the image"
}
variable "count" {
  type    = number
  default = 1
}
variable "ports" {
  type    = list(number)
  default = [80]
}
variable "tags" {
  type = map(string)
  default = {}
  sensitive = true
}
image = var.image
count = var.count
ports = var.ports
tags  = var.tags
)";

TEST(HclVariables, DefaultsAreUsedWithNothingGiven) {
  auto f = eval(kDeclared);
  ASSERT_TRUE(f.errors.empty()) << errors(f);
  EXPECT_EQ(attr(f, "image"), "nginx:1");
  EXPECT_EQ(attr(f, "count"), 1);
  EXPECT_EQ(attr(f, "ports"), json({80}));
  EXPECT_EQ(attr(f, "tags"), json::object());
}

TEST(HclVariables, PrecedenceIsDefaultThenEnvironmentThenFilesThenArguments) {
  hcl::VariableInputs in;
  in.env = {{"image", "from-env"}, {"count", "2"}, {"ports", "[1, 2]"}, {"undeclared", "x"}};
  in.files = {{"a.vars", "image = \"from-file\"\ncount = 3\n"},
              {"b.vars.json", "{\"count\": 4, \"tags\": {\"team\": \"a\"}}"}};
  in.args = {{"count", "5"}, {"count", "6"}};
  auto f = eval(kDeclared, in);
  ASSERT_TRUE(f.errors.empty()) << errors(f);
  EXPECT_EQ(attr(f, "image"), "from-file");
  EXPECT_EQ(attr(f, "count"), 6);  // the last -var wins, converted to the declared number
  EXPECT_EQ(attr(f, "ports"), json({1, 2}));  // a list type reads its text as HCL
  EXPECT_EQ(attr(f, "tags"), json({{"team", "a"}}));
}

TEST(HclVariables, AVariableWithoutValueOrDefaultIsAnErrorNamingIt) {
  auto f = eval("variable \"image\" {}\nvariable \"tag\" {\n  type = string\n}\nx = 1\n");
  std::string e = errors(f);
  EXPECT_NE(e.find("line 1, column 1: variable \"image\" has no value: give it with -var "
                   "image=..., a -var-file or NOMAD_VAR_image, or give it a default"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("line 2, column 1: variable \"tag\" has no value"), std::string::npos) << e;
}

TEST(HclVariables, UndeclaredInputsAndBadValuesAreErrors) {
  hcl::VariableInputs in;
  in.args = {{"imag", "x"}, {"count", "many"}};
  in.files = {{"prod.vars", "\nnope = 1\n"}};
  auto f = eval(kDeclared, in);
  std::string e = errors(f);
  EXPECT_NE(e.find("-var \"imag\": no variable \"imag\" is declared in the job file (did you mean "
                   "\"image\"?)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("-var \"count\": a number is required, got the string \"many\""),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("prod.vars: line 2, column 1: no variable \"nope\" is declared"),
            std::string::npos)
      << e;
  auto typed = eval("variable \"n\" {\n  type = number\n  default = \"x\"\n}\n");
  EXPECT_NE(errors(typed).find("line 3, column 13: variable \"n\" default: a number is required"),
            std::string::npos)
      << errors(typed);
}

TEST(HclVariables, ObjectTypesAndTheVariablesShorthand) {
  auto f = eval(R"(variable "svc" {
  type = object({ name = string, port = number, tags = optional(list(string)) })
  default = { name = "web", port = "8080", extra = true }
}
variables {
  region = "eu"
}
v = var.svc
r = var.region
)");
  ASSERT_TRUE(f.errors.empty()) << errors(f);
  EXPECT_EQ(attr(f, "v"), json::parse(R"({"name": "web", "port": 8080, "tags": null})"));
  EXPECT_EQ(attr(f, "r"), "eu");
}

TEST(HclVariables, ValidationBlocksRefuseBadValues) {
  const std::string text = R"(variable "count" {
  type = number
  default = 3
  validation {
    condition     = var.count > 0 && var.count < 10
    error_message = "count must be between 1 and 9"
  }
}
c = var.count
)";
  EXPECT_TRUE(eval(text).errors.empty());
  hcl::VariableInputs in;
  in.args = {{"count", "12"}};
  std::string e = errors(eval(text, in));
  EXPECT_NE(
      e.find("line 5, column 5: variable \"count\" is invalid: count must be between 1 and 9"),
      std::string::npos)
      << e;
}

TEST(HclLocals, LocalsReferToEachOtherInAnyOrderAcrossBlocks) {
  auto f = eval(R"(variable "env" {
  default = "prod"
}
locals {
  full = "${local.prefix}-${var.env}"
}
locals {
  prefix = upper(local.base)
  base   = "app"
}
name = local.full
)");
  ASSERT_TRUE(f.errors.empty()) << errors(f);
  EXPECT_EQ(attr(f, "name"), "APP-prod");
}

TEST(HclLocals, ACircleIsAnErrorNamingTheLocalsNotAHang) {
  auto f = eval(
      "locals {\n  a = local.b\n  b = \"${local.c}x\"\n  c = local.a\n  d = local.a\n"
      "  ok = 1\n}\nv = local.ok\n");
  std::string e = errors(f);
  EXPECT_NE(e.find("line 2, column 3: locals refer to each other in a circle: local.a -> local.b "
                   "-> local.c -> local.a"),
            std::string::npos)
      << e;
  EXPECT_EQ(attr(f, "v"), 1);
  auto self = eval("locals {\n  me = local.me + 1\n}\n");
  EXPECT_NE(errors(self).find("local.me -> local.me"), std::string::npos) << errors(self);
  EXPECT_NE(errors(eval("locals {\n  a = 1\n}\nlocals {\n  a = 2\n}\n"))
                .find("line 5, column 3: local \"a\" is defined twice (first at line 2)"),
            std::string::npos);
}

TEST(HclLocals, ALongChainDoesNotExhaustTheStack) {
  std::string text = "locals {\n";
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    text += "  l" + std::to_string(i) + " = local.l" + std::to_string(i + 1) + " + 1\n";
  text += "  l" + std::to_string(n) + " = 0\n}\nv = local.l0\n";
  auto f = eval(text);
  ASSERT_TRUE(f.errors.empty()) << errors(f).substr(0, 500);
  EXPECT_EQ(attr(f, "v"), n);
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/drover-hcl-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
  }
};

TEST(HclFiles, FileAndTemplatefileReadNextToTheJobFile) {
  TempDir dir;
  dir.write("motd.txt", "hello\n");
  dir.write("conf.tpl",
            "port=${port}\n%{ for h in hosts ~}\nhost=${h}\n%{ endfor ~}\n"
            "alloc=${NOMAD_ALLOC_ID}\n");
  auto f = eval(R"(motd = file("motd.txt")
conf = templatefile("conf.tpl", { port = 80, hosts = ["a", "b"] })
exists = [fileexists("motd.txt"), fileexists("nope")]
abs = abspath("motd.txt")
home = [pathexpand("~/.ssh/id"), pathexpand("rel/~x")]
)",
                {}, dir.path.string());
  ASSERT_TRUE(f.errors.empty()) << errors(f);
  EXPECT_EQ(attr(f, "motd"), "hello\n");
  EXPECT_EQ(attr(f, "conf"), "port=80\nhost=a\nhost=b\nalloc=${NOMAD_ALLOC_ID}\n");
  EXPECT_EQ(attr(f, "exists"), json({true, false}));
  EXPECT_EQ(attr(f, "abs"), (dir.path / "motd.txt").string());
  const char* home = std::getenv("HOME");
  ASSERT_NE(home, nullptr);
  EXPECT_EQ(attr(f, "home"), json({std::string(home) + "/.ssh/id", "rel/~x"}));

  dir.write("bad.tpl", "x\n${1 +}\n");
  auto bad = eval("v = templatefile(\"bad.tpl\", {})\n", {}, dir.path.string());
  EXPECT_NE(
      errors(bad).find(
          "line 1, column 5: templatefile(): \"bad.tpl\": line 2, column 6: expected a value"),
      std::string::npos)
      << errors(bad);
  dir.write("big.txt", std::string(2 * 1024 * 1024, 'x'));
  EXPECT_NE(errors(eval("v = file(\"big.txt\")\n", {}, dir.path.string()))
                .find("is larger than 1048576 bytes"),
            std::string::npos);
  EXPECT_NE(errors(eval("v = file(\"/nonexistent/x\")\n", {}, dir.path.string()))
                .find("file(): cannot read \"/nonexistent/x\""),
            std::string::npos);
}

TEST(HclJobsWithVariables, AJobTakesItsValuesFromVariablesAndLocals) {
  const std::string text = R"(variable "count" {
  type = number
  default = 1
}
variable "cmd" {}
locals {
  args = ["-c", "echo ${var.cmd}"]
}
job "vars" {
  datacenters = ["dc1"]
  type = "batch"
  group "g" {
    count = var.count * 2
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = local.args
      }
      env {
        REPLICAS = var.count
      }
    }
  }
}
)";
  HclJobOptions options;
  options.variables.args = {{"cmd", "hi"}, {"count", "2"}};
  auto r = parse_job(text, options);
  ASSERT_TRUE(r.problems.empty()) << format_problems(r.problems);
  EXPECT_EQ(r.job->groups.at(0).count, 4);
  EXPECT_EQ(r.job->groups[0].tasks.at(0).config["args"], json({"-c", "echo hi"}));
  EXPECT_EQ(r.job->groups[0].tasks[0].env.at("REPLICAS"), "2");

  auto missing = parse_job(text);  // no -var cmd
  EXPECT_NE(format_problems(missing.problems).find("variable \"cmd\" has no value"),
            std::string::npos)
      << format_problems(missing.problems);

  auto json_doc = hcl_to_nomad_json(text, options);
  ASSERT_TRUE(json_doc.problems.empty()) << format_problems(json_doc.problems);
  EXPECT_EQ((*json_doc.doc)["Job"]["TaskGroups"][0]["Count"], 4);
}

// `-var n=3` on an untyped variable is the string "3"; where the job wants a number, HCL
// converts it, as Nomad does, and -output prints the number. A string that is no whole number
// is still refused, naming the field.
TEST(HclJobsWithVariables, AnUntypedVariableFromTheCommandLineIsANumberWhereOneIsWanted) {
  const std::string text = R"(variable "n" {}
variable "mem" {}
job "x" {
  group "g" {
    count = var.n
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      resources { memory = var.mem }
      env { N = var.n }
    }
  }
}
)";
  HclJobOptions options;
  options.variables.args = {{"n", "3"}, {"mem", "128"}};
  auto r = parse_job(text, options);
  ASSERT_TRUE(r.problems.empty()) << format_problems(r.problems);
  EXPECT_EQ(r.job->groups.at(0).count, 3);
  EXPECT_EQ(r.job->groups[0].tasks.at(0).resources.memory_mb, 128);
  EXPECT_EQ(r.job->groups[0].tasks[0].env.at("N"), "3");
  auto json_doc = hcl_to_nomad_json(text, options);
  ASSERT_TRUE(json_doc.problems.empty()) << format_problems(json_doc.problems);
  EXPECT_EQ((*json_doc.doc)["Job"]["TaskGroups"][0]["Count"], 3);

  options.variables.args = {{"n", "three"}, {"mem", "128"}};
  auto bad = parse_job(text, options);
  EXPECT_NE(format_problems(bad.problems).find("count at line 5: must be an integer"),
            std::string::npos)
      << format_problems(bad.problems);
}

}  // namespace
}  // namespace drover::jobspec
