// Nomad Variables end to end (docs/variables.md): the real agent and CLI put, get, list and
// purge variables; a check-and-set conflict is a 409 with the current value; limits are clear
// 400s; the state store and etcd hold only sealed values; a rotated keyring still opens old
// values; a task's workload identity reads its own job's variables and nothing else, and stops
// working when its alloc ends.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent_process.hpp"
#include "var_calls.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using drover::testing::read_file;
using drover::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using Reply = drover::testing::VarReply;

Reply call(const AgentProcess& a, const std::string& method, const std::string& path,
           const std::string& token = "", const std::string& body = "") {
  return drover::testing::var_call(a, method, path, token, body);
}

std::string items(const json& i) { return json{{"Items", i}}.dump(); }

// Every byte of the state store's files (the db and its WAL).
std::string state_bytes(const std::string& data_dir) {
  std::string all;
  for (const auto& e : std::filesystem::directory_iterator(data_dir))
    if (e.path().filename().string().rfind("state.db", 0) == 0) all += read_file(e.path());
  return all;
}

std::string bootstrap_secret(const std::string& log) {
  auto at = log.find("Secret ID: ");
  return at == std::string::npos ? "" : log.substr(at + 11, 36);
}

// A raw_exec job whose task has the default workload identity in env and file, and copies
// NOMAD_TOKEN into its local/ dir so the test can compare it with the file.
std::string identity_job(const std::string& id) {
  return "job:\n  id: " + id +
         "\n  type: service\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
         "          driver: raw_exec\n          kill_timeout: 1s\n"
         "          identity: {env: true, file: true}\n"
         "          resources: {cpu: 10, memory: 32}\n          config:\n"
         "            command: /bin/sh\n"
         "            args: [\"-c\", \"printf %s \\\"$NOMAD_TOKEN\\\" > "
         "\\\"$NOMAD_TASK_DIR/env_token\\\"; exec sleep 300\"]\n";
}

}  // namespace

