// Nomad Variables in cluster mode against a real etcd (Debian's etcd-server on loopback ports,
// as tests/e2e/etcd_test.cpp runs it): two agents with the same keyring_file share variables
// under <prefix>/vars/, etcd holds only sealed values, a change made through one agent is seen
// by the other, a lock taken through one holds on the other, and an agent without
// keyring_file keeps no variables, saying why.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "agent_process.hpp"
#include "cluster_processes.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using drover::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

class Etcd {
 public:
  Etcd()
      : dir_(make_temp_dir("drover-vars-etcd")),
        client_(drover::testing::free_loopback_port()),
        peer_(drover::testing::free_loopback_port()) {}
  ~Etcd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string c = "http://127.0.0.1:" + std::to_string(client_);
      std::string p = "http://127.0.0.1:" + std::to_string(peer_);
      FILE* f = ::freopen((dir_ + "/etcd.log").c_str(), "a", stderr);
      (void)f;
      ::execlp("etcd", "etcd", "--name", "t", "--data-dir", (dir_ + "/data").c_str(),
               "--listen-client-urls", c.c_str(), "--advertise-client-urls", c.c_str(),
               "--listen-peer-urls", p.c_str(), "--initial-advertise-peer-urls", p.c_str(),
               "--initial-cluster", ("t=" + p).c_str(), nullptr);
      _exit(127);
    }
    return eventually(
        [&] { return ctl("endpoint health 2>&1").find("is healthy") != std::string::npos; }, 10s);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(client_); }
  std::string ctl(const std::string& args) const {
    return sh("ETCDCTL_API=3 etcdctl --endpoints=" + endpoint() + " " + args);
  }

 private:
  std::string dir_;
  int client_, peer_;
  pid_t pid_ = -1;
};

std::string config(const Etcd& e, const std::string& keyring) {
  std::string c = "upstream:\n  backend: etcd\n  etcd:\n    endpoints: [\"" + e.endpoint() +
                  "\"]\n    prefix: /drover\n";
  if (!keyring.empty()) c += "keyring_file: " + keyring + "\n";
  return c;
}

struct Reply {
  int status = 0;
  std::string body;
  json j() const { return json::parse(body, nullptr, false); }
};

Reply call(const AgentProcess& a, const std::string& method, const std::string& path,
           const std::string& body = "") {
  httplib::Client c("127.0.0.1", a.port());
  c.set_read_timeout(10);
  httplib::Result r = method == "GET"      ? c.Get(path.c_str())
                      : method == "DELETE" ? c.Delete(path.c_str())
                                           : c.Put(path.c_str(), body, "application/json");
  if (!r) return {};
  return {r->status, r->body};
}

}  // namespace

