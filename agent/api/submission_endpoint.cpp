// The agent's job submissions; see submission_endpoint.hpp.
#include "api/submission_endpoint.hpp"

#include <spdlog/spdlog.h>

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/namespace_query.hpp"
#include "jobspec/submission.hpp"
#include "runner/alloc_manager.hpp"
#include "state/state_store.hpp"

namespace drover::api {

namespace {

using nlohmann::json;

std::string meta_key(const state::JobKey& job) {
  return state::StateStore::job_meta_key(state::StateStore::kJobSubmission, job);
}

}  // namespace

void keep_submission(const ApiContext& ctx, const state::JobKey& job, const json& submission) {
  auto* store = ctx.allocs->ctx().store;
  // The job runs either way; a source that could not be kept only shows as JSON in the UI.
  Status st = submission.is_null() ? store->delete_meta(meta_key(job))
                                   : store->put_meta(meta_key(job), submission.dump());
  if (!st) spdlog::warn("{}: keeping its submitted source: {}", state::describe(job), st.message());
}

void register_submission_endpoint(httplib::Server& s, const ApiContext& ctx) {
  s.Get(R"(/v1/job/(.+)/submission)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto ns = namespace_query(req.get_param_value("namespace"), /*allow_all=*/false);
    if (!ns) return reply_error(res, ns.error());
    const state::JobKey key{ns.value(), req.matches[1]};
    if (!ctx.allocs->job(key)) return reply_error(res, 404, state::describe(key) + " not found");
    auto kept = ctx.allocs->ctx().store->meta(meta_key(key));
    json sub = kept ? json::parse(*kept, nullptr, false) : json();
    if (!sub.is_object())
      return reply_error(res, 404, state::describe(key) + " has no submitted source kept");
    reply_json(res, jobspec::submission_reply(sub, key.ns, key.id, 0));
  });
}

}  // namespace drover::api