TEST(Variables, PutGetListAndPurgeThroughTheCliAndTheApi) {
  auto agent = AgentProcess::start();
  auto dir = make_temp_dir("drover-vars");
  write_file(dir + "/cert.pem", "-----BEGIN CERT-----\nline two\n");
  auto put =
      agent->cli({"var", "put", "nomad/jobs/web", "user=admin", "cert=@" + dir + "/cert.pem"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_NE(put.out.find("Created variable \"nomad/jobs/web\" with modify index"),
            std::string::npos)
      << put.out;
  auto v = call(*agent, "GET", "/v1/var/nomad/jobs/web");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.j()["Namespace"], "default");
  EXPECT_EQ(v.j()["Path"], "nomad/jobs/web");
  EXPECT_EQ(v.j()["Items"]["user"], "admin");
  EXPECT_EQ(v.j()["Items"]["cert"], "-----BEGIN CERT-----\nline two\n");
  EXPECT_GT(v.j()["CreateIndex"].get<int>(), 0);
  EXPECT_EQ(v.j()["CreateIndex"], v.j()["ModifyIndex"]);
  EXPECT_GT(v.j()["CreateTime"].get<int64_t>(), 0);
  // Through the API, as Nomad's clients PUT it.
  auto p2 = call(*agent, "PUT", "/v1/var/app/db", "", items({{"password", "pw1"}}));
  ASSERT_EQ(p2.status, 200) << p2.body;
  EXPECT_EQ(p2.j()["Items"]["password"], "pw1");

  auto get = agent->cli({"var", "get", "-item", "user", "nomad/jobs/web"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "admin\n");
  auto whole = agent->cli({"var", "get", "nomad/jobs/web"});
  EXPECT_NE(whole.out.find("Path        = nomad/jobs/web"), std::string::npos) << whole.out;
  EXPECT_NE(whole.out.find("user = admin"), std::string::npos) << whole.out;
  auto as_json = agent->cli({"var", "get", "-out", "json", "app/db"});
  EXPECT_EQ(json::parse(as_json.out, nullptr, false)["Items"]["password"], "pw1") << as_json.out;

  // A list is metadata: paths and indexes, never items.
  auto list = call(*agent, "GET", "/v1/vars?prefix=nomad/");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.j().size(), 1u) << list.body;
  EXPECT_EQ(list.j()[0]["Path"], "nomad/jobs/web");
  EXPECT_FALSE(list.j()[0].contains("Items"));
  EXPECT_EQ(list.body.find("admin"), std::string::npos);
  auto cli_list = agent->cli({"var", "list"});
  EXPECT_NE(cli_list.out.find("nomad/jobs/web"), std::string::npos) << cli_list.out;
  EXPECT_NE(cli_list.out.find("app/db"), std::string::npos) << cli_list.out;
  EXPECT_EQ(cli_list.out.find("pw1"), std::string::npos);

  auto purge = agent->cli({"var", "purge", "nomad/jobs/web"});
  ASSERT_EQ(purge.exit_code, 0) << purge.err;
  EXPECT_NE(purge.out.find("Successfully purged variable \"nomad/jobs/web\""), std::string::npos);
  EXPECT_EQ(call(*agent, "GET", "/v1/var/nomad/jobs/web").status, 404);
  auto missing = agent->cli({"var", "get", "nomad/jobs/web"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("variable not found"), std::string::npos) << missing.err;
}

TEST(Variables, CheckAndSetConflictIs409WithTheCurrentValue) {
  auto agent = AgentProcess::start();
  auto first = call(*agent, "PUT", "/v1/var/app/config?cas=0", "", items({{"v", "1"}}));
  ASSERT_EQ(first.status, 200) << first.body;
  const int index = first.j()["ModifyIndex"];
  // cas=0 means "only if absent": it exists now.
  auto again = call(*agent, "PUT", "/v1/var/app/config?cas=0", "", items({{"v", "2"}}));
  ASSERT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(again.j()["Items"]["v"], "1");
  EXPECT_EQ(again.j()["ModifyIndex"], index);
  auto ok = call(*agent, "PUT", "/v1/var/app/config?cas=" + std::to_string(index), "",
                 items({{"v", "3"}}));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_GT(ok.j()["ModifyIndex"].get<int>(), index);
  EXPECT_EQ(ok.j()["CreateIndex"], index);
  auto stale = call(*agent, "PUT", "/v1/var/app/config?cas=" + std::to_string(index), "",
                    items({{"v", "4"}}));
  ASSERT_EQ(stale.status, 409);
  EXPECT_EQ(stale.j()["Items"]["v"], "3");
  EXPECT_EQ(call(*agent, "DELETE", "/v1/var/app/config?cas=" + std::to_string(index)).status, 409);
  // The CLI says it Nomad's way and changes nothing.
  auto cli = agent->cli({"var", "put", "-cas", std::to_string(index), "app/config", "v=5"});
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_NE(cli.err.find("Check-and-Set conflict"), std::string::npos) << cli.err;
  EXPECT_EQ(call(*agent, "GET", "/v1/var/app/config").j()["Items"]["v"], "3");
  EXPECT_EQ(call(*agent, "PUT", "/v1/var/app/config?cas=abc", "", items({{"v", "6"}})).status, 400);
}

TEST(Variables, BadPathsAndOversizedVariablesAreClear400s) {
  auto agent = AgentProcess::start();
  auto expect_400 = [&](const std::string& url, const std::string& body, const std::string& words) {
    auto r = call(*agent, "PUT", url, "", body);
    EXPECT_EQ(r.status, 400) << url << ": " << r.body;
    EXPECT_NE(r.j().value("error", "").find(words), std::string::npos) << r.body;
  };
  expect_400("/v1/var/has%20space", items({{"a", "b"}}), "character outside");
  expect_400("/v1/var/a.b", items({{"a", "b"}}), "character outside");
  expect_400("/v1/var/" + std::string(129, 'p'), items({{"a", "b"}}), "at most 128");
  expect_400("/v1/var/nomad", items({{"a", "b"}}), "reserved top-level");
  expect_400("/v1/var/nomad/secrets", items({{"a", "b"}}), "only paths at");
  expect_400("/v1/var/ok", items(json::object()), "empty variables");
  expect_400("/v1/var/ok", items({{"big", std::string(64 * 1024, 'x')}}), "64KiB");
  expect_400("/v1/var/ok", R"({"Items": {"n": 5}})", "Items.n: must be a string");
  expect_400("/v1/var/ok", "not json", "body");
  EXPECT_EQ(
      call(*agent, "PUT", "/v1/var/ok", "", items({{"big", std::string(60 * 1024, 'x')}})).status,
      200);
}

TEST(Variables, StateStoreHoldsOnlySealedValuesAndARotatedKeyringStillOpensOldOnes) {
  auto data = make_temp_dir("drover-vars-data");
  const std::string secret = "Sup3rSecretValue-91d2";
  {
    auto agent = AgentProcess::start({.data_dir = data});
    ASSERT_EQ(
        call(*agent, "PUT", "/v1/var/nomad/jobs/db", "", items({{"password", secret}})).status,
        200);
    struct stat st {};
    ASSERT_EQ(::stat((data + "/keyring").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto listed = agent->cli({"operator", "root", "keyring", "list"});
    EXPECT_NE(listed.out.find("active"), std::string::npos) << listed.out;
    auto rotate = agent->cli({"operator", "root", "keyring", "rotate"});
    ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
    EXPECT_NE(rotate.out.find("active"), std::string::npos) << rotate.out;
    auto keys = call(*agent, "GET", "/v1/operator/keyring/keys");
    ASSERT_EQ(keys.j().size(), 2u) << keys.body;
    // The old value keeps its old key, which the keyring keeps: it still opens.
    EXPECT_EQ(call(*agent, "GET", "/v1/var/nomad/jobs/db").j()["Items"]["password"], secret);
    ASSERT_EQ(
        call(*agent, "PUT", "/v1/var/app/new", "", items({{"token", secret + "-new"}})).status,
        200);
    agent->kill(SIGTERM);
  }
  auto bytes = state_bytes(data);
  ASSERT_FALSE(bytes.empty());
  EXPECT_NE(bytes.find("nomad/jobs/db"), std::string::npos);  // the path is metadata
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(bytes.find("password"), std::string::npos);
  // After a restart both keys are there and both values open; -full re-seals with the newest.
  auto agent = AgentProcess::start({.data_dir = data});
  EXPECT_EQ(call(*agent, "GET", "/v1/var/nomad/jobs/db").j()["Items"]["password"], secret);
  EXPECT_EQ(call(*agent, "GET", "/v1/var/app/new").j()["Items"]["token"], secret + "-new");
  auto full = agent->cli({"operator", "root", "keyring", "rotate", "-full"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_EQ(call(*agent, "GET", "/v1/var/nomad/jobs/db").j()["Items"]["password"], secret);
  EXPECT_EQ(state_bytes(data).find(secret), std::string::npos);
}

TEST(Variables, ATasksWorkloadIdentityReadsOnlyItsOwnJobsVariables) {
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  auto mgmt = bootstrap_secret(agent->log());
  ASSERT_FALSE(mgmt.empty()) << agent->log();
  ASSERT_EQ(call(*agent, "PUT", "/v1/var/nomad/jobs/web", mgmt, items({{"a", "job"}})).status, 200);
  ASSERT_EQ(call(*agent, "PUT", "/v1/var/nomad/jobs/web/g/t", mgmt, items({{"a", "task"}})).status,
            200);
  ASSERT_EQ(call(*agent, "PUT", "/v1/var/nomad/jobs/db", mgmt, items({{"a", "other"}})).status,
            200);
  ASSERT_EQ(call(*agent, "PUT", "/v1/var/shared/x", mgmt, items({{"a", "ops"}})).status, 200);
  // An operator's read token lists metadata but does not read items (docs/variables.md, "API").
  auto made = call(*agent, "POST", "/v1/acl/token", mgmt, R"({"Name": "r", "Policy": "read"})");
  const std::string reader = made.j().value("SecretID", "");
  ASSERT_FALSE(reader.empty()) << made.body;
  EXPECT_EQ(call(*agent, "GET", "/v1/vars", reader).status, 200);
  EXPECT_EQ(call(*agent, "GET", "/v1/var/shared/x", reader).status, 403);
  EXPECT_EQ(call(*agent, "PUT", "/v1/operator/keyring/rotate", reader).status, 403);
  auto submit = call(*agent, "POST", "/v1/jobs", mgmt, identity_job("web"));
  ASSERT_EQ(submit.status, 200) << submit.body;
  const std::string alloc = submit.j()["AllocIDs"][0];
  const std::string task_dir = agent->data_dir() + "/alloc/" + alloc + "/t";
  std::string token;
  ASSERT_TRUE(eventually(
      [&] {
        std::ifstream in(task_dir + "/local/env_token");
        std::stringstream ss;
        ss << in.rdbuf();
        token = ss.str();
        return !token.empty();
      },
      20s))
      << agent->log();
  // The same token in NOMAD_TOKEN and secrets/nomad_token, which only its owner may read.
  EXPECT_EQ(read_file(task_dir + "/secrets/nomad_token"), token);
  struct stat st {};
  ASSERT_EQ(::stat((task_dir + "/secrets/nomad_token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);

  EXPECT_EQ(call(*agent, "GET", "/v1/var/nomad/jobs/web", token).j()["Items"]["a"], "job");
  EXPECT_EQ(call(*agent, "GET", "/v1/var/nomad/jobs/web/g/t", token).j()["Items"]["a"], "task");
  auto other = call(*agent, "GET", "/v1/var/nomad/jobs/db", token);
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_EQ(other.body.find("other"), std::string::npos);
  EXPECT_EQ(call(*agent, "GET", "/v1/var/shared/x", token).status, 403);
  auto list = call(*agent, "GET", "/v1/vars", token);
  ASSERT_EQ(list.status, 200) << list.body;
  std::vector<std::string> paths;
  for (const auto& v : list.j()) paths.push_back(v["Path"]);
  EXPECT_EQ(paths, (std::vector<std::string>{"nomad/jobs/web", "nomad/jobs/web/g/t"}));
  // Never the operator's powers: no writes, no jobs, no tokens.
  EXPECT_EQ(call(*agent, "PUT", "/v1/var/nomad/jobs/web", token, items({{"a", "x"}})).status, 403);
  EXPECT_EQ(call(*agent, "DELETE", "/v1/var/nomad/jobs/web", token).status, 403);
  EXPECT_EQ(call(*agent, "GET", "/v1/jobs", token).status, 403);
  EXPECT_EQ(call(*agent, "POST", "/v1/jobs", token, identity_job("evil")).status, 403);
  EXPECT_EQ(call(*agent, "GET", "/v1/acl/tokens", token).status, 403);
  // A token changed by one byte is nobody's.
  auto forged = token;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(call(*agent, "GET", "/v1/var/nomad/jobs/web", forged).status, 403);

  // Revoked when the alloc ends.
  ASSERT_EQ(call(*agent, "DELETE", "/v1/job/web", mgmt).status, 200);
  ASSERT_TRUE(eventually(
      [&] {
        auto a = call(*agent, "GET", "/v1/allocation/" + alloc, mgmt).j();
        auto s = a.value("ClientStatus", "");
        return s == "complete" || s == "failed";
      },
      20s));
  auto revoked = call(*agent, "GET", "/v1/var/nomad/jobs/web", token);
  EXPECT_EQ(revoked.status, 403);
  EXPECT_NE(revoked.j().value("error", "").find("revoked"), std::string::npos) << revoked.body;
}

// Nomad's identity `filepath`: the token file where the job says, from the task dir, with the
// same owner and mode as in secrets/ (docs/variables.md, "Workload identities"); secrets/ then
// holds none.
TEST(Variables, TheIdentityFileGoesWhereFilepathSays) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(job:
  id: fp
  type: batch
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          identity: {file: true, filepath: local/nomad_token}
          config: {command: /bin/sh, args: ["-c", "wc -c < local/nomad_token"]}
)");
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "complete");
  ASSERT_EQ(a["ClientStatus"], "complete") << a.dump(2);
  const std::string task_dir = agent->data_dir() + "/alloc/" + ids[0] + "/t";
  const std::string token = read_file(task_dir + "/local/nomad_token");
  EXPECT_GT(token.size(), 100u);
  EXPECT_EQ(std::stoul(agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body), token.size());
  struct stat st {};
  ASSERT_EQ(::stat((task_dir + "/local/nomad_token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0400u);
  EXPECT_FALSE(std::filesystem::exists(task_dir + "/secrets/nomad_token"));

  // Refused at submit: without file, or out of the task's dirs.
  auto bad = agent->post("/v1/jobs", R"(job:
  id: fpbad
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          identity: {env: true, filepath: local/x}
          config: {command: /bin/true}
        - name: u
          driver: raw_exec
          identity: {file: true, filepath: ../../x}
          config: {command: /bin/true}
)");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("groups[0].tasks[0].identity.filepath"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("needs file = true"), std::string::npos) << bad.body;
  bool escapes = false;
  const json problems = bad.json()["problems"];
  for (const auto& problem : problems)
    escapes = escapes || (problem["path"] == "groups[0].tasks[1].identity.filepath" &&
                          problem["message"] == "\"../../x\" escapes the alloc dir");
  EXPECT_TRUE(escapes) << bad.body;
}

// Nomad's job-attached policies (docs/security.md, "Policies of a job's tasks"): a policy
// applied with -job grants that job's tasks, through their workload identity, what it says on
// top of their own variables; one attached to another group of the job grants them nothing.
TEST(Variables, APolicyAttachedToAJobGrantsItsTasksWhatItSays) {
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  auto mgmt = bootstrap_secret(agent->log());
  ASSERT_FALSE(mgmt.empty()) << agent->log();
  ASSERT_EQ(call(*agent, "PUT", "/v1/var/shared/x", mgmt, items({{"a", "shared"}})).status, 200);
  ASSERT_EQ(call(*agent, "PUT", "/v1/var/ops/y", mgmt, items({{"a", "ops"}})).status, 200);
  auto dir = make_temp_dir("drover-job-policy");
  write_file(dir + "/reader.hcl", R"(
namespace "default" {
  capabilities = ["list-jobs", "read-job"]
  variables {
    path "shared/*" { capabilities = ["read"] }
  }
}
)");
  auto applied = drover::testing::run_drover(
      {"acl", "policy", "apply", "-job", "web", "reader", dir + "/reader.hcl", "-token", mgmt},
      agent->address());
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  const json other_group = {
      {"Rules", "namespace \"default\" {\n  policy = \"write\"\n}\n"},
      {"JobACL", {{"Namespace", "default"}, {"JobID", "web"}, {"Group", "other"}}}};
  ASSERT_EQ(call(*agent, "PUT", "/v1/acl/policy/other-group", mgmt, other_group.dump()).status,
            200);

  auto submit = call(*agent, "POST", "/v1/jobs", mgmt, identity_job("web"));
  ASSERT_EQ(submit.status, 200) << submit.body;
  const std::string task_dir =
      agent->data_dir() + "/alloc/" + submit.j()["AllocIDs"][0].get<std::string>() + "/t";
  std::string token;
  ASSERT_TRUE(
      eventually([&] { return !(token = read_file(task_dir + "/local/env_token")).empty(); }, 20s))
      << agent->log();

  EXPECT_EQ(call(*agent, "GET", "/v1/var/shared/x", token).j()["Items"]["a"], "shared");
  EXPECT_EQ(call(*agent, "GET", "/v1/var/ops/y", token).status, 403);
  EXPECT_EQ(call(*agent, "PUT", "/v1/var/shared/x", token, items({{"a", "x"}})).status, 403);
  auto jobs = call(*agent, "GET", "/v1/jobs", token);
  EXPECT_EQ(jobs.status, 200) << jobs.body;
  EXPECT_EQ(call(*agent, "GET", "/v1/job/web", token).status, 200);
  // The other group's write policy is not this task's.
  EXPECT_EQ(call(*agent, "POST", "/v1/jobs", token, identity_job("evil")).status, 403);
  EXPECT_EQ(call(*agent, "GET", "/v1/acl/tokens", token).status, 403);
  std::vector<std::string> paths;
  for (const auto& v : call(*agent, "GET", "/v1/vars", token).j()) paths.push_back(v["Path"]);
  EXPECT_EQ(paths, (std::vector<std::string>{"shared/x"}));
  // Deleted, the policy grants nothing: the task is back to its own variables.
  ASSERT_EQ(call(*agent, "DELETE", "/v1/acl/policy/reader", mgmt).status, 200);
  EXPECT_EQ(call(*agent, "GET", "/v1/var/shared/x", token).status, 403);
  EXPECT_EQ(call(*agent, "GET", "/v1/jobs", token).status, 403);
  call(*agent, "DELETE", "/v1/job/web", mgmt);
}

TEST(Variables, SpecificationFilesAndAGetPipedIntoAPutAreCheckedAgainstTheIndexTheyWereReadAt) {
  auto agent = AgentProcess::start();
  auto dir = make_temp_dir("drover-var-spec");
  // var init writes an example to start from, and refuses to write over a file.
  auto init = drover::testing::run_shell("cd " + dir + " && DROVER_ADDR=" + agent->address() + " " +
                                         DROVER_BIN + " var init");
  ASSERT_EQ(init.exit_code, 0) << init.out;
  EXPECT_NE(read_file(dir + "/spec.nv.hcl").find("items {"), std::string::npos);
  EXPECT_NE(agent->cli({"var", "init", dir + "/spec.nv.hcl"}).err.find("already exists"),
            std::string::npos);
  ASSERT_EQ(agent->cli({"var", "init", "-out", "json", dir + "/spec.nv.json"}).exit_code, 0);
  EXPECT_EQ(json::parse(read_file(dir + "/spec.nv.json"))["Items"]["key1"], "value 1");

  // An HCL specification names the path and the items; a k=v on the command line wins.
  write_file(dir + "/db.nv.hcl",
             "path = \"app/db\"\nitems {\n  user = \"admin\"\n  pass = \"p${1}\"\n}\n");
  auto put = agent->cli({"var", "put", "@" + dir + "/db.nv.hcl", "pass=s3cret"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  auto v = call(*agent, "GET", "/v1/var/app/db").j();
  EXPECT_EQ(v["Items"], (json{{"user", "admin"}, {"pass", "s3cret"}})) << v.dump();

  // `var get -out json | var put -in json -`: written over the index it read, so a change made
  // in between is not lost: the second, stale pipe is refused; -force writes anyway.
  const std::string drover = std::string("DROVER_ADDR=") + agent->address() + " " + DROVER_BIN;
  write_file(dir + "/read.json", agent->cli({"var", "get", "-out", "json", "app/db"}).out);
  auto piped = drover::testing::run_shell(drover + " var put -in json - user=root < " + dir +
                                          "/read.json");
  ASSERT_EQ(piped.exit_code, 0) << piped.out;
  EXPECT_EQ(call(*agent, "GET", "/v1/var/app/db").j()["Items"]["user"], "root");
  auto stale = drover::testing::run_shell(drover + " var put -in json - user=other < " + dir +
                                          "/read.json");
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_NE(stale.out.find("Check-and-Set conflict"), std::string::npos) << stale.out;
  EXPECT_EQ(call(*agent, "GET", "/v1/var/app/db").j()["Items"]["user"], "root");
  auto forced = drover::testing::run_shell(drover + " var put -force -in json - user=other < " +
                                           dir + "/read.json");
  EXPECT_EQ(forced.exit_code, 0) << forced.out;
  EXPECT_EQ(call(*agent, "GET", "/v1/var/app/db").j()["Items"]["user"], "other");

  // `-out hcl` reads back as a specification; key= takes an item out.
  auto hcl = agent->cli({"var", "get", "-out", "hcl", "app/db"});
  ASSERT_EQ(hcl.exit_code, 0) << hcl.err;
  EXPECT_NE(hcl.out.find("path         = \"app/db\""), std::string::npos) << hcl.out;
  write_file(dir + "/back.hcl", hcl.out);
  auto back = agent->cli({"var", "put", "@" + dir + "/back.hcl", "pass="});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(call(*agent, "GET", "/v1/var/app/db").j()["Items"], (json{{"user", "other"}}));
  // The same file names an index now gone: refused.
  EXPECT_EQ(agent->cli({"var", "put", "@" + dir + "/back.hcl"}).exit_code, 1);
  // Under another path it is a new variable: the index is not carried over.
  ASSERT_EQ(agent->cli({"var", "put", "app/copy", "@" + dir + "/back.hcl"}).exit_code, 0);
  EXPECT_EQ(call(*agent, "GET", "/v1/var/app/copy").j()["Items"]["user"], "other");

  // A specification with what Nomad's has not is refused, naming the line.
  write_file(dir + "/bad.nv.hcl", "path = \"x\"\nitmes {\n  a = \"b\"\n}\n");
  auto bad = agent->cli({"var", "put", "@" + dir + "/bad.nv.hcl"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("line 2: a variable specification has no \"itmes\" block"),
            std::string::npos)
      << bad.err;
}
