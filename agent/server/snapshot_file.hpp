// A cluster snapshot's file (Nomad's `operator snapshot save|inspect|restore`; docs/cluster.md,
// "Snapshots"): every durable key under a server's etcd prefix at one revision, as gzip'd
// JSON: {"Format": "drover-snapshot", "Version": 1, "Prefix", "Revision", "TakenAt" (ns),
// "Server", "Keys": [[key below the prefix, value], ...]}. Ephemeral keys are never in one:
// the nodes' leased keys (each agent registers again), the leader key, the server members and
// a restore's own marker. Read by the server (save, restore) and the CLI (inspect) alike.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::server {

struct Snapshot {
  std::string prefix, server;
  int64_t revision = 0, taken_at_ns = 0;
  std::vector<std::pair<std::string, std::string>> keys;  // below the prefix ("jobs/default/web")
};

// Whether a key below the prefix is the cluster's durable state (what a snapshot keeps).
bool durable_key(std::string_view below_prefix);

std::string snapshot_file(const Snapshot& s);
// A file snapshot_file wrote; an Errc::Invalid error says what it is not (gzip, JSON, a drover
// snapshot, a version this drover reads, a key a snapshot holds).
Result<Snapshot> read_snapshot_file(std::string_view bytes);

// How many keys of each kind (the first part of the key: "jobs", "allocs", "acl/tokens"...).
std::map<std::string, int> snapshot_counts(const Snapshot& s);

}  // namespace drover::server
