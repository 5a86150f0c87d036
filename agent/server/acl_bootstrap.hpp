// The first leader's ACL duty (docs/security.md, "Cluster"): the bootstrap management token,
// made once for the whole cluster in etcd (api/etcd_token_store.hpp).
#pragma once

#include <stop_token>
#include <string>

#include "api/etcd_token_store.hpp"

namespace drover::server {

class LeaderElection;

// Once this server leads, bootstrap() until etcd answers; a secret it made is logged once and
// written (mode 0600) to `token_file` when one is named.
void bootstrap_when_leader(std::stop_token stop, const LeaderElection& election,
                           api::EtcdTokenStore& tokens, const std::string& token_file);

}  // namespace drover::server
