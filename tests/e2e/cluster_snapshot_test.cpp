// Snapshots of a cluster (docs/cluster.md, "Snapshots"), through the real CLI, a real server
// and a real etcd: `operator snapshot save` writes what the cluster holds, `inspect` says what
// is in the file, `restore` puts it back (a job added since is gone, a job purged since is
// back, the tokens with them) and the leader plans from it; while a restore's marker is in
// etcd the leader plans nothing; a file that is not a snapshot, or names a key a snapshot
// never holds, changes nothing; and a snapshot is the management token's.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "agent_process.hpp"
#include "cluster_processes.hpp"

using drover::testing::EtcdProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using drover::testing::read_file;
using drover::testing::run_drover;
using drover::testing::run_shell;
using drover::testing::ServerProcess;
using drover::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string job(const std::string& id) {
  return "job:\n  id: " + id +
         "\n  type: service\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
         "          driver: raw_exec\n          config: {command: /bin/sleep, args: [\"300\"]}\n";
}

std::set<std::string> job_ids(const ServerProcess& s) {
  std::set<std::string> ids;
  for (const auto& j : s.get("/v1/jobs").json()) ids.insert(j.value("ID", ""));
  return ids;
}

double passes(const ServerProcess& s) {
  std::smatch m;
  const std::string text = s.get("/v1/metrics?format=prometheus").body;
  static const std::regex re("\ndrover_server_plan_passes_total ([0-9.e+]+)");
  return std::regex_search(text, m, re) ? std::stod(m[1].str()) : -1;
}

}  // namespace

TEST(Snapshots, ASavedClusterIsPutBackWithItsTokensAndTheLeaderPlansFromIt) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  const std::string dir = make_temp_dir("drover-snapshot");
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  const std::string config = drover::testing::acl_server_yaml(etcd, dir, "s1");
  write_file(dir + "/server.yaml", config);
  auto server = ServerProcess::start("s1", config);
  const std::string mgmt = drover::testing::bootstrap_token(dir, {"s1"});
  ASSERT_FALSE(mgmt.empty()) << server->log();
  server->use_token(mgmt);
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"-token", mgmt});
    return run_drover(args, server->address());
  };
  for (const char* id : {"kept", "purged-later"}) ASSERT_EQ(server->post("/v1/jobs", job(id)).status, 200);
  auto reader = server->post("/v1/acl/token", json{{"Name", "reader"}, {"Policy", "read"}}.dump(), "application/json");
  ASSERT_EQ(reader.status, 200) << reader.body;

  // A token that is not management's gets no snapshot.
  server->use_token(reader.json().value("SecretID", ""));
  EXPECT_EQ(server->get("/v1/operator/snapshot").status, 403);
  server->use_token(mgmt);

  const std::string file = dir + "/backup.snap";
  auto saved = cli({"operator", "snapshot", "save", file});
  ASSERT_EQ(saved.exit_code, 0) << saved.out << saved.err;
  EXPECT_EQ(saved.out, "State file written to " + file + "\n");
  auto inspected = cli({"operator", "snapshot", "inspect", "-json", file});
  ASSERT_EQ(inspected.exit_code, 0) << inspected.out << inspected.err;
  const json info = json::parse(inspected.out, nullptr, false);
  EXPECT_EQ(info["Kinds"]["jobs"], 2) << inspected.out;
  EXPECT_EQ(info["Kinds"]["job_versions"], 2) << inspected.out;
  EXPECT_EQ(info["Kinds"]["acl/tokens"], 2) << inspected.out;
  EXPECT_EQ(info["Prefix"], "/drover");
  EXPECT_FALSE(info["Kinds"].contains("leader")) << inspected.out;
  EXPECT_FALSE(info["Kinds"].contains("servers")) << inspected.out;

  // The cluster moves on: a job added, one purged, the reader's token revoked.
  ASSERT_EQ(server->post("/v1/jobs", job("added-later")).status, 200);
  ASSERT_EQ(server->del("/v1/job/purged-later?purge=true").status, 200);
  ASSERT_EQ(server->del("/v1/acl/token/" + reader.json().value("AccessorID", "")).status, 200);
  ASSERT_EQ(job_ids(*server), (std::set<std::string>{"kept", "added-later"}));

  // Files that are no snapshot are refused, and nothing changes.
  write_file(dir + "/junk.snap", "not gzip at all");
  auto junk = cli({"operator", "snapshot", "restore", "-config", dir + "/server.yaml", dir + "/junk.snap"});
  EXPECT_EQ(junk.exit_code, 1);
  EXPECT_NE(junk.err.find("not a drover snapshot"), std::string::npos) << junk.err;
  ASSERT_EQ(run_shell("/usr/bin/python3 -c \"import gzip,json,sys; sys.stdout.buffer.write(gzip.compress(json.dumps("
                      "{'Format':'drover-snapshot','Version':1,'Keys':[['nodes/n1','{}']]}).encode()))\" > " +
                      dir + "/nodes.snap")
                .exit_code,
            0);
  auto sneaky = cli({"operator", "snapshot", "restore", "-config", dir + "/server.yaml", dir + "/nodes.snap"});
  EXPECT_EQ(sneaky.exit_code, 1);
  EXPECT_NE(sneaky.err.find("\"nodes/n1\" is not a key a snapshot holds"), std::string::npos) << sneaky.err;
  EXPECT_EQ(job_ids(*server), (std::set<std::string>{"kept", "added-later"}));

  auto restored = cli({"operator", "snapshot", "restore", "-config", dir + "/server.yaml", file});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.out.find("Restored the snapshot of etcd revision"), std::string::npos) << restored.out;
  EXPECT_TRUE(eventually([&] { return job_ids(*server) == std::set<std::string>{"kept", "purged-later"}; }, 20s))
      << server->get("/v1/jobs").body;
  EXPECT_EQ(etcd.ctl("get /drover/restoring --print-value-only"), "");
  // The reader's token is back with the snapshot.
  server->use_token(reader.json().value("SecretID", ""));
  EXPECT_EQ(server->get("/v1/jobs").status, 200);
  server->use_token(mgmt);

  // While a restore's marker is in etcd the leader plans nothing: a new job's evaluation
  // waits through two passes; once the marker goes, it is taken up.
  etcd.ctl("put /drover/restoring '{}'");
  auto held = server->post("/v1/jobs", job("while-held"));
  ASSERT_EQ(held.status, 200) << held.body;
  const double before = passes(*server);
  ASSERT_GE(before, 0) << server->get("/v1/metrics?format=prometheus").body;
  ASSERT_TRUE(eventually([&] { return passes(*server) >= before + 2; }, 20s));
  const std::string eval = held.json().value("EvalID", "");
  EXPECT_EQ(server->get("/v1/evaluation/" + eval).json().value("Status", ""), "pending");
  EXPECT_EQ(server->post("/v1/system/gc", "").status, 409);
  etcd.ctl("del /drover/restoring");
  EXPECT_NE(server->await_evaluation(eval).value("Status", "pending"), "pending");
  std::filesystem::remove_all(dir);
}
