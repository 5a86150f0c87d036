// A sticky ephemeral disk (jobspec::EphemeralDisk, docs/jobspec.md, "volumes"): the
// replacement of an alloc on this node takes over its predecessor's alloc/data and each
// same-named task's local/, as Nomad moves them, once the predecessor has stopped.
#pragma once

#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "runner/alloc_dir.hpp"

namespace drover::runner {

// Moves `from`'s alloc/data and <task>/local (for each of `tasks` that `from` has) into `to`,
// replacing the empty dirs that AllocDir::build made there. Renames within the data dir: no
// copy, no window where a file is in neither. A missing source is not an error (the
// predecessor never started that task, or was collected).
Status move_sticky_data(const AllocDir& from, const AllocDir& to,
                        const std::vector<std::string>& tasks);

}  // namespace drover::runner
