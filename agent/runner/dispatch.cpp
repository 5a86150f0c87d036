// `job dispatch` (see dispatch.hpp).
#include "runner/dispatch.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "drover/common/encoding.hpp"
#include "drover/common/names.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/stored_job.hpp"

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

Result<DispatchRequest> dispatch_request_from_json(const nlohmann::json& body) {
  if (!body.is_object())
    return make_error("body: must be a JSON object {\"Payload\": base64, \"Meta\": {...}}",
                      Errc::Invalid);
  DispatchRequest r;
  if (body.contains("Payload") && !body["Payload"].is_null()) {
    if (!body["Payload"].is_string())
      return make_error("Payload: must be a base64 string", Errc::Invalid);
    auto decoded = base64_decode(body["Payload"].get<std::string>());
    if (!decoded) return make_error("Payload: is not base64", Errc::Invalid);
    r.payload = std::move(*decoded);
  }
  if (body.contains("Meta") && !body["Meta"].is_null()) {
    if (!body["Meta"].is_object())
      return make_error("Meta: must be an object of strings", Errc::Invalid);
    for (const auto& [k, v] : body["Meta"].items()) {
      if (!v.is_string()) return make_error("Meta." + k + ": must be a string", Errc::Invalid);
      r.meta[k] = v.get<std::string>();
    }
  }
  if (body.contains("IdempotencyToken") && !body["IdempotencyToken"].is_null()) {
    if (!body["IdempotencyToken"].is_string())
      return make_error("IdempotencyToken: must be a string", Errc::Invalid);
    r.idempotency_token = body["IdempotencyToken"].get<std::string>();
  }
  if (body.contains("IdPrefixTemplate") && !body["IdPrefixTemplate"].is_null()) {
    if (!body["IdPrefixTemplate"].is_string())
      return make_error("IdPrefixTemplate: must be a string", Errc::Invalid);
    r.id_prefix_template = body["IdPrefixTemplate"].get<std::string>();
    // It becomes part of the child's ID, which names its folders and keys: a plain name,
    // short enough that the whole ID stays within the 128 bytes a job's may have.
    if (!r.id_prefix_template.empty()) {
      if (auto p = plain_name_problem(r.id_prefix_template))
        return make_error("IdPrefixTemplate: " + *p, Errc::Invalid);
      if (r.id_prefix_template.size() > kMaxIdPrefixTemplate)
        return make_error("IdPrefixTemplate: at most " + std::to_string(kMaxIdPrefixTemplate) +
                              " bytes",
                          Errc::Invalid);
    }
  }
  return r;
}

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
                            const std::string& suffix, const std::string& id_prefix) {
  jobspec::Job child = parent;
  child.id = parent.id + "/dispatch-" + (id_prefix.empty() ? "" : id_prefix + "-") +
             std::to_string(unix) + "-" + suffix;
  child.name = child.id;
  child.parent_id = parent.id;
  child.dispatched = true;
  child.payload = payload;
  for (const auto& [k, v] : meta) child.meta[k] = v;
  return child;
}

Status check_dispatch(const jobspec::Job& parent, bool stopped, const DispatchRequest& request) {
  if (!parent.parameterized || parent.dispatched)
    return make_error("job \"" + parent.id + "\" is not a parameterized job", Errc::Invalid);
  if (stopped) return make_error("job \"" + parent.id + "\" is stopped", Errc::Conflict);
  auto problems = dispatch_problems(*parent.parameterized, request.payload, request.meta);
  if (problems.empty()) return {};
  std::string message;
  for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p;
  return make_error(message, Errc::Invalid);
}

jobspec::Job new_dispatch_child(const jobspec::Job& parent, const DispatchRequest& request) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto child = dispatch_child(parent, request.payload, request.meta, now,
                             random_uuid().substr(0, 8), request.id_prefix_template);
  child.dispatch_idempotency_token = request.idempotency_token;
  return child;
}

Result<DispatchReceipt> dispatch_job(AllocManager& allocs, const state::JobKey& key,
                                     const DispatchRequest& request) {
  auto rec = allocs.job(key);
  auto parent = stored_job(rec, key);
  if (!parent) return parent.error();
  if (auto ok = check_dispatch(*parent, rec->stopped, request); !ok) return ok.error();
  if (!request.idempotency_token.empty()) {
    // A retried request: the child its token made before, not a second one (Nomad's rule).
    const std::string prefix = parent->id + "/dispatch-";
    for (const auto& j : allocs.jobs()) {
      if (j.ns != key.ns || j.id.rfind(prefix, 0) != 0) continue;
      if (j.job.value("DispatchIdempotencyToken", std::string()) == request.idempotency_token)
        return DispatchReceipt{j.id, "", {}};
    }
  }
  auto child = new_dispatch_child(*parent, request);
  auto receipt = allocs.submit(child);
  if (!receipt) return receipt.error();
  spdlog::info("job {}: dispatched {}", key.id, child.id);
  return DispatchReceipt{child.id, receipt->eval_id, receipt->alloc_ids};
}

}  // namespace drover::runner
