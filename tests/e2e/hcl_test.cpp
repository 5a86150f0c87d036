// Nomad HCL job files through the real agent: one runs through `drover job run`, one takes its
// values from -var, -var-file and NOMAD_VAR_*, `-output` prints the Nomad JSON and submits
// nothing, POST /v1/jobs/parse answers as Nomad's does, and a block drover cannot honour is a
// 400 that names it and its line, with nothing run.
#include <gtest/gtest.h>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::make_temp_dir;
using drover::testing::run_drover;
using drover::testing::write_file;

TEST(HclJobFiles, RawExecBatchJobFromAnHclFileRunsThroughTheCli) {
  auto agent = AgentProcess::start();
  auto file = make_temp_dir("hcl") + "/hello.nomad.hcl";
  write_file(file, R"(# as a Nomad user writes it
job "hello-hcl" {
  datacenters = ["dc1"]
  type        = "batch"

  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }

    task "t" {
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", <<-EOS
          echo "hello from $NOMAD_JOB_NAME"
          echo "task ${NOMAD_TASK_NAME}"
        EOS
        ]
      }

      env {
        GREETING = "hi"
      }

      resources {
        cpu    = 100
        memory = 32
      }
    }
  }
}
)");
  auto run = agent->cli({"job", "run", file});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto allocs = agent->get("/v1/job/hello-hcl/allocations").json();
  ASSERT_EQ(allocs.size(), 1u);
  std::string id = allocs[0]["ID"];
  auto a = agent->wait_client_status(id, "complete");
  EXPECT_FALSE(a["TaskStates"]["t"]["Failed"].get<bool>()) << a.dump(2);
  auto logs = agent->cli({"alloc", "logs", id.substr(0, 8), "t"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "hello from hello-hcl\ntask t\n");
}

TEST(HclJobFiles, UnsupportedBlockIsA400NamingItsLineAndNothingRuns) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", R"(job "web" {
  group "web" {
    network {
      port "http" {}
    }
    task "server" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      vault { policies = ["db"] }
    }
  }
}
)");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("group \\\"web\\\" task \\\"server\\\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("vault block at line 9: not supported by drover"), std::string::npos)
      << r.body;
  EXPECT_TRUE(agent->get("/v1/allocations").json().empty());
  EXPECT_EQ(agent->get("/v1/job/web").status, 404);
}

TEST(HclJobFiles, MalformedHclSaysLineAndColumn) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", "job \"x\" {\n  type = \"batch\n}\n");
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("malformed HCL at line 2, column 10"), std::string::npos) << r.body;
}

// A job whose values come from everywhere Nomad takes them: a default, NOMAD_VAR_, a
// -var-file, -var (which wins over the file), a local, file() and templatefile() next to the
// job file, a for expression and a dynamic block.
const char* kVariablesJob = R"(variable "greeting" {
  type = string
}
variable "who" {
  type    = string
  default = "default-who"
}
variable "times" {
  type    = number
  default = 1
}
variable "suffix" {
  type    = string
  default = "default-suffix"
}
locals {
  lines = [for i in range(var.times) : "${var.greeting} ${var.who} ${i}"]
}
job "vars-e2e" {
  datacenters = ["dc1"]
  type        = "batch"
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    dynamic "task" {
      for_each = ["t"]
      labels   = [task.value]
      content {
        driver = "raw_exec"
        config {
          command = "/bin/sh"
          args    = ["-c", templatefile("show.tpl", { lines = local.lines, suffix = var.suffix })]
        }
        env {
          MOTD = trimspace(file("motd.txt"))
        }
      }
    }
  }
}
)";

