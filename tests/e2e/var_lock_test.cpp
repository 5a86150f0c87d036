// Variable locks end to end (docs/variables.md, "Locks"): the real agent answers Nomad's
// ?lock-acquire, ?lock-renew and ?lock-release as Nomad's API does; a lock's ID is shown only
// to callers no ACL policy limits; `drover var lock` runs its command only while it holds the
// lock, makes a second caller wait its turn, and stops its command when the lock is lost.
#include <gtest/gtest.h>
#include <httplib.h>

#include <future>

#include "agent_process.hpp"
#include "var_calls.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using drover::testing::read_file;
using drover::testing::run_drover;
using drover::testing::run_shell;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using Reply = drover::testing::VarReply;

// The body first: most calls here send one and few a token.
Reply call(const AgentProcess& a, const std::string& method, const std::string& path,
           const std::string& body = "", const std::string& token = "") {
  return drover::testing::var_call(a, method, path, token, body);
}

json with_lock(const json& lock, const json& items = nullptr) {
  json body = {{"Lock", lock}};
  if (!items.is_null()) body["Items"] = items;
  return body;
}

std::string bootstrap_secret(const std::string& log) {
  auto at = log.find("Secret ID: ");
  return at == std::string::npos ? "" : log.substr(at + 11, 36);
}

}  // namespace

TEST(VariableLocks, AcquireRenewAndReleaseAnswerAsNomadsApi) {
  auto agent = AgentProcess::start();
  ASSERT_EQ(call(*agent, "PUT", "/v1/var/app/cfg", json{{"Items", {{"a", "1"}}}}.dump()).status,
            200);
  auto acquired = call(*agent, "PUT", "/v1/var/app/cfg?lock-acquire",
                       with_lock({{"TTL", "20s"}, {"LockDelay", "5s"}}).dump());
  ASSERT_EQ(acquired.status, 200) << acquired.body;
  const std::string id = acquired.j()["Lock"]["ID"];
  EXPECT_EQ(id.size(), 36u) << acquired.body;
  EXPECT_EQ(acquired.j()["Lock"]["TTL"], "20s");
  EXPECT_EQ(acquired.j()["Lock"]["LockDelay"], "5s");
  // An acquire without items keeps the variable's; with ACLs off, a read shows the lock.
  auto read = call(*agent, "GET", "/v1/var/app/cfg");
  EXPECT_EQ(read.j()["Items"]["a"], "1") << read.body;
  EXPECT_EQ(read.j()["Lock"]["ID"], id) << read.body;

  // Everyone else is refused with a 409 that names the variable and nothing of the lock.
  auto second = call(*agent, "PUT", "/v1/var/app/cfg?lock-acquire", with_lock(json::object()).dump());
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(second.j()["Path"], "app/cfg");
  EXPECT_FALSE(second.j().contains("Lock")) << second.body;
  EXPECT_FALSE(second.j().contains("Items")) << second.body;
  auto write = call(*agent, "PUT", "/v1/var/app/cfg", json{{"Items", {{"a", "2"}}}}.dump());
  EXPECT_EQ(write.status, 409) << write.body;
  EXPECT_EQ(write.j()["error"], "attempting to modify locked variable");
  EXPECT_EQ(call(*agent, "DELETE", "/v1/var/app/cfg").status, 409);
  auto cli_put = agent->cli({"var", "put", "app/cfg", "a=3"});
  EXPECT_EQ(cli_put.exit_code, 1);
  EXPECT_NE(cli_put.err.find("variable \"app/cfg\" is locked"), std::string::npos) << cli_put.err;
  EXPECT_EQ(call(*agent, "PUT", "/v1/var/app/cfg?lock-renew",
                 with_lock({{"ID", "00000000-0000-0000-0000-000000000000"}}).dump())
                .status,
            409);

  // The holder writes with its lock's ID and renews; the lock stays.
  auto mine = call(*agent, "PUT", "/v1/var/app/cfg",
                   json{{"Items", {{"a", "4"}}}, {"Lock", {{"ID", id}}}}.dump());
  ASSERT_EQ(mine.status, 200) << mine.body;
  auto renewed = call(*agent, "PUT", "/v1/var/app/cfg?lock-renew", with_lock({{"ID", id}}).dump());
  ASSERT_EQ(renewed.status, 200) << renewed.body;
  EXPECT_EQ(renewed.j()["Lock"]["ID"], id);
  EXPECT_FALSE(renewed.j().contains("Items")) << renewed.body;

  // Nomad's 400s: one operation at a time, none with cas, a TTL in bounds, a lease set only by
  // an acquire, a release with the ID and no items.
  auto bad = [&](const std::string& query, const json& body, const std::string& words) {
    auto r = call(*agent, "PUT", "/v1/var/app/other" + query, body.dump());
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_NE(r.j().value("error", "").find(words), std::string::npos) << r.body;
  };
  bad("?lock-acquire&lock-release", with_lock({{"ID", id}}), "multiple lock operations");
  bad("?lock-acquire&cas=0", with_lock(json::object()), "CAS can't be used with lock operations");
  bad("?lock-acquire", with_lock({{"TTL", "5s"}}), "Lock.TTL: must be between 10 seconds and 24 hours");
  bad("?lock-acquire", with_lock({{"TTL", "soon"}}), "Lock.TTL");
  bad("", json{{"Items", {{"a", "1"}}}, {"Lock", {{"TTL", "30s"}}}}, "Lock: a write other than ?lock-acquire");
  bad("?lock-release", with_lock(json::object()), "Lock.ID: missing lock information");
  bad("?lock-release", with_lock({{"ID", id}}, {{"a", "1"}}), "doesn't take variable items");
  EXPECT_EQ(call(*agent, "GET", "/v1/var/app/other").status, 404);

  auto released = call(*agent, "PUT", "/v1/var/app/cfg?lock-release", with_lock({{"ID", id}}).dump());
  ASSERT_EQ(released.status, 200) << released.body;
  EXPECT_FALSE(released.j().contains("Lock")) << released.body;
  auto after = call(*agent, "GET", "/v1/var/app/cfg");
  EXPECT_FALSE(after.j().contains("Lock")) << after.body;
  EXPECT_EQ(after.j()["Items"]["a"], "4");
  EXPECT_EQ(call(*agent, "PUT", "/v1/var/app/cfg?lock-release", with_lock({{"ID", id}}).dump())
                .status,
            409);
  EXPECT_EQ(call(*agent, "DELETE", "/v1/var/app/cfg").status, 200);

  // A lock on a path with no variable makes one, with the items given.
  auto fresh = call(*agent, "PUT", "/v1/var/locks/new?lock-acquire",
                    with_lock(json::object(), {{"holder", "me"}}).dump());
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(fresh.j()["Lock"]["TTL"], "15s");  // Nomad's defaults
  EXPECT_EQ(fresh.j()["Lock"]["LockDelay"], "15s");
  EXPECT_EQ(call(*agent, "GET", "/v1/var/locks/new").j()["Items"]["holder"], "me");
}

