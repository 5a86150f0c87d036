// What `drover server` hands the server daemon once its flags are parsed (the CLI reaches the
// daemon through a function pointer, as for `drover agent`: cli/cli.hpp).
#pragma once

#include <string>

namespace drover::server {

struct ServerFlags {
  std::string config_path;
  std::string log_level = "info";
  int port = 0;  // 0: the config's
  // `operator snapshot restore`: this snapshot file put back in the config's etcd, then exit
  // (no server runs; server/snapshot.hpp).
  std::string restore_snapshot;
};

// Runs the server until SIGINT/SIGTERM (or restores a snapshot); the process exit code.
int run_server(const ServerFlags& flags);

}  // namespace drover::server