TEST(VariablesEtcd, AgentsSharingAKeyringFileShareSealedVariablesThroughEtcd) {
  if (sh("command -v etcd").empty()) GTEST_SKIP() << "etcd is not installed (etcd-server)";
  Etcd etcd;
  ASSERT_TRUE(etcd.start());
  auto keys = make_temp_dir("drover-vars-key");
  const std::string keyring = keys + "/keyring";
  write_file(keyring, "# the cluster's variables key\n" + sh("openssl rand -base64 32"));
  ::chmod(keyring.c_str(), 0600);

  // Without keyring_file a cluster agent runs, but keeps no variables, and says why.
  {
    auto lone = AgentProcess::start({.config_yaml = config(etcd, "")});
    auto r = call(*lone, "PUT", "/v1/var/app/x", json{{"Items", {{"k", "v"}}}}.dump());
    EXPECT_EQ(r.status, 501) << r.body;
    EXPECT_NE(r.j().value("error", "").find("without keyring_file"), std::string::npos) << r.body;
    EXPECT_EQ(call(*lone, "GET", "/v1/vars").status, 501);
  }

  auto a = AgentProcess::start({.config_yaml = config(etcd, keyring)});
  auto b = AgentProcess::start({.config_yaml = config(etcd, keyring)});
  const std::string secret = "EtcdSecret-5be1";
  auto put =
      call(*a, "PUT", "/v1/var/nomad/jobs/web?cas=0", json{{"Items", {{"pw", secret}}}}.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  const int index = put.j()["ModifyIndex"];

  // In etcd under <prefix>/vars/<namespace>/<path>, sealed.
  auto raw = etcd.ctl("get --print-value-only /drover/vars/default/nomad/jobs/web");
  ASSERT_FALSE(raw.empty());
  EXPECT_EQ(raw.find(secret), std::string::npos) << raw;
  // The item's key in the clear would be quoted JSON; base64 has no quotes (a bare "pw" turned
  // up inside the sealed bytes' base64 about one run in fifty).
  EXPECT_EQ(raw.find("\"pw\""), std::string::npos) << raw;

  // The other agent opens it with the same key, and the indexes are etcd's revisions.
  auto got = call(*b, "GET", "/v1/var/nomad/jobs/web");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.j()["Items"]["pw"], secret);
  EXPECT_EQ(got.j()["ModifyIndex"], index);
  // Check-and-set across nodes: b's stale write is refused with a's value.
  ASSERT_EQ(call(*a, "PUT", "/v1/var/nomad/jobs/web?cas=" + std::to_string(index),
                 json{{"Items", {{"pw", "second"}}}}.dump())
                .status,
            200);
  auto stale = call(*b, "PUT", "/v1/var/nomad/jobs/web?cas=" + std::to_string(index),
                    json{{"Items", {{"pw", "third"}}}}.dump());
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(stale.j()["Items"]["pw"], "second");
  auto list = call(*b, "GET", "/v1/vars?prefix=nomad/");
  ASSERT_EQ(list.j().size(), 1u) << list.body;
  // A keyring rotation is the operator's, on every node: the agent says so.
  auto rotate = call(*a, "PUT", "/v1/operator/keyring/rotate");
  EXPECT_EQ(rotate.status, 501) << rotate.body;
  EXPECT_NE(rotate.j().value("error", "").find("keyring_file"), std::string::npos);
  // A lock taken through one agent holds on the other: it lives in etcd beside the items.
  const std::string path = "/v1/var/nomad/jobs/web";
  auto locked = call(*a, "PUT", path + "?lock-acquire", json{{"Lock", json::object()}}.dump());
  ASSERT_EQ(locked.status, 200) << locked.body;
  const std::string lock_id = locked.j()["Lock"]["ID"];
  EXPECT_EQ(call(*b, "PUT", path + "?lock-acquire", json{{"Lock", json::object()}}.dump()).status,
            409);
  EXPECT_EQ(call(*b, "PUT", path, json{{"Items", {{"pw", "fourth"}}}}.dump()).status, 409);
  EXPECT_EQ(call(*b, "DELETE", path).status, 409);
  auto by_holder = call(*b, "PUT", path,
                        json{{"Items", {{"pw", "fourth"}}}, {"Lock", {{"ID", lock_id}}}}.dump());
  EXPECT_EQ(by_holder.status, 200) << by_holder.body;
  EXPECT_EQ(call(*a, "GET", path).j()["Lock"]["ID"], lock_id);
  EXPECT_EQ(call(*a, "GET", path).j()["Items"]["pw"], "fourth");
  ASSERT_EQ(
      call(*b, "PUT", path + "?lock-release", json{{"Lock", {{"ID", lock_id}}}}.dump()).status,
      200);
  ASSERT_EQ(call(*b, "DELETE", "/v1/var/nomad/jobs/web").status, 200);
  EXPECT_EQ(call(*a, "GET", "/v1/var/nomad/jobs/web").status, 404);
}

TEST(VariablesEtcd, AServerWithTheKeyringServesTheAgentsVariablesAndTheirLocks) {
  using drover::testing::EtcdProcess;
  using drover::testing::ServerProcess;
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  auto keys = make_temp_dir("drover-vars-key");
  const std::string keyring = keys + "/keyring";
  write_file(keyring, sh("openssl rand -base64 32"));
  ::chmod(keyring.c_str(), 0600);
  auto server = ServerProcess::start(
      "s1", drover::testing::etcd_server_yaml(etcd) + "keyring_file: " + keyring + "\n");
  auto agent = AgentProcess::start(
      {.config_yaml = drover::testing::etcd_agent_yaml(etcd) + "keyring_file: " + keyring + "\n"});

  // Written through the server (as `nomad var put` against a server), read on the agent.
  auto put = server->post("/v1/var/app/db", json{{"Items", {{"pw", "from-server"}}}}.dump(),
                          "application/json");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(call(*agent, "GET", "/v1/var/app/db").j()["Items"]["pw"], "from-server");
  // A lock taken on the agent holds on the server, and the server lists the variable.
  auto lock = call(*agent, "PUT", "/v1/var/app/db?lock-acquire", json{{"Lock", json::object()}}.dump());
  ASSERT_EQ(lock.status, 200) << lock.body;
  auto refused = server->post("/v1/var/app/db", json{{"Items", {{"pw", "x"}}}}.dump(),
                              "application/json");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(server->get("/v1/vars?prefix=app/").json().size(), 1u);
  auto released = server->post("/v1/var/app/db?lock-release",
                               json{{"Lock", {{"ID", lock.j()["Lock"]["ID"]}}}}.dump(),
                               "application/json");
  EXPECT_EQ(released.status, 200) << released.body;

  // A server without the key keeps none, and says why.
  auto lone = ServerProcess::start("s2", drover::testing::etcd_server_yaml(etcd));
  auto none = lone->get("/v1/var/app/db");
  EXPECT_EQ(none.status, 501) << none.body;
  EXPECT_NE(none.json().value("error", "").find("no keyring_file"), std::string::npos) << none.body;
}
