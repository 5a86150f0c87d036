// Nomad's HCL job files: the HCL2 native-syntax reader (jobspec/hcl/), then whole job files
// as Nomad users write them, mapped onto the same job as their JSON, and what is refused.
#include "jobspec/hcl/hcl.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::has_line;
using testing::must_parse;
using testing::problems_of;

hcl::Body must_read(std::string_view text) {
  auto r = hcl::parse(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.message());
  return r.ok() ? std::move(r.value()) : hcl::Body{};
}

std::string error_of(std::string_view text) {
  auto r = hcl::parse(text);
  EXPECT_FALSE(r.ok()) << "parsed but should not have: " << text;
  return r.ok() ? "" : r.message();
}

json attr(const hcl::Body& body, const std::string& name) {
  for (const auto& a : body.attributes)
    if (a.name == name) return a.value;
  ADD_FAILURE() << "no attribute " << name;
  return nullptr;
}

// ---- the reader ------------------------------------------------------------------------

TEST(HclSyntax, AttributesOfEveryLiteralKind) {
  auto b = must_read(
      "s = \"text\"\n"
      "i = 42\n"
      "n = -7\n"
      "f = 1.5\n"
      "e = 1e3\n"
      "t = true\n"
      "no = false\n"
      "z = null\n");
  EXPECT_EQ(attr(b, "s"), "text");
  EXPECT_EQ(attr(b, "i"), 42);
  EXPECT_EQ(attr(b, "n"), -7);
  EXPECT_EQ(attr(b, "f"), 1.5);
  EXPECT_EQ(attr(b, "e"), 1000.0);
  EXPECT_EQ(attr(b, "t"), true);
  EXPECT_EQ(attr(b, "no"), false);
  EXPECT_TRUE(attr(b, "z").is_null());
}

TEST(HclSyntax, BlocksWithQuotedAndBareLabelsNest) {
  auto b = must_read(
      "job \"web\" {\n"
      "  group api {\n"
      "    task \"t\" {}\n"
      "    task \"u\" { driver = \"exec\" }\n"
      "  }\n"
      "}\n");
  ASSERT_EQ(b.blocks.size(), 1u);
  const auto& job = b.blocks[0];
  EXPECT_EQ(job.type, "job");
  EXPECT_EQ(job.labels, std::vector<std::string>{"web"});
  const auto& group = job.body.blocks.at(0);
  EXPECT_EQ(group.labels, std::vector<std::string>{"api"});
  EXPECT_EQ(group.pos.line, 2);
  ASSERT_EQ(group.body.blocks.size(), 2u);
  EXPECT_EQ(attr(group.body.blocks[1].body, "driver"), "exec");
}

TEST(HclSyntax, CommentsOfAllThreeKinds) {
  auto b = must_read(
      "# hash comment\n"
      "// slash comment\n"
      "a = 1 # trailing\n"
      "/* block\n comment */ b = 2\n"
      "c = /* inline */ 3 // trailing\n");
  EXPECT_EQ(attr(b, "a"), 1);
  EXPECT_EQ(attr(b, "b"), 2);
  EXPECT_EQ(attr(b, "c"), 3);
}

TEST(HclSyntax, StringEscapes) {
  auto b = must_read(R"(a = "q\"uote\\ tab\t nl\n u\u00e9 U\U0001F600")"
                     "\n");
  EXPECT_EQ(attr(b, "a"), "q\"uote\\ tab\t nl\n u\xC3\xA9 U\xF0\x9F\x98\x80");
  EXPECT_NE(error_of(R"(a = "\q")"
                     "\n")
                .find("invalid escape \\q"),
            std::string::npos);
}

