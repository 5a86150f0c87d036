// When a failed alloc is placed again: Nomad's reschedule semantics (structs.Allocation's
// NextDelay, RescheduleEligible, NextRescheduleTime and the scheduler's
// updateRescheduleTracker) on the alloc JSON the servers keep in etcd. An alloc's
// `RescheduleTracker.Events` lists the reschedules that led to it: {RescheduleTime,
// PrevAllocID, PrevNodeID, Delay} (docs/cluster.md, "Rescheduling").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "jobspec/job.hpp"

namespace drover::server {

// The delay before the replacement of `alloc` (which failed at `failed_at_ns`) is placed:
// the policy's delay for a first reschedule, then by its delay function from the delays of
// the tracker's events (exponential doubles the last, fibonacci adds the last two), capped
// at max_delay; once capped, an alloc that ran longer than that ceiling starts over at delay.
int64_t next_reschedule_delay_ns(const jobspec::ReschedulePolicy& policy,
                                 const nlohmann::json& alloc, int64_t failed_at_ns);

// When the replacement may be placed, or nullopt when the policy allows no more attempts
// (none at all, or `attempts` already made within `interval` before the failure).
std::optional<int64_t> next_reschedule_at_ns(const jobspec::ReschedulePolicy& policy,
                                             const nlohmann::json& alloc, int64_t failed_at_ns);

// The RescheduleTracker of the replacement of `prev`, placed at `now_ns`: prev's events still
// inside the interval (the last 5 when unlimited) plus this reschedule.
nlohmann::json next_reschedule_tracker(const jobspec::ReschedulePolicy& policy,
                                       const nlohmann::json& prev, int64_t failed_at_ns,
                                       int64_t now_ns);

}  // namespace drover::server
