// The shipped examples/ parse, and the Nomad JSON and HCL examples are the same job as the
// YAML one.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using namespace std::chrono_literals;

std::string read(const std::string& name) {
  std::ifstream in(std::string(DROVER_EXAMPLES_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Examples, HelloBatch) {
  Job job = testing::must_parse(read("hello-batch.yaml"));
  EXPECT_EQ(job.type, JobType::Batch);
  const Task& t = job.groups.at(0).tasks.at(0);
  EXPECT_EQ(t.driver, "raw_exec");
  EXPECT_EQ(t.config["command"], "/bin/sh");
  EXPECT_NE(t.config["args"][1].get<std::string>().find("$NOMAD_ALLOC_ID"), std::string::npos);
  EXPECT_EQ(job.groups[0].restart.attempts, 3) << "batch restart defaults";
}

TEST(Examples, CounterService) {
  Job job = testing::must_parse(read("counter-service.yaml"));
  EXPECT_EQ(job.type, JobType::Service);
  EXPECT_EQ(job.groups.at(0).tasks.at(0).kill_timeout, 10s);
  EXPECT_NE(job.groups[0].tasks[0].config["args"][1].get<std::string>().find("sleep 1"),
            std::string::npos);
}

TEST(Examples, NomadJsonIsTheSameJobAsTheYaml) {
  Job yaml = testing::must_parse(read("hello-batch.yaml"));
  Job json = testing::must_parse(read("nomad-batch.json"));
  EXPECT_EQ(to_json(json).dump(2), to_json(yaml).dump(2));
  EXPECT_EQ(json, yaml);
}

TEST(Examples, NomadHclIsTheSameJobAsTheYaml) {
  Job yaml = testing::must_parse(read("hello-batch.yaml"));
  Job hcl = testing::must_parse(read("hello-batch.nomad.hcl"));
  EXPECT_EQ(to_json(hcl).dump(2), to_json(yaml).dump(2));
  EXPECT_EQ(hcl, yaml);
}

// The HCL counter is the YAML one plus what only it shows: a ui block and an action.
TEST(Examples, CounterServiceHclAddsAUiBlockAndAnAction) {
  Job yaml = testing::must_parse(read("counter-service.yaml"));
  Job hcl = testing::must_parse(read("counter-service.nomad.hcl"));
  ASSERT_TRUE(hcl.ui);
  EXPECT_EQ(hcl.ui->links.at(0).url.rfind("https://", 0), 0u);
  ASSERT_EQ(hcl.groups.at(0).tasks.at(0).actions.size(), 1u);
  EXPECT_EQ(hcl.groups[0].tasks[0].actions[0].name, "last-count");
  hcl.ui.reset();
  hcl.groups[0].tasks[0].actions.clear();
  EXPECT_EQ(to_json(hcl).dump(2), to_json(yaml).dump(2));
}

}  // namespace
}  // namespace drover::jobspec
