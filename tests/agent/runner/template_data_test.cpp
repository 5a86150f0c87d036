// What a task's templates may read: Nomad's workload access to variables, files beneath the
// task dir only, and the plain answer when the agent has no variable store.
#include "runner/hooks/template_data.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace drover::runner {
namespace {

namespace fs = std::filesystem;

class FakeVariables : public TemplateVariables {
 public:
  Result<nlohmann::json> get(const std::string& path) override {
    return nlohmann::json{{"path", path}};
  }
  Result<nlohmann::json> list(const std::string&) override {
    return nlohmann::json::parse(R"([{"Path": "nomad/jobs/web"}, {"Path": "nomad/jobs/other"},
                                     {"Path": "nomad/jobs/web/g/t"}, {"Path": "team/x"}])");
  }
  uint64_t wait_for_change(const std::string&, uint64_t after, std::chrono::milliseconds) override {
    return after;
  }
};

TEST(TemplateData, ATaskReadsOnlyItsOwnVariablesAsInNomad) {
  FakeVariables vars;
  TaskTemplateData d("/nonexistent", "web", "g", "t", &vars);
  for (const char* ok : {"nomad/jobs", "nomad/jobs/web", "nomad/jobs/web/g", "nomad/jobs/web/g/t"})
    EXPECT_TRUE(d.nomad_var(ok)) << ok;
  auto other = d.nomad_var("nomad/jobs/other");
  ASSERT_FALSE(other);
  EXPECT_NE(other.message().find("task \"t\" may not read variable \"nomad/jobs/other\""),
            std::string::npos)
      << other.message();
  EXPECT_FALSE(d.nomad_var("team/x"));
  auto list = d.nomad_var_list("");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->dump(), R"([{"Path":"nomad/jobs/web"},{"Path":"nomad/jobs/web/g/t"}])");
}

TEST(TemplateData, WithoutAVariableStoreNomadVarSaysSo) {
  TaskTemplateData d("/nonexistent", "web", "g", "t", nullptr);
  auto r = d.nomad_var("nomad/jobs/web");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.message(), "no variables store on this agent");
  EXPECT_EQ(d.nomad_services()->dump(), "[]");
}

TEST(TemplateData, FilesAreReadBeneathTheTaskDirOnly) {
  char tmpl[] = "/tmp/drover-tpldata-XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  fs::create_directories(dir / "local");
  std::ofstream(dir / "local/in.txt") << "hello";
  fs::create_symlink("/etc/hostname", dir / "local/link");
  TaskTemplateData d(dir, "web", "g", "t", nullptr);
  EXPECT_EQ(*d.read_file("local/in.txt"), "hello");
  EXPECT_FALSE(d.read_file("../../etc/hostname"));
  EXPECT_FALSE(d.read_file("local/link"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace drover::runner
