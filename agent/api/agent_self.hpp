// GET /v1/agent/self in Nomad's shape: {"config", "member", "stats": {section: {key: string}}},
// what `drover agent-info` prints section by section and the web UI reads (config.Server.Enabled
// tells a server from an agent). The agent's is agent_self(); a server builds its own config and
// member around the same runtime section.
#pragma once

#include <nlohmann/json.hpp>

namespace drover::api {

struct ApiContext;

// stats.runtime: arch (Nomad's names: amd64, arm64), cpu_count, kernel.name, kernel.version,
// threads, rss_bytes and uptime of this process. Every value a string, as Nomad's.
nlohmann::json runtime_stats();

// The agent's: its config (version, datacenter, node name, client on, server off, acl and tls
// on or off), its member (name, HTTP address) and stats (client: node id, allocs, the upstream;
// nomad: not a server; runtime).
nlohmann::json agent_self(const ApiContext& ctx);

}  // namespace drover::api