TEST(HclSyntax, InterpolationsAreKeptForTheAgentAndDollarDollarEscapes) {
  auto b = must_read(
      "a = \"${NOMAD_ALLOC_ID}/x\"\n"
      "b = \"${ attr.kernel.name }\"\n"
      "c = \"$${NOMAD_TASK_NAME} %%{ x }\"\n"
      "d = \"${meta[\"rack\"]} ${NOMAD_META_a}\"\n"
      "e = node.class\n"
      "f = \"cost: $5 and 100%\"\n");
  EXPECT_EQ(attr(b, "a"), "${NOMAD_ALLOC_ID}/x");
  EXPECT_EQ(attr(b, "b"), "${attr.kernel.name}");
  EXPECT_EQ(attr(b, "c"), "${NOMAD_TASK_NAME} %{ x }");
  EXPECT_EQ(attr(b, "d"), "${meta[\"rack\"]} ${NOMAD_META_a}");
  EXPECT_EQ(attr(b, "e"), "${node.class}");
  EXPECT_EQ(attr(b, "f"), "cost: $5 and 100%");
}

TEST(HclSyntax, Heredocs) {
  auto b = must_read(
      "a = <<EOF\n"
      "line one\n"
      "  indented ${NOMAD_ALLOC_DIR} \\n not an escape\n"
      "EOF\n"
      "b = <<-EOT\n"
      "    four\n"
      "      six\n"
      "    EOT\n"
      "c = 1\n");
  EXPECT_EQ(attr(b, "a"), "line one\n  indented ${NOMAD_ALLOC_DIR} \\n not an escape\n");
  EXPECT_EQ(attr(b, "b"), "four\n  six\n");
  EXPECT_EQ(attr(b, "c"), 1);
}

TEST(HclSyntax, ListsAndObjectsAcrossLinesWithTrailingCommas) {
  auto b = must_read(
      "l = [\n"
      "  \"a\",  # a comment\n"
      "  [1, 2],\n"
      "  { k = \"v\", \"q k\" : 2 },\n"
      "]\n"
      "o = {\n"
      "  x = 1\n"
      "  y = [true,]\n"
      "  \"z\": { nested = null },\n"
      "}\n"
      "empty = []\n"
      "eo = {}\n");
  EXPECT_EQ(attr(b, "l"), json::parse(R"(["a", [1, 2], {"k": "v", "q k": 2}])"));
  EXPECT_EQ(attr(b, "o"), json::parse(R"({"x": 1, "y": [true], "z": {"nested": null}})"));
  EXPECT_EQ(attr(b, "empty"), json::array());
  EXPECT_EQ(attr(b, "eo"), json::object());
}

TEST(HclSyntax, ErrorsSayLineAndColumn) {
  EXPECT_EQ(error_of("a = 1\nb = \"open\n"),
            "line 2, column 5: string is never closed "
            "(expected '\"' on the same line)");
  EXPECT_NE(error_of("job \"x\" {\n  group \"g\" {\n}\n").find("line 1, column 1: block \"job\""),
            std::string::npos);
  EXPECT_NE(
      error_of("a = 1\na = 2\n").find("line 2, column 1: attribute \"a\" is already set at line 1"),
      std::string::npos);
  EXPECT_NE(error_of("a = <<EOF\nnever ends\n").find("line 1, column 5: heredoc <<EOF never ends"),
            std::string::npos);
  EXPECT_NE(error_of("a = [1 2]\n").find("line 1, column 8: expected ',' or ']'"),
            std::string::npos);
  EXPECT_NE(error_of("}\n").find("unexpected '}'"), std::string::npos);
  EXPECT_NE(error_of("a = 1 b = 2\n").find("expected a newline"), std::string::npos);
  EXPECT_NE(error_of("/* open").find("comment /* is never closed"), std::string::npos);
  EXPECT_NE(error_of("a = 99999999999999999999\n").find("out of range"), std::string::npos);
  EXPECT_NE(error_of("a: 1\n").find("'=', not ':'"), std::string::npos);
  EXPECT_NE(error_of("a = [1][0 b\n").find("expected ']' closing the index"), std::string::npos);
  EXPECT_NE(error_of("a = [[1]][*][0 b\n").find("expected ']' closing the index"),
            std::string::npos);
}

