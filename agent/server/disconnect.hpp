// What the leader does with the allocs of a node that stopped heartbeating, by their group's
// `disconnect` block (docs/cluster.md, "Disconnected nodes"): `unknown` for lost_after, then
// lost; a replacement at once, or once stop_on_client_after (and a kill timeout) has let the
// node stop the original; and, when the node is back, which of the original and its
// replacement to keep (Nomad's reconnecting picker).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "jobspec/job.hpp"
#include "server/cluster_state.hpp"

namespace drover::server {

// Sets the server's mark on an alloc (ClientStatus "unknown" or "lost", and why), recorded in
// Nomad's AllocStates as {Field: ClientStatus, Value, Time} with TimeNs beside Time.
void mark_client_status(nlohmann::json& alloc, std::string_view status,
                        std::string_view description, int64_t now_ns);
// When the alloc last became `status` by the server's mark (AllocStates), else 0.
int64_t marked_since(const nlohmann::json& alloc, std::string_view status);

// When an `unknown` alloc becomes lost: its mark's time plus lost_after.
int64_t lost_at(const jobspec::TaskGroup& g, const nlohmann::json& alloc);

// When a lost alloc of a group with stop_on_client_after may be replaced: once its node has
// stopped it (the mark's time, plus the duration, plus the group's longest kill_timeout, 5s at
// least: Nomad's WaitClientStop). 0 when its replacement need not wait.
int64_t replace_lost_after(const jobspec::TaskGroup& g, const nlohmann::json& alloc);

// Of an alloc whose node came back and the live alloc that replaced it meanwhile, the one to
// keep: a replacement of a newer job version always; else as the group's `reconcile` says.
const AllocView& keep_on_reconnect(const jobspec::TaskGroup& g, const AllocView& original,
                                   const AllocView& replacement);

}  // namespace drover::server
