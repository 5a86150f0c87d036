// Namespaces through the real agent (issue 17): one job id in two namespaces is two jobs, each
// with its own allocs, status, stop and dispatched children; lists filter by ?namespace= as
// Nomad's do; the CLI takes -namespace and NOMAD_NAMESPACE; tasks see their job's namespace.
#include <gtest/gtest.h>

#include <algorithm>

#include "agent_process.hpp"
#include "stream_reader.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using nlohmann::json;

namespace {

// A service job "web" that prints its NOMAD_NAMESPACE and stays up; `ns` "" names none.
std::string web_job(const std::string& ns) {
  return std::string("job:\n  id: web\n") + (ns.empty() ? "" : "  namespace: " + ns + "\n") +
         R"(  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/sh, args: ["-c", "echo ns=$NOMAD_NAMESPACE; exec sleep 300"]}
)";
}

std::vector<std::string> ids_of(const json& list, const char* field = "ID") {
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(item.value(field, ""));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(Namespaces, OneJobIdInTwoNamespacesRunsSideBySideAndStopsAlone) {
  auto agent = AgentProcess::start();
  auto in_default = agent->submit(web_job(""));
  auto in_prod = agent->submit(web_job("prod"));
  ASSERT_EQ(in_default.size(), 1u);
  ASSERT_EQ(in_prod.size(), 1u);
  ASSERT_NE(in_default[0], in_prod[0]) << "the second submit must not replace the first";
  auto a = agent->wait_client_status(in_default[0], "running");
  auto b = agent->wait_client_status(in_prod[0], "running");
  EXPECT_EQ(a["Namespace"], "default");
  EXPECT_EQ(b["Namespace"], "prod");
  EXPECT_EQ(b["Job"]["Namespace"], "prod");

  // Each task sees its own job's namespace.
  for (const auto& [id, ns] : {std::pair{in_default[0], "default"}, std::pair{in_prod[0], "prod"}}) {
    drover::testing::CmdResult logs;
    EXPECT_TRUE(eventually(
        [&] {
          logs = agent->cli({"alloc", "logs", id.substr(0, 8), "t"});
          return logs.out == std::string("ns=") + ns + "\n";
        },
        std::chrono::seconds(10)))
        << logs.out << logs.err;
  }

  // Lists: the default namespace unless ?namespace= names another, or "*" for all.
  auto jobs = agent->get("/v1/jobs").json();
  ASSERT_EQ(jobs.size(), 1u) << jobs.dump();
  EXPECT_EQ(jobs[0]["Namespace"], "default");
  jobs = agent->get("/v1/jobs?namespace=prod").json();
  ASSERT_EQ(jobs.size(), 1u) << jobs.dump();
  EXPECT_EQ(jobs[0]["Namespace"], "prod");
  EXPECT_EQ(agent->get("/v1/jobs?namespace=*").json().size(), 2u);
  EXPECT_TRUE(agent->get("/v1/jobs?namespace=staging").json().empty());
  EXPECT_EQ(ids_of(agent->get("/v1/allocations").json()), std::vector{in_default[0]});
  EXPECT_EQ(ids_of(agent->get("/v1/allocations?namespace=prod").json()), std::vector{in_prod[0]});
  EXPECT_EQ(agent->get("/v1/allocations?namespace=*").json().size(), 2u);

  // One job's endpoints answer for the namespace asked.
  EXPECT_EQ(agent->get("/v1/job/web?namespace=prod").json()["Namespace"], "prod");
  EXPECT_EQ(agent->get("/v1/job/web").json()["Namespace"], "default");
  EXPECT_EQ(ids_of(agent->get("/v1/job/web/allocations?namespace=prod").json()),
            std::vector{in_prod[0]});
  auto missing = agent->get("/v1/job/web?namespace=staging");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("job \\\"web\\\" in namespace \\\"staging\\\" not found"),
            std::string::npos)
      << missing.body;

  // Stopping one leaves the other running.
  ASSERT_EQ(agent->del("/v1/job/web?namespace=prod").status, 200);
  agent->wait_client_status(in_prod[0], "complete");
  EXPECT_EQ(agent->alloc(in_default[0])["ClientStatus"], "running");
  EXPECT_EQ(agent->get("/v1/job/web").json()["Status"], "running");
  EXPECT_EQ(agent->get("/v1/job/web?namespace=prod").json()["Status"], "dead");
  // Purging it removes only its record.
  ASSERT_EQ(agent->del("/v1/job/web?namespace=prod&purge=true").status, 200);
  EXPECT_EQ(agent->get("/v1/job/web?namespace=prod").status, 404);
  EXPECT_EQ(agent->get("/v1/job/web").status, 200);
}

