// `drover server -config server.yaml`: what a server reads. The etcd block is the agent's
// (upstream/upstream_config.hpp), so one etcd section serves both (docs/cluster.md, "Servers").
//   name: s1                 # default: <hostname>:<port>
//   bind_addr: 127.0.0.1
//   port: 4646
//   leader_ttl: 10s          # the leader lease's TTL: a dead leader is replaced within it
//   http_allowed_hosts: []   # names besides IPs, localhost and its own that it answers to
//   etcd: { endpoints, ca_file, cert_file, key_file, username, password, prefix, request_timeout }
//   scheduler_algorithm: binpack  # and preemption_config: server/scheduler_config.hpp
//   tls: { cert_file, key_file, ca_file, verify_https_client }  # the agent's block
//   acl: { enabled: true, bootstrap_token_file: /path }         # tokens in etcd
//   insecure_listen: false   # true: serve off loopback with neither acl nor tls (warned)
//   keyring_file: /etc/drover/keyring   # the agents' file: /.well-known/jwks.json here too
//   oidc_issuer: https://drover.example.com
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "api/tls_config.hpp"
#include "server/gc.hpp"
#include "server/scheduler_config.hpp"
#include "upstream/upstream_config.hpp"

namespace drover::server {

struct ServerConfig {
  std::string name;
  std::string bind_addr = "127.0.0.1";
  int port = 4646;
  std::chrono::seconds leader_ttl{10};
  upstream::EtcdConfig etcd;
  // The Host names the API and UI answer to besides the defaults (api/host_check.hpp).
  std::vector<std::string> http_allowed_hosts;
  // The scheduler configuration the cluster uses until an operator stores another.
  SchedulerConfig scheduler;
  // The API's TLS, and the CA and client cert for calls to agents and the leader.
  api::TlsSettings tls;
  // Tokens (docs/security.md, "Cluster tokens"): kept in etcd, shared by every server.
  bool acl_enabled = false;
  // Where the first leader writes the bootstrap token's secret (mode 0600); "": its log only.
  std::string acl_bootstrap_token_file;
  // A bind_addr off loopback without acl or tls is refused unless this is set (the agent's rule).
  bool insecure_listen = false;
  // Garbage collection (server/gc.hpp): how often the leader collects (job_gc_interval) and
  // how old things must be (job_gc_threshold, eval_gc_threshold, batch_eval_gc_threshold,
  // deployment_gc_threshold, node_gc_threshold), Nomad's names and defaults.
  std::chrono::nanoseconds gc_interval = std::chrono::minutes(5);
  GcThresholds gc;
  // The cluster's keyring_file (the agents'): with it the server publishes the workload
  // identities' public keys, so that relying parties have one address for them
  // (docs/variables.md, "Signing keys"); oidc_issuer as the agents have it.
  std::string keyring_file;
  std::string oidc_issuer;
};

// Reads and checks the file; every problem at once, each naming its key and the file.
Result<ServerConfig> load_server_config(const std::string& path);
// The same from YAML text (`origin` names it in errors).
Result<ServerConfig> parse_server_config(const std::string& text, const std::string& origin);

}  // namespace drover::server