TEST(HclSyntax, EvaluationErrorsSayLineAndColumn) {
  EXPECT_NE(error_of("a = 1 + \"x\"\n")
                .find("line 1, column 9: operand of +: a number is required, got the string \"x\""),
            std::string::npos);
  EXPECT_NE(error_of("a = upper(\"x\", 2)\n").find("upper() takes 1 argument, got 2"),
            std::string::npos);
  EXPECT_NE(error_of("a = var.image\n").find("line 1, column 5: no variable \"image\" is declared"),
            std::string::npos);
  EXPECT_NE(error_of("a = \"${upper(x)}\"\n").find("unknown name \"x\""), std::string::npos);
  EXPECT_NE(error_of("a = uper(\"x\")\n").find("unknown function uper() (did you mean \"upper\"?)"),
            std::string::npos);
  EXPECT_NE(error_of("a = raw_exec\n").find("a string needs quotes"), std::string::npos);
  // Every attribute's error at once.
  std::string both = error_of("a = 1 / 0\nb = [1][3]\n");
  EXPECT_NE(both.find("line 1, column 7: division by zero"), std::string::npos) << both;
  EXPECT_NE(both.find("line 2, column 9: index 3 is out of range"), std::string::npos) << both;
}

TEST(HclSyntax, NestingPastTheCapIsRefused) {
  std::string deep = "a = " + std::string(100, '[') + std::string(100, ']') + "\n";
  EXPECT_NE(error_of(deep).find("nested more than 64"), std::string::npos);
  std::string blocks;
  for (int i = 0; i < 100; ++i) blocks += "b {\n";
  for (int i = 0; i < 100; ++i) blocks += "}\n";
  EXPECT_NE(error_of(blocks).find("nested more than 64"), std::string::npos);
}

TEST(HclSyntax, DetectionLooksPastCommentsAndTellsYamlApart) {
  EXPECT_TRUE(hcl::looks_like_hcl("# comment\n/* x */\njob \"a\" {\n}\n"));
  EXPECT_TRUE(hcl::looks_like_hcl("variable \"image\" {}\n"));
  EXPECT_TRUE(hcl::looks_like_hcl("locals {\n}\n"));
  EXPECT_FALSE(hcl::looks_like_hcl("job:\n  id: a\n"));
  EXPECT_FALSE(hcl::looks_like_hcl("job :\n  id: a\n"));
  EXPECT_FALSE(hcl::looks_like_hcl("{\"Job\": {}}"));
  EXPECT_FALSE(hcl::looks_like_hcl(""));
}

// ---- Nomad job files ---------------------------------------------------------------------

const char* kRawExecService = R"(# A service, as a Nomad user writes it.
job "counter" {
  datacenters = ["dc1"]
  type        = "service"
  priority    = 60

  meta {
    owner = "team-a"
    build = 42
  }

  update {
    health_check     = "task_states"
    min_healthy_time = "5s"
    healthy_deadline = "2m"
    max_parallel     = 1
  }

  group "counter" {
    count = 2

    restart {
      attempts = 5
      interval = "10m"
      delay    = "20s"
      mode     = "delay"
    }

    task "count" {
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "while true; do echo ${NOMAD_ALLOC_ID}; sleep 1; done"]
      }

      env {
        GREETING = "hi"
        PORT     = 8080
      }

      resources {
        cpu    = 200
        memory = 64
      }

      kill_timeout = "10s"
      kill_signal  = "SIGINT"

      logs {
        max_files     = 3
        max_file_size = 5
      }
    }
  }
}
)";