TEST(VariableLocks, OnlyCallersNoPolicyLimitsSeeALocksId) {
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  auto mgmt = bootstrap_secret(agent->log());
  ASSERT_FALSE(mgmt.empty()) << agent->log();
  const json policy = {{"Rules",
                        "namespace \"default\" {\n  variables {\n    path \"locks/*\" { "
                        "capabilities = [\"read\", \"list\", \"write\"] }\n  }\n}\n"}};
  ASSERT_EQ(call(*agent, "PUT", "/v1/acl/policy/lockers", policy.dump(), mgmt).status, 200);
  auto made = call(*agent, "POST", "/v1/acl/token",
                   json{{"Name", "locker"}, {"Type", "client"}, {"Policies", {"lockers"}}}.dump(), mgmt);
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string locker = made.j()["SecretID"];

  // The policy's holder takes the lock and sees its own ID in the answer...
  auto acquired = call(*agent, "PUT", "/v1/var/locks/a?lock-acquire",
                       with_lock(json::object(), {{"k", "v"}}).dump(), locker);
  ASSERT_EQ(acquired.status, 200) << acquired.body;
  const std::string id = acquired.j()["Lock"]["ID"];
  ASSERT_FALSE(id.empty());
  // ...but reads and lists by a policy token show no lock; a management token's show it.
  auto read = call(*agent, "GET", "/v1/var/locks/a", "", locker);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_FALSE(read.j().contains("Lock")) << read.body;
  auto list = call(*agent, "GET", "/v1/vars?prefix=locks/", "", locker);
  ASSERT_EQ(list.j().size(), 1u) << list.body;
  EXPECT_FALSE(list.j()[0].contains("Lock")) << list.body;
  EXPECT_EQ(call(*agent, "GET", "/v1/var/locks/a", "", mgmt).j()["Lock"]["ID"], id);
  EXPECT_EQ(call(*agent, "GET", "/v1/vars?prefix=locks/", "", mgmt).j()[0]["Lock"]["ID"], id);
  // A lock operation is a write: outside its policy's paths it is refused.
  EXPECT_EQ(call(*agent, "PUT", "/v1/var/other/b?lock-acquire", with_lock(json::object()).dump(),
                 locker)
                .status,
            403);
  EXPECT_EQ(call(*agent, "PUT", "/v1/var/locks/a?lock-release", with_lock({{"ID", id}}).dump(),
                 locker)
                .status,
            200);
}

