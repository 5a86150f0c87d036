// The job's `ui` block (Nomad 1.8, docs/jobspec.md "ui") in all three job formats: the same Job
// from YAML, Nomad JSON (both spellings of a link's URL) and HCL, the canonical JSON round trip,
// and a link that is not http or https refused naming it.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using nlohmann::json;
using testing::has_line;
using testing::must_parse;
using testing::problems_of;

TEST(JobUiBlock, TheSameBlockFromYamlNomadJsonAndHcl) {
  Job yaml = must_parse(R"(job:
  id: web
  ui:
    description: "The **web** tier.\nPage the on-call."
    links:
      - {label: Dashboard, url: "https://grafana.example/d/web"}
      - {label: Runbook, url: "http://wiki.example/web"}
  groups:
    - name: g
      tasks: [{name: t, driver: raw_exec}]
)");
  ASSERT_TRUE(yaml.ui);
  EXPECT_EQ(yaml.ui->description, "The **web** tier.\nPage the on-call.");
  ASSERT_EQ(yaml.ui->links.size(), 2u);
  EXPECT_EQ(yaml.ui->links[0].label, "Dashboard");
  EXPECT_EQ(yaml.ui->links[1].url, "http://wiki.example/web");
  // `nomad job run -output` writes URL; Nomad's API answers Url.
  for (const char* key : {"URL", "Url"}) {
    Job nomad = must_parse(std::string(R"({"Job": {"ID": "web", "UI": {"Description": "The **web** tier.\nPage the on-call.",
      "Links": [{"Label": "Dashboard", ")") + key + R"(": "https://grafana.example/d/web"},
                {"Label": "Runbook", ")" + key + R"(": "http://wiki.example/web"}]},
      "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t", "Driver": "raw_exec"}]}]}})");
    EXPECT_EQ(nomad, yaml) << key;
  }
  Job hcl = must_parse(R"(job "web" {
  ui {
    description = "The **web** tier.\nPage the on-call."
    link {
      label = "Dashboard"
      url   = "https://grafana.example/d/web"
    }
    link {
      label = "Runbook"
      url   = "http://wiki.example/web"
    }
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
    }
  }
})");
  EXPECT_EQ(hcl, yaml);
  json j = to_json(yaml);
  EXPECT_EQ(j["UI"]["Links"][0], json({{"Label", "Dashboard"}, {"Url", "https://grafana.example/d/web"}}));
  EXPECT_EQ(job_from_json(j), yaml);
  Job plain = must_parse("job: {id: p, groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]}");
  EXPECT_FALSE(to_json(plain).contains("UI"));
}

TEST(JobUiBlock, OnlyHttpAndHttpsLinksAreTaken) {
  auto p = problems_of(R"job(job:
  id: web
  ui:
    links:
      - {label: x, url: "javascript:alert(document.cookie)"}
      - {label: y, url: "https://ok.example/a b"}
      - {label: z, url: "/v1/acl/tokens", target: _self}
  groups:
    - name: g
      tasks: [{name: t, driver: raw_exec}]
)job");
  EXPECT_TRUE(has_line(p, "ui.links[0].url: must be an http or https URL without spaces, at most 2048 "
                          "characters (got \"javascript:alert(document.cookie)\")")) << p;
  EXPECT_NE(p.find("ui.links[1].url: must be an http or https URL"), std::string::npos) << p;
  EXPECT_NE(p.find("ui.links[2].url: must be an http or https URL"), std::string::npos) << p;
  EXPECT_NE(p.find("ui.links[2].target"), std::string::npos) << p;
  // In HCL, the problem names the attribute and its line.
  auto h = problems_of(R"job(job "web" {
  ui {
    link {
      url = "javascript:alert(1)"
    }
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
    }
  }
})job");
  EXPECT_NE(h.find("javascript:alert(1)"), std::string::npos) << h;
  EXPECT_NE(h.find("ui.link.url at line 4"), std::string::npos) << h;
}

}  // namespace
}  // namespace drover::jobspec
