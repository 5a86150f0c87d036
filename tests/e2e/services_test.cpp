// The service catalog end to end (docs/networking.md, "Services and the catalog"): a raw_exec
// busybox httpd on a dynamic port is listed by `drover service list` and `info` at the address
// it answers on while it runs, and gone once its job stops; with shutdown_delay it is
// deregistered before the task gets its signal; provider "consul" lands in drover's catalog
// with a task event saying so.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A busybox httpd at ${NOMAD_ADDR_http} that, on SIGTERM, writes `sig` in the alloc dir
// first: the test reads whether (and when) the task had its signal.
std::string httpd_job(const std::string& id, const std::string& service_extra = "",
                      const std::string& task_extra = "") {
  return "job:\n  id: " + id +
         "\n  groups:\n    - name: web\n      network:\n        ports:\n          http: {}\n"
         "      tasks:\n        - name: httpd\n          driver: raw_exec\n"
         "          kill_timeout: 2s\n" +
         task_extra +
         "          config:\n            command: /bin/sh\n"
         "            args: [\"-c\", \"echo hello > $NOMAD_TASK_DIR/index.html; "
         "trap 'touch $NOMAD_ALLOC_DIR/sig; kill $P; exit 0' TERM; "
         "busybox httpd -f -p ${NOMAD_ADDR_http} -h $NOMAD_TASK_DIR & P=$!; wait\"]\n"
         "          services:\n            - name: ${NOMAD_JOB_NAME}-www\n"
         "              port: http\n              tags: [\"v1\", "
         "\"alloc-${NOMAD_ALLOC_INDEX}\"]\n" +
         service_extra;
}

json service(const AgentProcess& a, const std::string& name) {
  return a.get("/v1/service/" + name).json();
}

std::string fetch(const std::string& host, int port) {
  httplib::Client c(host, port);
  c.set_connection_timeout(1);
  auto r = c.Get("/");
  return r && r->status == 200 ? r->body : "";
}

}  // namespace