TEST(VariableLocks, VarLockRunsItsCommandOnlyWhileHoldingTheLockAndASecondWaitsItsTurn) {
  auto agent = AgentProcess::start();
  auto dir = make_temp_dir("drover-var-lock");
  const std::string log = dir + "/order.log";
  // The first holder writes a line, waits for the test's go, writes another.
  auto first = std::async(std::launch::async, [&] {
    return run_drover({"var", "lock", "-backoff", "100ms", "locks/job", "--",
                       "echo first-start >> " + log + "; while [ ! -f " + dir +
                           "/go ]; do sleep 0.05; done; echo first-end >> " + log},
                      agent->address());
  });
  ASSERT_TRUE(eventually([&] { return read_file(log) == "first-start\n"; }, 20s));
  // The second is started now and must have been refused at least once before the go.
  auto second = run_shell("(DROVER_ADDR=" + agent->address() + " " + DROVER_BIN +
                          " var lock -verbose -backoff 100ms locks/job -- 'echo second >> " + log +
                          "' > " + dir + "/second.out 2> " + dir + "/second.err; echo $? > " +
                          dir + "/second.rc) > /dev/null 2>&1 &");
  ASSERT_EQ(second.exit_code, 0) << second.out;
  ASSERT_TRUE(eventually(
      [&] {
        return read_file(dir + "/second.err").find("held by another") != std::string::npos;
      },
      20s))
      << read_file(dir + "/second.err");
  // While the first holds it, the variable shows its lock and the second has not run.
  auto held = call(*agent, "GET", "/v1/var/locks/job");
  ASSERT_EQ(held.status, 200);
  EXPECT_TRUE(held.j().contains("Lock")) << held.body;
  EXPECT_EQ(read_file(log), "first-start\n");

  drover::testing::write_file(dir + "/go", "");
  auto r1 = first.get();
  EXPECT_EQ(r1.exit_code, 0) << r1.out << r1.err;
  ASSERT_TRUE(eventually([&] { return !read_file(dir + "/second.rc").empty(); }, 20s));
  EXPECT_EQ(read_file(dir + "/second.rc"), "0\n") << read_file(dir + "/second.err");
  EXPECT_EQ(read_file(log), "first-start\nfirst-end\nsecond\n");
  // Both released their lock when their command ended.
  EXPECT_FALSE(call(*agent, "GET", "/v1/var/locks/job").j().contains("Lock"));

  // -early-return gives up at once while another holds the lock; the command's own exit
  // code is the command's.
  auto holder = call(*agent, "PUT", "/v1/var/locks/job?lock-acquire", with_lock(json::object()).dump());
  ASSERT_EQ(holder.status, 200);
  auto early = run_drover({"var", "lock", "-early-return", "locks/job", "--", "echo", "ran",
                           ">>", log},
                          agent->address());
  EXPECT_EQ(early.exit_code, 0) << early.err;
  EXPECT_EQ(read_file(log), "first-start\nfirst-end\nsecond\n");
  call(*agent, "PUT", "/v1/var/locks/job?lock-release",
       with_lock({{"ID", holder.j()["Lock"]["ID"]}}).dump());
  auto failing = run_drover({"var", "lock", "-shell=false", "locks/job", "--", "sh", "-c", "exit 7"},
                            agent->address());
  EXPECT_EQ(failing.exit_code, 7) << failing.err;
  EXPECT_FALSE(call(*agent, "GET", "/v1/var/locks/job").j().contains("Lock"));
}

TEST(VariableLocks, ACommandWhoseLockIsLostIsStopped) {
  auto agent = AgentProcess::start();
  auto dir = make_temp_dir("drover-var-lock-lost");
  const std::string log = dir + "/lost.log";
  auto run = std::async(std::launch::async, [&] {
    return run_drover({"var", "lock", "-ttl", "10s", "locks/lost", "--",
                       "trap 'echo stopped >> " + log + "; exit 0' TERM; echo running >> " + log +
                           "; while :; do sleep 0.1; done"},
                      agent->address());
  });
  ASSERT_TRUE(eventually([&] { return read_file(log) == "running\n"; }, 20s));
  // Someone breaks the lock (a management caller sees its ID): the holder's next renewal,
  // 0.7 of the TTL after it took the lock, is refused, and its command is stopped.
  auto held = call(*agent, "GET", "/v1/var/locks/lost");
  const std::string id = held.j()["Lock"]["ID"];
  ASSERT_EQ(call(*agent, "PUT", "/v1/var/locks/lost?lock-release", with_lock({{"ID", id}}).dump())
                .status,
            200);
  auto r = run.get();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the lock was lost (variable doesn't hold a lock); the command was stopped"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(read_file(log), "running\nstopped\n");
}
