// A stored job read back as a jobspec::Job; see stored_job.hpp.
#include "runner/stored_job.hpp"

#include <exception>

namespace drover::runner {

Result<jobspec::Job> stored_job(const std::optional<state::JobRecord>& rec,
                                const state::JobKey& key) {
  if (!rec) return make_error(state::describe(key) + " not found", Errc::NotFound);
  try {
    return jobspec::job_from_json(rec->job);
  } catch (const std::exception& e) {
    return make_error("job \"" + key.id + "\" cannot be read: " + e.what(), Errc::Internal);
  }
}

}  // namespace drover::runner