TEST(Services, ARawExecServiceIsListedWhileItRunsAtTheAddressItAnswersOnAndGoneAfterStop) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(httpd_job("shop"));
  agent->wait_client_status(ids[0], "running");
  ASSERT_TRUE(eventually([&] { return service(*agent, "shop-www").size() == 1; }, 10s))
      << agent->log();
  auto r = service(*agent, "shop-www")[0];
  EXPECT_EQ(r["AllocID"], ids[0]);
  EXPECT_EQ(r["JobID"], "shop");
  EXPECT_EQ(r["Namespace"], "default");
  EXPECT_EQ(r["Datacenter"], "dc1");
  EXPECT_EQ(r["NodeID"], agent->get("/v1/node").json()["ID"]);
  EXPECT_EQ(r["Tags"], json({"v1", "alloc-0"}));
  EXPECT_EQ(r["ID"], "_nomad-task-" + ids[0] + "-httpd-shop-www-http");
  // The registered address and port are the alloc's port, and the task answers there.
  json port, alloc = agent->alloc(ids[0]);
  for (const auto& p : alloc["AllocatedResources"]["Shared"]["Ports"])
    if (p["Label"] == "http") port = p;
  EXPECT_EQ(r["Port"], port["Value"]);
  EXPECT_EQ(r["Address"], port["HostIP"]);
  EXPECT_TRUE(eventually([&] { return fetch(r["Address"], r["Port"]) == "hello\n"; }, 10s));

  auto list = agent->cli({"service", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("shop-www"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("[alloc-0,v1]"), std::string::npos) << list.out;
  auto info = agent->cli({"service", "info", "shop-www"});
  EXPECT_EQ(info.exit_code, 0) << info.err;
  const std::string addr =
      r["Address"].get<std::string>() + ":" + std::to_string(r["Port"].get<int>());
  EXPECT_NE(info.out.find(addr), std::string::npos) << info.out;
  EXPECT_NE(info.out.find(ids[0].substr(0, 8)), std::string::npos) << info.out;
  auto summary = agent->get("/v1/services").json();
  EXPECT_EQ(summary[0]["Namespace"], "default");
  EXPECT_EQ(summary[0]["Services"][0]["ServiceName"], "shop-www");
  // choose and filter as Nomad reads them.
  EXPECT_EQ(agent->get("/v1/service/shop-www?choose=1%7Cclient").json().size(), 1u);
  EXPECT_EQ(agent->get("/v1/service/shop-www?filter=%22v2%22%20in%20Tags").json().size(), 0u);
  EXPECT_EQ(agent->get("/v1/service/shop-www?tag=v1").json().size(), 1u);
  EXPECT_EQ(agent->get("/v1/service/shop-www?choose=one").status, 400);

  auto stop = agent->cli({"job", "stop", "shop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  agent->wait_client_status(ids[0], "complete");
  EXPECT_TRUE(service(*agent, "shop-www").empty());
  auto after = agent->cli({"service", "list"});
  EXPECT_EQ(after.out.find("shop-www"), std::string::npos) << after.out;
}

TEST(Services, ShutdownDelayDeregistersTheServiceBeforeTheTaskGetsItsSignal) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(httpd_job("slow", "", "          shutdown_delay: 3s\n"));
  agent->wait_client_status(ids[0], "running");
  ASSERT_TRUE(eventually([&] { return service(*agent, "slow-www").size() == 1; }, 10s));
  const auto sig = std::filesystem::path(agent->data_dir()) / "alloc" / ids[0] / "alloc" / "sig";
  ASSERT_EQ(agent->del("/v1/job/slow").status, 200);
  // Gone from the catalog first...
  ASSERT_TRUE(eventually([&] { return service(*agent, "slow-www").empty(); }, 10s));
  // ...while the task still runs, unsignalled, through its shutdown_delay.
  EXPECT_FALSE(std::filesystem::exists(sig));
  EXPECT_EQ(agent->alloc(ids[0])["TaskStates"]["httpd"]["State"], "running");
  // Then the signal comes, and the task ends on it.
  auto a = agent->wait_client_status(ids[0], "complete");
  EXPECT_TRUE(std::filesystem::exists(sig)) << a.dump(2);
  std::vector<std::string> types;
  for (const auto& e : a["TaskStates"]["httpd"]["Events"]) types.push_back(e["Type"]);
  auto at = [&](const std::string& t) {
    return std::find(types.begin(), types.end(), t) - types.begin();
  };
  EXPECT_LT(at("Waiting for shutdown delay"), at("Killing"));
}

TEST(Services, AConsulServiceLandsInDroversCatalogWithAnEventSayingSo) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(httpd_job("cons", "              provider: consul\n"));
  agent->wait_client_status(ids[0], "running");
  ASSERT_TRUE(eventually([&] { return service(*agent, "cons-www").size() == 1; }, 10s));
  EXPECT_EQ(service(*agent, "cons-www")[0]["Provider"], "consul");
  bool said = false;
  json alloc = agent->alloc(ids[0]);
  for (const auto& e : alloc["TaskStates"]["httpd"]["Events"])
    said = said || (e["Type"] == "Consul Not Used" &&
                    e["DisplayMessage"].get<std::string>().find("cons-www") != std::string::npos);
  EXPECT_TRUE(said) << alloc.dump(2);
}

TEST(Services, DeleteRemovesOneRegistrationAndNamesAMissingOne) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(httpd_job("del"));
  agent->wait_client_status(ids[0], "running");
  ASSERT_TRUE(eventually([&] { return service(*agent, "del-www").size() == 1; }, 10s));
  std::string id = service(*agent, "del-www")[0]["ID"];
  auto missing = agent->cli({"service", "delete", "del-www", "nope"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("nope"), std::string::npos) << missing.err;
  auto ok = agent->cli({"service", "delete", "del-www", id});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(service(*agent, "del-www").empty());
}

TEST(Services, ARegistrationOutlivesAnAgentKillAndGoesWithATaskThatEndedMeanwhile) {
  auto dir = drover::testing::make_temp_dir("drover-services");
  std::string stay, leave;
  json before;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    stay = agent->submit(httpd_job("stay"))[0];
    // A batch task that ends on its own once the agent is gone.
    leave = agent->submit(
        "job:\n  id: leave\n  type: batch\n  groups:\n    - name: g\n"
        "      restart: {attempts: 0, mode: fail}\n      tasks:\n        - name: t\n"
        "          driver: raw_exec\n          config:\n            command: /bin/sh\n"
        "            args: [\"-c\", \"while [ ! -e $NOMAD_ALLOC_DIR/go ]; do sleep 0.1; done\"]\n"
        "          services:\n            - name: leaving\n              port: \"7777\"\n")[0];
    agent->wait_client_status(stay, "running");
    agent->wait_client_status(leave, "running");
    ASSERT_TRUE(eventually(
        [&] {
          return service(*agent, "stay-www").size() == 1 && service(*agent, "leaving").size() == 1;
        },
        10s));
    before = service(*agent, "stay-www")[0];
    EXPECT_EQ(service(*agent, "leaving")[0]["Port"], 7777);
    agent->kill(SIGKILL);
  }
  const std::string go = dir + "/alloc/" + leave + "/alloc/go";
  drover::testing::write_file(go, "");
  auto agent = AgentProcess::start({.data_dir = dir});
  agent->wait_client_status(leave, "complete");
  EXPECT_TRUE(eventually([&] { return service(*agent, "leaving").empty(); }, 10s))
      << service(*agent, "leaving").dump();
  // The task that runs on keeps its registration: the same instance, registered again.
  auto now = service(*agent, "stay-www");
  ASSERT_EQ(now.size(), 1u) << agent->log();
  EXPECT_EQ(now[0]["ID"], before["ID"]);
  EXPECT_EQ(now[0]["Port"], before["Port"]);
  EXPECT_EQ(now[0]["CreateIndex"], before["CreateIndex"]);
  ASSERT_EQ(agent->del("/v1/job/stay").status, 200);
  agent->wait_client_status(stay, "complete");
  EXPECT_TRUE(service(*agent, "stay-www").empty());
}

// The catalog carries the health of a registration's checks (docs/networking.md, "Health"):
// each check's status as the health watcher last saw it, and the worst of them.
TEST(Services, ARegistrationCarriesTheHealthOfItsChecks) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(httpd_job(
      "checked",
      "              checks:\n"
      "                - {name: root, type: http, path: /index.html, interval: 200ms, timeout: 1s}\n"
      "                - {name: missing, type: http, path: /nope, interval: 200ms, timeout: 1s}\n"));
  agent->wait_client_status(ids[0], "running");
  json r;
  ASSERT_TRUE(eventually(
      [&] {
        auto list = service(*agent, "checked-www");
        if (list.size() != 1) return false;
        r = list[0];
        return r["Checks"].size() == 2 && r["Checks"][0]["Status"] != "pending" &&
               r["Checks"][1]["Status"] != "pending";
      },
      15s))
      << r.dump(2) << agent->log();
  EXPECT_EQ(r["Checks"], json::parse(R"([{"Name": "root", "Status": "success"},
                                         {"Name": "missing", "Status": "failure"}])"));
  EXPECT_EQ(r["Health"], "critical");
  ASSERT_EQ(agent->del("/v1/job/checked").status, 200);
  agent->wait_client_status(ids[0], "complete");
}
