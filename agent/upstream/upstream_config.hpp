// The agent config's `upstream` block: which backend, and the etcd connection.
//   upstream:
//     backend: etcd            # standalone (default) | etcd
//     etcd:
//       endpoints: ["https://10.0.0.1:2379", "https://10.0.0.2:2379"]
//       ca_file: /etc/drover/etcd-ca.pem
//       cert_file: /etc/drover/client.pem
//       key_file: /etc/drover/client-key.pem
//       username: drover
//       password: secret
//       prefix: /drover
//       heartbeat_ttl: 15s
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace drover::upstream {

struct EtcdConfig {
  std::vector<std::string> endpoints = {"http://127.0.0.1:2379"};
  std::string ca_file, cert_file, key_file;
  std::string username, password;
  std::string prefix = "/drover";
  std::chrono::seconds heartbeat_ttl{15};
  std::chrono::milliseconds request_timeout{5000};
};

struct UpstreamConfig {
  std::string backend = "standalone";
  EtcdConfig etcd;
};

// Reads the block (already YAML-as-JSON); appends "\n  upstream.<key>: <why>" to `errors`.
void parse_upstream_config(const nlohmann::json& j, UpstreamConfig& out, std::string& errors);

}  // namespace drover::upstream
