// Nomad HCL job files through the real agent: one runs through `drover job run`, and a block
// drover cannot honour is a 400 that names it and its line, with nothing run.
#include <gtest/gtest.h>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::make_temp_dir;
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
      dns { servers = ["1.1.1.1"] }
    }
    task "server" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("group \\\"web\\\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("network.dns block at line 5: not supported yet (issue 18"),
            std::string::npos)
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