TEST(HclJobs, RawExecServiceWithRestartAndUpdate) {
  Job job = must_parse(kRawExecService);
  EXPECT_EQ(job.id, "counter");
  EXPECT_EQ(job.name, "counter");
  EXPECT_EQ(job.type, JobType::Service);
  EXPECT_EQ(job.datacenters, std::vector<std::string>{"dc1"});
  EXPECT_EQ(job.priority, 60);
  EXPECT_EQ(job.meta.at("build"), "42");
  ASSERT_TRUE(job.update);
  EXPECT_EQ(job.update->health_check, "task_states");
  EXPECT_EQ(job.update->min_healthy_time, 5s);
  EXPECT_EQ(job.update->healthy_deadline, 2min);
  const TaskGroup& g = job.groups.at(0);
  EXPECT_EQ(g.name, "counter");
  EXPECT_EQ(g.count, 2);
  EXPECT_EQ(g.restart.attempts, 5);
  EXPECT_EQ(g.restart.interval, 10min);
  EXPECT_EQ(g.restart.delay, 20s);
  EXPECT_EQ(g.restart.mode, "delay");
  const Task& t = g.tasks.at(0);
  EXPECT_EQ(t.driver, "raw_exec");
  EXPECT_EQ(t.config["command"], "/bin/sh");
  EXPECT_EQ(t.config["args"][1], "while true; do echo ${NOMAD_ALLOC_ID}; sleep 1; done");
  EXPECT_EQ(t.env.at("PORT"), "8080");
  EXPECT_EQ(t.resources.cpu_mhz, 200);
  EXPECT_EQ(t.resources.memory_mb, 64);
  EXPECT_EQ(t.kill_timeout, 10s);
  EXPECT_EQ(t.kill_signal, "SIGINT");
  EXPECT_EQ(t.logs.max_files, 3);
  EXPECT_EQ(t.logs.max_file_size_mb, 5);
}

TEST(HclJobs, BatchJobWithLifecycleTasksAndDefaults) {
  Job job = must_parse(R"(
job "etl" {
  type = "batch"
  group "run" {
    task "prepare" {
      driver = "raw_exec"
      lifecycle {
        hook    = "prestart"
        sidecar = false
      }
      config { command = "/bin/true" }
    }
    task "main" {
      driver = "raw_exec"
      leader = true
      config {
        command = "/bin/sh"
        args    = ["-c", <<-EOS
          echo start
          echo done
        EOS
        ]
      }
    }
  }
}
)");
  EXPECT_EQ(job.type, JobType::Batch);
  const TaskGroup& g = job.groups.at(0);
  EXPECT_EQ(g.restart, default_restart_policy(JobType::Batch));
  EXPECT_EQ(g.tasks.at(0).lifecycle.hook, "prestart");
  EXPECT_TRUE(g.tasks.at(1).leader);
  EXPECT_EQ(g.tasks[1].config["args"][1], "echo start\necho done\n");
  EXPECT_EQ(g.tasks[1].resources.memory_mb, 300) << "defaults as for JSON and YAML";
  EXPECT_EQ(g.tasks[1].kill_timeout, 5s);
}

TEST(HclJobs, DockerConfigBlocksArriveAsListsOfObjects) {
  Job job = must_parse(R"(
job "redis" {
  group "cache" {
    task "redis" {
      driver = "docker"
      config {
        image = "redis:7"
        args  = ["--port", "6379"]
        port_map {
          db = 6379
        }
        mount {
          type   = "tmpfs"
          target = "/data"
        }
        mount {
          type   = "bind"
          source = "local/conf"
          target = "/etc/redis"
        }
        labels = { team = "cache" }
      }
      resources {
        cpu    = 500
        memory = 256
      }
    }
  }
}
)");
  const json& config = job.groups.at(0).tasks.at(0).config;
  EXPECT_EQ(config["image"], "redis:7");
  EXPECT_EQ(config["port_map"], json::parse(R"([{"db": 6379}])"));
  ASSERT_EQ(config["mount"].size(), 2u);
  EXPECT_EQ(config["mount"][1]["target"], "/etc/redis");
  EXPECT_EQ(config["labels"]["team"], "cache");
}

