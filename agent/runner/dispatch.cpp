// `job dispatch` (see dispatch.hpp).
#include "runner/dispatch.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "drover/common/encoding.hpp"
#include "runner/alloc_manager.hpp"

namespace drover::runner {

namespace {

std::string list(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return "[" + out + "]";
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::vector<std::string> dispatch_problems(const jobspec::Parameterized& p,
                                           const std::string& payload,
                                           const std::map<std::string, std::string>& meta) {
  std::vector<std::string> out;
  if (p.payload == "forbidden" && !payload.empty())
    out.push_back("Payload: this job takes no payload (parameterized.payload is \"forbidden\")");
  if (p.payload == "required" && payload.empty())
    out.push_back("Payload: is required (parameterized.payload is \"required\")");
  if (payload.size() > kMaxDispatchPayloadBytes)
    out.push_back("Payload: is " + std::to_string(payload.size()) + " bytes; the limit is " +
                  std::to_string(kMaxDispatchPayloadBytes) + " (16 KiB, as in Nomad)");
  for (const auto& key : p.meta_required)
    if (!meta.count(key))
      out.push_back("Meta." + key + ": is required (parameterized.meta_required)");
  for (const auto& [key, value] : meta) {
    if (!contains(p.meta_required, key) && !contains(p.meta_optional, key))
      out.push_back("Meta." + key + ": this job does not take it (meta_required: " +
                    list(p.meta_required) + ", meta_optional: " + list(p.meta_optional) + ")");
    else if (value.find('\0') != std::string::npos)
      out.push_back("Meta." + key + ": must not contain a NUL byte");
  }
  return out;
}

jobspec::Job dispatch_child(const jobspec::Job& parent, const std::string& payload,
                            const std::map<std::string, std::string>& meta, int64_t unix,
                            const std::string& suffix) {
  jobspec::Job child = parent;
  child.id = parent.id + "/dispatch-" + std::to_string(unix) + "-" + suffix;
  child.name = child.id;
  child.parent_id = parent.id;
  child.dispatched = true;
  child.payload = payload;
  for (const auto& [k, v] : meta) child.meta[k] = v;
  return child;
}

Result<DispatchReceipt> dispatch_job(AllocManager& allocs, const state::JobKey& key,
                                     const std::string& payload,
                                     const std::map<std::string, std::string>& meta) {
  auto rec = allocs.job(key);
  const auto& job_id = key.id;
  if (!rec) return make_error(state::describe(key) + " not found", Errc::NotFound);
  jobspec::Job parent;
  try {
    parent = jobspec::job_from_json(rec->job);
  } catch (const std::exception& e) {
    return make_error("job \"" + job_id + "\" cannot be read: " + e.what(), Errc::Internal);
  }
  if (!parent.parameterized || parent.dispatched)
    return make_error("job \"" + job_id + "\" is not a parameterized job", Errc::Invalid);
  if (rec->stopped) return make_error("job \"" + job_id + "\" is stopped", Errc::Conflict);
  auto problems = dispatch_problems(*parent.parameterized, payload, meta);
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p;
    return make_error(message, Errc::Invalid);
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto child = dispatch_child(parent, payload, meta, now, random_uuid().substr(0, 8));
  auto receipt = allocs.submit(child);
  if (!receipt) return receipt.error();
  spdlog::info("job {}: dispatched {}", job_id, child.id);
  return DispatchReceipt{child.id, receipt->eval_id, receipt->alloc_ids};
}

}  // namespace drover::runner