TEST(Namespaces, ABadNamespaceIsA400NamingIt) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", web_job("\"a.b\""));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.json()["problems"][0]["path"], "namespace") << r.body;
  for (const char* path : {"/v1/jobs?namespace=a%2Fb", "/v1/job/web?namespace=*",
                           "/v1/allocations?namespace=..", "/v1/job/web/allocations?namespace=%20"}) {
    auto q = agent->get(path);
    EXPECT_EQ(q.status, 400) << path << ": " << q.body;
    EXPECT_NE(q.body.find("namespace: "), std::string::npos) << path << ": " << q.body;
  }
  EXPECT_EQ(agent->post("/v1/jobs?namespace=a_b", web_job("")).status, 400);
}

// Nomad's order (command/agent/job_endpoint.go): the ?namespace= query, then the job's own;
// drover adds a warning when the query replaced a namespace the job named.
TEST(Namespaces, TheQueryNamespaceWinsOverTheJobsWithAWarning) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs?namespace=staging", web_job("prod"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["Namespace"], "staging");
  EXPECT_NE(r.json()["Warnings"].get<std::string>().find(
                "the job's namespace \"prod\" was replaced by the request's ?namespace=staging"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(agent->get("/v1/job/web?namespace=staging").json()["Namespace"], "staging");
  EXPECT_EQ(agent->get("/v1/job/web?namespace=prod").status, 404);
  // A job that names none simply goes where the query says, without a warning.
  r = agent->post("/v1/jobs?namespace=dev", web_job(""));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["Warnings"], "");
  EXPECT_EQ(agent->get("/v1/job/web?namespace=dev").status, 200);
}

TEST(Namespaces, DispatchedAndPeriodicChildrenStayInTheirParentsNamespace) {
  auto agent = AgentProcess::start();
  const std::string job = R"(
job:
  id: report
  namespace: NS
  type: batch
  parameterized: {payload: forbidden}
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]}]
)";
  auto with_ns = [&](const std::string& ns) {
    auto text = job;
    text.replace(text.find("NS"), 2, ns);
    return text;
  };
  ASSERT_EQ(agent->post("/v1/jobs", with_ns("default")).status, 200);
  ASSERT_EQ(agent->post("/v1/jobs", with_ns("dev")).status, 200);
  auto d = agent->post("/v1/job/report/dispatch?namespace=dev", "{}", "application/json");
  ASSERT_EQ(d.status, 200) << d.body;
  const std::string child = d.json()["DispatchedJobID"];
  auto dev = agent->get("/v1/jobs?namespace=dev&prefix=report/").json();
  ASSERT_EQ(dev.size(), 1u) << dev.dump();
  EXPECT_EQ(dev[0]["ID"], child);
  EXPECT_EQ(dev[0]["Namespace"], "dev");
  EXPECT_TRUE(agent->get("/v1/jobs?prefix=report/").json().empty())
      << "the default namespace's parent has no children";
  EXPECT_EQ(agent->get("/v1/job/" + child + "?namespace=dev").json()["ParentID"], "report");

  // A periodic job's forced launch too: its child is in the parent's namespace only.
  ASSERT_EQ(agent->post("/v1/jobs", R"(
job:
  id: tick
  namespace: dev
  type: batch
  periodic: {crons: ["0 0 1 1 *"]}
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]}]
)").status,
            200);
  EXPECT_EQ(agent->post("/v1/job/tick/periodic/force", "{}", "application/json").status, 404);
  auto f = agent->post("/v1/job/tick/periodic/force?namespace=dev", "{}", "application/json");
  ASSERT_EQ(f.status, 200) << f.body;
  const std::string launched = f.json()["JobID"];
  EXPECT_EQ(agent->get("/v1/job/" + launched + "?namespace=dev").json()["Namespace"], "dev");
  EXPECT_EQ(agent->get("/v1/job/" + launched).status, 404);
  EXPECT_TRUE(agent->get("/v1/job/tick?namespace=dev").json().contains("NextPeriodicLaunch"));
}