TEST(HclJobs, TaskServicesWithChecksMapThrough) {
  Job job = must_parse(R"(
job "web" {
  group "web" {
    task "server" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      service {
        name     = "web"
        port     = "8080"
        provider = "nomad"
        tags     = ["a"]
        check {
          type     = "http"
          path     = "/health"
          interval = "5s"
          timeout  = "1s"
          header {
            X-Probe = ["drover"]
          }
          check_restart {
            limit = 3
            grace = "10s"
          }
        }
      }
    }
  }
}
)");
  const auto& services = job.groups.at(0).tasks.at(0).services;
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0].port, "8080");
  ASSERT_EQ(services[0].checks.size(), 1u);
  const Check& c = services[0].checks[0];
  EXPECT_EQ(c.interval, 5s);
  EXPECT_EQ(c.timeout, 1s);
  EXPECT_EQ(c.header.at("X-Probe"), std::vector<std::string>{"drover"});
  ASSERT_TRUE(c.check_restart);
  EXPECT_EQ(c.check_restart->limit, 3);
  EXPECT_EQ(c.check_restart->grace, 10s);
}

TEST(HclJobs, TheSameJobAsItsNomadJson) {
  Job hcl = must_parse(R"(
job "hello-batch" {
  type = "batch"
  group "hello" {
    task "say-hello" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo hi"]
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
)");
  Job fromjson = must_parse(R"({"Job": {"ID": "hello-batch", "Type": "batch", "TaskGroups": [
    {"Name": "hello", "Tasks": [{"Name": "say-hello", "Driver": "raw_exec",
      "Config": {"command": "/bin/sh", "args": ["-c", "echo hi"]},
      "Resources": {"CPU": 100, "MemoryMB": 64}}]}]}})");
  EXPECT_EQ(to_json(hcl).dump(2), to_json(fromjson).dump(2));
}

TEST(HclJobs, UnsupportedBlocksAreRefusedWithTheirLine) {
  std::string p = problems_of(R"(job "web" {
  multiregion {
    strategy { max_parallel = 1 }
  }

  group "web" {
    network {
      port "http" { to = 8080 }
      dns {}
    }
    service {
      name = "web"
    }
    task "server" {
      driver = "docker"
      config { image = "nginx" }
      template {
        data        = "x"
        destination = "local/x"
      }
      vault { policies = ["a"] }
    }
  }
}
)");
  EXPECT_TRUE(has_line(p, "job \"web\": multiregion block at line 2: not supported by drover"))
      << p;
  // A network's dns block is read (docs/networking.md, "DNS"): nothing said about line 9.
  EXPECT_EQ(p.find("dns"), std::string::npos) << p;
  // template blocks are read now (docs/templates.md): nothing said about line 17.
  EXPECT_EQ(p.find("template block"), std::string::npos) << p;
  EXPECT_TRUE(has_line(p,
                       "group \"web\" task \"server\": vault block at line 21: not supported "
                       "by drover (no Vault integration)"))
      << p;
}

