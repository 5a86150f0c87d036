// The disconnect block (docs/jobspec.md, "disconnect"): read from HCL, YAML and Nomad JSON,
// its Nomad 1.8 spellings (max_client_disconnect and friends) read into it, kept in the job
// JSON, and refused by Nomad's rules.
#include <gtest/gtest.h>

#include "test_util.hpp"

using namespace drover::jobspec;
using namespace std::chrono_literals;
using drover::jobspec::testing::has_line;
using drover::jobspec::testing::must_parse;
using drover::jobspec::testing::problems_of;

namespace {

std::string hcl_group(const std::string& inside, const std::string& type = "service") {
  return "job \"edge\" {\n  type = \"" + type + "\"\n  group \"g\" {\n" + inside +
         "\n    task \"t\" {\n      driver = \"raw_exec\"\n"
         "      config { command = \"/bin/true\" }\n    }\n  }\n}\n";
}

TEST(Disconnect, ReadFromEachFormatAlikeAndKeptInTheJobJson) {
  Job h = must_parse(hcl_group(R"(    disconnect {
      lost_after = "6h"
      replace    = false
      reconcile  = "keep_original"
    })"));
  ASSERT_TRUE(h.groups.at(0).disconnect.has_value());
  const auto& d = *h.groups[0].disconnect;
  EXPECT_EQ(d.lost_after, 6h);
  EXPECT_FALSE(d.replace);
  EXPECT_EQ(d.reconcile, "keep_original");
  EXPECT_FALSE(d.stop_on_client_after.has_value());
  EXPECT_EQ(job_from_json(to_json(h)), h);
  EXPECT_EQ(to_json(h)["TaskGroups"][0]["Disconnect"]["LostAfter"], int64_t{6} * 3600 * 1000000000);

  Job y = must_parse(R"(job:
  id: edge
  groups:
    - name: g
      disconnect: {lost_after: 6h, replace: false, reconcile: keep_original}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)");
  EXPECT_EQ(y.groups.at(0).disconnect, h.groups[0].disconnect);

  Job j = must_parse(R"({"Job": {"ID": "edge", "TaskGroups": [{"Name": "g",
      "Disconnect": {"LostAfter": 21600000000000, "StopOnClientAfter": null, "Replace": false,
                     "Reconcile": "keep_original"},
      "Tasks": [{"Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"}}]}]}})");
  EXPECT_EQ(j.groups.at(0).disconnect, h.groups[0].disconnect);
}

TEST(Disconnect, LeftOutItsFieldsTakeNomadsDefaults) {
  Job h = must_parse(hcl_group("    disconnect {\n      stop_on_client_after = \"90s\"\n    }"));
  ASSERT_TRUE(h.groups.at(0).disconnect.has_value());
  const auto& d = *h.groups[0].disconnect;
  EXPECT_EQ(d.lost_after, 0s);
  EXPECT_EQ(d.stop_on_client_after, std::optional<Duration>(90s));
  EXPECT_TRUE(d.replace);
  EXPECT_EQ(d.reconcile, "best_score");
  EXPECT_FALSE(must_parse(hcl_group("")).groups.at(0).disconnect.has_value());
}

TEST(Disconnect, TheOlderGroupFieldsAreReadAsTheBlock) {
  Job h = must_parse(hcl_group(R"(    max_client_disconnect      = "1h"
    prevent_reschedule_on_lost = true)"));
  ASSERT_TRUE(h.groups.at(0).disconnect.has_value());
  EXPECT_EQ(h.groups[0].disconnect->lost_after, 1h);
  EXPECT_FALSE(h.groups[0].disconnect->replace);
  Job s = must_parse(hcl_group("    stop_after_client_disconnect = \"2m\""));
  ASSERT_TRUE(s.groups.at(0).disconnect.has_value());
  EXPECT_EQ(s.groups[0].disconnect->stop_on_client_after, std::optional<Duration>(2min));
  // Both ways at once is refused, naming the older field.
  auto p = problems_of(hcl_group(R"(    max_client_disconnect = "1h"
    disconnect {
      lost_after = "2h"
    })"));
  EXPECT_NE(p.find("max_client_disconnect"), std::string::npos) << p;
  EXPECT_NE(p.find("older form of the Disconnect block"), std::string::npos) << p;
}

TEST(Disconnect, RefusedByNomadsRulesNamingTheField) {
  auto p = problems_of(hcl_group(R"(    disconnect {
      lost_after           = "1h"
      stop_on_client_after = "1m"
      reconcile            = "keep_newest"
    })"));
  EXPECT_NE(p.find("stop_on_client_after"), std::string::npos) << p;
  EXPECT_NE(p.find("cannot be given with lost_after"), std::string::npos) << p;
  EXPECT_NE(p.find("must be best_score, keep_original, keep_replacement or longest_running "
                   "(got \"keep_newest\")"),
            std::string::npos)
      << p;
  auto sys = problems_of(R"(job:
  id: edge
  type: system
  groups:
    - name: g
      disconnect: {stop_on_client_after: 1m}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)");
  EXPECT_TRUE(has_line(sys,
                       "groups[0].disconnect.stop_on_client_after: only service and batch jobs "
                       "may have it (this job is system)"))
      << sys;
  auto neg = problems_of(R"(job:
  id: edge
  groups:
    - name: g
      disconnect: {lost_after: -1m, replace: maybe}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)");
  EXPECT_NE(neg.find("groups[0].disconnect.replace"), std::string::npos) << neg;
  auto typo = problems_of(hcl_group("    disconnect {\n      lost_afterr = \"1h\"\n    }"));
  EXPECT_NE(typo.find("lost_afterr"), std::string::npos) << typo;
  EXPECT_NE(typo.find("did you mean"), std::string::npos) << typo;
}

}  // namespace