TEST(Namespaces, TheCliTakesDashNamespaceAndNomadNamespace) {
  auto agent = AgentProcess::start();
  const std::string file = drover::testing::make_temp_dir("ns") + "/web.yaml";
  drover::testing::write_file(file, web_job(""));
  auto run = agent->cli({"job", "run", "-detach", "-namespace=dev", file});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("submitted to namespace \"dev\""), std::string::npos) << run.out;
  EXPECT_EQ(agent->get("/v1/job/web?namespace=dev").status, 200);
  EXPECT_EQ(agent->get("/v1/job/web").status, 404);

  // A job file that names its namespace goes there, whatever -namespace says (Nomad's CLI).
  drover::testing::write_file(file, web_job("ops"));
  ASSERT_EQ(agent->cli({"job", "run", "-detach", "-namespace=dev", file}).exit_code, 0);
  EXPECT_EQ(agent->get("/v1/job/web?namespace=ops").status, 200);

  auto plain = agent->cli({"job", "status"});
  EXPECT_EQ(plain.out, "No running jobs\n") << plain.out << plain.err;
  auto env = drover::testing::run_drover({"job", "status"}, agent->address(),
                                         {"NOMAD_NAMESPACE=dev"});
  EXPECT_NE(env.out.find("web"), std::string::npos) << env.out << env.err;
  auto all = agent->cli({"job", "status", "-namespace=*"});
  EXPECT_NE(all.out.find("Namespace"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("dev"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("ops"), std::string::npos) << all.out;
  auto one = drover::testing::run_drover({"job", "status", "web"}, agent->address(),
                                         {"NOMAD_NAMESPACE=dev"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("Namespace"), std::string::npos) << one.out;
  auto allocs = agent->cli({"alloc", "status", "-namespace=ops"});
  EXPECT_NE(allocs.out.find("web"), std::string::npos) << allocs.out << allocs.err;

  // -namespace over the environment; stop reaches only that namespace's job.
  auto stop = drover::testing::run_drover({"job", "stop", "-namespace=dev", "web"},
                                          agent->address(), {"NOMAD_NAMESPACE=ops"});
  ASSERT_EQ(stop.exit_code, 0) << stop.out << stop.err;
  EXPECT_TRUE(agent->get("/v1/job/web?namespace=dev").json()["Stop"].get<bool>());
  EXPECT_FALSE(agent->get("/v1/job/web?namespace=ops").json()["Stop"].get<bool>());
}

// Nomad's namespace list: `default` and every namespace a job is in, in Nomad's Namespace
// shape; one no job is in is not found, and `namespace status` counts its jobs.
TEST(Namespaces, TheNamespacesAreDefaultAndThoseJobsAreIn) {
  auto agent = AgentProcess::start();
  auto before = agent->get("/v1/namespaces").json();
  EXPECT_EQ(ids_of(before, "Name"), std::vector<std::string>({"default"})) << before.dump();
  agent->submit(web_job("team-a"));
  auto list = agent->get("/v1/namespaces").json();
  EXPECT_EQ(ids_of(list, "Name"), std::vector<std::string>({"default", "team-a"})) << list.dump();
  EXPECT_EQ(agent->get("/v1/namespace/team-a").json().value("Name", ""), "team-a");
  EXPECT_EQ(agent->get("/v1/namespace/nobody").status, 404);
  auto cli = agent->cli({"namespace", "list"});
  EXPECT_NE(cli.out.find("team-a"), std::string::npos) << cli.out << cli.err;
  auto status = agent->cli({"namespace", "status", "team-a"});
  EXPECT_NE(status.out.find("Jobs        = 1"), std::string::npos) << status.out << status.err;
  auto apply = agent->cli({"namespace", "apply", "team-b"});
  EXPECT_EQ(apply.exit_code, 1);
  EXPECT_NE(apply.err.find("a namespace exists while a job is in it"), std::string::npos)
      << apply.err;
}

// The event stream shows the namespace it was asked for, as Nomad's: "default" when the
// request names none, every one with "*" (the web UI asks for that).
TEST(Namespaces, TheEventStreamShowsTheNamespaceItAskedFor) {
  auto agent = AgentProcess::start();
  // Events are replayed from the first, in order: prod's alloc, then default's (running),
  // then prod's "late" alloc.
  auto in_prod = agent->submit(web_job("prod"));
  auto in_default = agent->submit(web_job(""));
  ASSERT_EQ(in_prod.size(), 1u);
  ASSERT_EQ(in_default.size(), 1u);
  agent->wait_client_status(in_default[0], "running");
  auto late_job = web_job("prod");
  late_job.replace(late_job.find("id: web"), 7, "id: late");
  auto late = agent->submit(late_job);
  ASSERT_EQ(late.size(), 1u);
  auto key = [](const std::string& id) { return "\"Key\":\"" + id + "\""; };
  auto has = [](const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
  };
  {
    drover::testing::StreamReader plain(agent->address(), "/v1/event/stream?index=1&topic=alloc");
    auto text = plain.wait_for([&](const std::string& t) { return has(t, key(in_default[0])); });
    EXPECT_TRUE(has(text, key(in_default[0]))) << text;
    EXPECT_FALSE(has(text, key(in_prod[0]))) << "prod's alloc, not asked for: " << text;
  }
  {
    drover::testing::StreamReader prod(agent->address(),
                                       "/v1/event/stream?index=1&topic=alloc&namespace=prod");
    auto text = prod.wait_for([&](const std::string& t) { return has(t, key(late[0])); });
    EXPECT_TRUE(has(text, key(in_prod[0])) && has(text, key(late[0]))) << text;
    EXPECT_FALSE(has(text, key(in_default[0]))) << "default's came before late's: " << text;
  }
  drover::testing::StreamReader all(agent->address(),
                                    "/v1/event/stream?index=1&topic=alloc&namespace=*");
  auto text = all.wait_for([&](const std::string& t) {
    return has(t, key(in_prod[0])) && has(t, key(in_default[0]));
  });
  EXPECT_TRUE(has(text, key(in_prod[0])) && has(text, key(in_default[0]))) << text;
}