TEST(HclJobs, ProblemsFoundLaterNameTheHclThatWasWritten) {
  std::string p = problems_of(R"(job "bad" {
  type = "systemd"
  group "g" {
    count = 0
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      resources {
        memory = 5
        cpuu   = 100
      }
      kill_timeout = 30
    }
  }
}
)");
  EXPECT_NE(p.find("job \"bad\": type at line 2: must be \"service\", \"batch\", \"system\" or "
                   "\"sysbatch\" (got \"systemd\")"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("group \"g\": count at line 4: "), std::string::npos) << p;
  EXPECT_NE(p.find("group \"g\" task \"t\": resources.memory at line 9: must be at least 10"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("group \"g\" task \"t\": resources.cpuu at line 10: unknown attribute (did "
                   "you mean \"cpu\"?)"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("group \"g\" task \"t\": kill_timeout at line 12: must be a duration such as "
                   "\"30s\" (got 30)"),
            std::string::npos)
      << p;
}

TEST(HclJobs, SyntaxErrorsAndVariablesAreProblems) {
  EXPECT_TRUE(has_line(problems_of("job \"x\" {\n  type = \"batch\n}\n"),
                       "malformed HCL at line 2, column 10: string is never closed (expected "
                       "'\"' on the same line)"));
  std::string p = problems_of("variable \"image\" {\n  default = \"nginx\"\n}\njob \"x\" {\n}\n");
  EXPECT_EQ(p.find("variable"), std::string::npos) << p;
  EXPECT_NE(problems_of("job \"a\" {\n  group \"g\" {\n    task \"t\" {\n"
                        "      driver = \"raw_exec\"\n      config { image = var.image }\n"
                        "    }\n  }\n}\n")
                .find("line 5, column 24: no variable \"image\" is declared"),
            std::string::npos);
  EXPECT_NE(problems_of("job \"a\" {}\njob \"b\" {}\n").find("a job file holds one job"),
            std::string::npos);
  EXPECT_NE(problems_of("job {\n}\n").find("job block at line 1: needs 1 label"),
            std::string::npos);
}

// HCL converts "true" and "false" for a bool field and a number for a string one, and
// Nomad's own job files rely on it (`unlimited = "true"`, `port = 9000`).
TEST(HclJobs, StringsForBoolsAndNumbersForStringsAreConvertedAsHclDoes) {
  Job j = must_parse(R"(job "j" {
  type = "batch"
  group "g" {
    reschedule {
      attempts  = 0
      unlimited = "true"
    }
    restart {
      render_templates = true
    }
    ephemeral_disk {
      sticky = "false"
    }
    task "t" {
      driver = "raw_exec"
      user   = 1000
      config {
        command = "/bin/true"
      }
      constraint {
        attribute = "${attr.cpu.numcores}"
        operator  = ">="
        value     = 1
      }
    }
  }
}
)");
  ASSERT_TRUE(j.groups[0].reschedule);
  EXPECT_TRUE(j.groups[0].reschedule->unlimited);
  EXPECT_FALSE(j.groups[0].ephemeral_disk.sticky);
  EXPECT_TRUE(j.groups[0].restart.render_templates);
  EXPECT_EQ(j.groups[0].tasks[0].user, "1000");
  EXPECT_EQ(j.groups[0].tasks[0].placement.constraints.at(0).value, "1");
  // Any other string is still not a bool.
  auto p = problems_of(R"(job "j" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      leader = "yes"
    }
  }
}
)");
  EXPECT_NE(p.find("leader at line 5: must be true or false"), std::string::npos) << p;
}

// Nomad's jobspec reads a task written in the job itself as a group of its own, named after
// the task, ahead of the job's groups (two of Nomad's e2e jobs are written so).
TEST(HclJobs, ATaskInTheJobItselfIsAGroupOfItsOwn) {
  Job j = must_parse(R"(job "sleeper" {
  type = "batch"
  task "sleeper" {
    driver = "raw_exec"
    config {
      command = "/bin/sleep"
      args    = ["1"]
    }
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
    }
  }
}
)");
  ASSERT_EQ(j.groups.size(), 2u);
  EXPECT_EQ(j.groups[0].name, "sleeper");
  ASSERT_EQ(j.groups[0].tasks.size(), 1u);
  EXPECT_EQ(j.groups[0].tasks[0].name, "sleeper");
  EXPECT_EQ(j.groups[0].count, 1);
  EXPECT_EQ(j.groups[1].name, "g");
  // Its problems name the group it became.
  auto p = problems_of(R"(job "x" {
  task "lonely" {
    config {
      command = "/bin/true"
    }
  }
}
)");
  EXPECT_NE(p.find("group \"lonely\" task \"lonely\": Driver at line 2: is required"),
            std::string::npos)
      << p;
}

}  // namespace
}  // namespace drover::jobspec
