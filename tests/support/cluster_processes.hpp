// The cluster's other processes for tests: one etcd member on loopback ports (Debian's
// etcd-server) and `drover server` processes, each on its own free port.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "agent_process.hpp"

namespace drover::testing {

class EtcdProcess {
 public:
  EtcdProcess();
  ~EtcdProcess();  // kills it and removes its data dir
  bool start();    // waits until it is healthy
  void stop();
  std::string endpoint() const;
  std::string ctl(const std::string& args) const;  // etcdctl output
  static bool installed();

 private:
  std::string dir_;
  int client_, peer_;
  pid_t pid_ = -1;
};

class ServerProcess {
 public:
  // Starts `drover server -config` with `config_yaml` (the port is added) and waits until its
  // API answers (fails the test otherwise). With `ca_file`, the server is one with a tls
  // block: it is reached over https, its certificate verified against that CA.
  static std::unique_ptr<ServerProcess> start(const std::string& name,
                                              const std::string& config_yaml,
                                              const std::string& ca_file = "");
  ~ServerProcess();  // SIGTERM, unless the test killed it

  const std::string& address() const { return address_; }
  const std::string& name() const { return name_; }
  int kill(int sig);
  std::string log() const;
  // The X-Nomad-Token every later request of this object carries ("" for none).
  void use_token(std::string secret) { token_ = std::move(secret); }
  HttpReply get(const std::string& path) const;
  HttpReply post(const std::string& path, const std::string& body,
                 const std::string& content_type = "application/yaml") const;
  HttpReply del(const std::string& path) const;
  // The evaluation once the leader has taken it up (its Status no longer "pending"), as a
  // client follows the one a register or dispatch answered with; as it is after 30 s else.
  nlohmann::json await_evaluation(const std::string& id) const;

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string name_, address_, dir_, ca_file_, token_;
};

// The smallest cluster's configs, on `etcd` under the prefix /drover: an agent's upstream block
// (heartbeat_ttl 3s) and a server's (leader_ttl 3s), to which a test adds what it needs.
std::string etcd_agent_yaml(const EtcdProcess& etcd);
std::string etcd_server_yaml(const EtcdProcess& etcd);
// etcd_server_yaml with ACLs on: the server that bootstraps writes the token to dir/<name>.token.
std::string acl_server_yaml(const EtcdProcess& etcd, const std::string& dir, const std::string& name);
// The management token one of the servers `names` bootstrapped into dir/<name>.token, once
// one has; "" when none has within 20 s.
std::string bootstrap_token(const std::string& dir, const std::vector<std::string>& names);

// After an agent was SIGKILLed its tasks go on (by design): kills its tasks (every process in
// its parent cgroup) and their drover-monitor parents (whose command line names its data dir).
void kill_orphaned_tasks(const std::string& cgroup_parent, const std::string& data_dir);

}  // namespace drover::testing
