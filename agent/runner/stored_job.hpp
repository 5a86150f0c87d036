// A job the state store holds, read back as a jobspec::Job for the runner parts that make
// children of it (`job dispatch`, runner/dispatch.hpp; a forced periodic launch,
// runner/periodic_launcher.hpp).
#pragma once

#include <optional>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"
#include "state/job_key.hpp"
#include "state/state_store.hpp"

namespace drover::runner {

// The job of `rec`, the record looked up for `key`: NotFound when there is none, Internal when
// its stored JSON cannot be read.
Result<jobspec::Job> stored_job(const std::optional<state::JobRecord>& rec,
                                const state::JobKey& key);

}  // namespace drover::runner