TEST(HclJobFiles, VariablesFromVarVarFileAndEnvironmentReachTheTask) {
  auto agent = AgentProcess::start();
  auto dir = make_temp_dir("hcl-vars");
  write_file(dir + "/vars.nomad.hcl", kVariablesJob);
  write_file(dir + "/motd.txt", "motd-from-file\n");
  write_file(dir + "/show.tpl",
             "%{ for l in lines ~}\necho '${l}'\n%{ endfor ~}\necho \"$MOTD ${suffix} "
             "${NOMAD_TASK_NAME}\"\n");
  write_file(dir + "/prod.vars", "who = \"file-who\"\ntimes = 2\ngreeting = \"file-hello\"\n");
  auto run = run_drover({"job", "run", "-var-file", dir + "/prod.vars", "-var", "greeting=hello",
                         dir + "/vars.nomad.hcl"},
                        agent->address(), {"NOMAD_VAR_suffix=env-suffix", "NOMAD_VAR_who=env-who"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto allocs = agent->get("/v1/job/vars-e2e/allocations").json();
  ASSERT_EQ(allocs.size(), 1u);
  std::string id = allocs[0]["ID"];
  auto a = agent->wait_client_status(id, "complete");
  EXPECT_FALSE(a["TaskStates"]["t"]["Failed"].get<bool>()) << a.dump(2);
  auto logs = agent->cli({"alloc", "logs", id.substr(0, 8), "t"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  // greeting: -var over the file; who: the file over the environment; times: the file over
  // the default; suffix: the environment over the default; the task name is the agent's.
  EXPECT_EQ(logs.out, "hello file-who 0\nhello file-who 1\nmotd-from-file env-suffix t\n");
}

TEST(HclJobFiles, MissingAndUnknownVariablesAreRefusedByTheCliNamingThem) {
  auto agent = AgentProcess::start();
  auto dir = make_temp_dir("hcl-vars");
  write_file(dir + "/vars.nomad.hcl", kVariablesJob);
  auto missing = agent->cli({"job", "run", dir + "/vars.nomad.hcl"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find(dir + "/vars.nomad.hcl:1:1: variable \"greeting\" has no value"),
            std::string::npos)
      << missing.err;
  auto unknown = agent->cli({"job", "run", "-var", "greting=x", dir + "/vars.nomad.hcl"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("-var \"greting\": no variable \"greting\" is declared in the job "
                             "file (did you mean \"greeting\"?)"),
            std::string::npos)
      << unknown.err;
  auto validate = agent->cli({"job", "validate", "-var", "greeting=x", dir + "/vars.nomad.hcl"});
  // file() has no motd.txt here: validate reads the files as run would.
  EXPECT_NE(validate.exit_code, 0);
  EXPECT_NE(validate.err.find("file(): cannot read \"motd.txt\""), std::string::npos)
      << validate.err;
  EXPECT_EQ(agent->get("/v1/job/vars-e2e").status, 404);
}

TEST(HclJobFiles, OutputPrintsTheNomadJsonAndSubmitsNothing) {
  auto agent = AgentProcess::start();
  auto dir = make_temp_dir("hcl-output");
  write_file(dir + "/j.nomad", R"(variable "n" {
  default = 2
}
job "out" {
  datacenters = ["dc1"]
  group "g" {
    count = var.n + 1
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["${NOMAD_ALLOC_INDEX}"]
      }
    }
  }
}
)");
  auto r = agent->cli({"job", "run", "-output", dir + "/j.nomad"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["Job"]["ID"], "out");
  EXPECT_EQ(doc["Job"]["TaskGroups"][0]["Count"], 3);
  EXPECT_EQ(doc["Job"]["TaskGroups"][0]["Tasks"][0]["Config"]["args"][0], "${NOMAD_ALLOC_INDEX}");
  EXPECT_EQ(agent->get("/v1/job/out").status, 404);
  EXPECT_TRUE(agent->get("/v1/jobs").json().empty());
}

TEST(HclJobFiles, JobsParseEndpointAnswersAsNomads) {
  auto agent = AgentProcess::start();
  const std::string hcl = R"(variable "image" {}
job "parsed" {
  datacenters = ["dc1"]
  group "g" {
    task "t" {
      driver = "docker"
      config {
        image = var.image
      }
    }
  }
}
)";
  nlohmann::json req = {{"JobHCL", hcl}, {"Variables", "image = \"redis:7\"\n"}};
  auto r = agent->post("/v1/jobs/parse", req.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto job = r.json();
  EXPECT_EQ(job["ID"], "parsed");
  EXPECT_EQ(job["TaskGroups"][0]["Tasks"][0]["Config"]["image"], "redis:7");
  EXPECT_FALSE(job.contains("Job"));  // the job itself, as Nomad answers

  req["Canonicalize"] = true;
  auto canonical = agent->post("/v1/jobs/parse", req.dump());
  ASSERT_EQ(canonical.status, 200) << canonical.body;
  EXPECT_EQ(canonical.json()["Name"], "parsed");  // defaults applied
  EXPECT_EQ(canonical.json()["Type"], "service");

  auto missing = agent->post("/v1/jobs/parse", nlohmann::json{{"JobHCL", hcl}}.dump());
  ASSERT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("line 1, column 1: variable \\\"image\\\" has no value"),
            std::string::npos)
      << missing.body;
  // The agent reads none of its own files for a job.
  auto files = agent->post(
      "/v1/jobs/parse",
      nlohmann::json{{"JobHCL", "job \"f\" {\n  meta = { x = file(\"/etc/hostname\") }\n}\n"}}
          .dump());
  ASSERT_EQ(files.status, 400);
  EXPECT_NE(files.body.find("the file functions work only where the job file is read"),
            std::string::npos)
      << files.body;
  EXPECT_TRUE(agent->get("/v1/jobs").json().empty());
}
