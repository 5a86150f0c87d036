// Taking and restoring a cluster snapshot (snapshot_file.hpp) against etcd: the durable keys
// read at one revision, and put back (docs/cluster.md, "Snapshots").
#pragma once

#include <string>

#include "drover/common/result.hpp"
#include "server/keys.hpp"
#include "server/snapshot_file.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

// The durable keys under `keys.prefix` as etcd holds them now, at one revision.
Result<Snapshot> take_snapshot(upstream::EtcdClient& etcd, const Keys& keys, const std::string& server);

// What a restore changed.
struct RestoreReport {
  int put = 0, deleted = 0;
};
// Makes the durable keys under `keys.prefix` those of `s`: the keys it lacks deleted, its keys
// written (jobs and their versions first), in transactions of at most 100 operations and about
// 1 MiB (etcd's defaults refuse more than 128, or 1.5 MiB). Not atomic: the caller writes the
// restore marker (Keys::restoring) first, which holds the leader's passes and GC meanwhile.
Result<RestoreReport> restore_snapshot(upstream::EtcdClient& etcd, const Keys& keys, const Snapshot& s);

struct ServerConfig;
// `drover operator snapshot restore -config server.yaml FILE`: the marker written, the file
// restored into the config's etcd, the marker deleted; what it did on stdout, why not on
// stderr. A restore that stops part way leaves the marker, so that the leader plans nothing
// from half a cluster until the restore is run again. The process exit code.
int restore_snapshot_file(const ServerConfig& cfg, const std::string& path);

}  // namespace drover::server
