// The agent's scaling endpoints; see scaling_endpoint.hpp. The rules (bounds, Nomad's shapes)
// are jobspec/scaling.hpp's, shared with `drover server`.
#include "api/scaling_endpoint.hpp"

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/namespace_query.hpp"
#include "api/submission_endpoint.hpp"
#include "drover/common/encoding.hpp"
#include "jobspec/scaling.hpp"
#include "runner/alloc_manager.hpp"
#include "state/state_store.hpp"

#include <spdlog/spdlog.h>

namespace drover::api {

namespace {

using nlohmann::json;

// The stored job a /v1/job/:id/scale request names, or nothing (a 400 or 404 sent).
std::optional<state::JobRecord> job_or_reply(runner::AllocManager& m, const httplib::Request& req,
                                             httplib::Response& res) {
  auto ns = namespace_query(req.get_param_value("namespace"), /*allow_all=*/false);
  if (!ns) {
    reply_error(res, ns.error());
    return std::nullopt;
  }
  const state::JobKey key{ns.value(), req.matches[1]};
  auto rec = m.job(key);
  if (!rec) reply_error(res, 404, state::describe(key) + " not found");
  return rec;
}

// The job's scaling events, kept in the state store's meta table ({group: [newest first]}).
std::string events_key(const state::JobKey& job) {
  return state::StateStore::job_meta_key(state::StateStore::kJobScalingEvents, job);
}

json stored_events(const ApiContext& ctx, const state::JobKey& job) {
  auto kept = ctx.allocs->ctx().store->meta(events_key(job));
  json events = kept ? json::parse(*kept, nullptr, false) : json();
  return events.is_object() ? events : json::object();
}

void keep_event(const ApiContext& ctx, const state::JobKey& job, const std::string& group,
                json event) {
  json events = stored_events(ctx, job);
  jobspec::add_scaling_event(events, group, std::move(event));
  if (auto st = ctx.allocs->ctx().store->put_meta(events_key(job), events.dump()); !st)
    spdlog::warn("{}: keeping a scaling event: {}", state::describe(job), st.message());
}

// The new count is a changed job: its allocs are replaced as a resubmit replaces them. Each
// request is a scaling event; one without a count is only that.
void scale(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto& m = *ctx.allocs;
  auto rec = job_or_reply(m, req, res);
  if (!rec) return;
  auto request = jobspec::scale_request_from_json(
      json::parse(req.body.empty() ? "{}" : req.body, nullptr, false));
  if (!request) return reply_error(res, request.error());
  auto target = jobspec::scale_target(rec->job, request->group);
  if (!target) return reply_error(res, target.error());
  const auto& [group, previous] = target.value();
  if (!request->count) {
    keep_event(ctx, rec->key(), group, jobspec::scaling_event(*request, previous, state::now_ns(), ""));
    return reply_json(res, {{"EvalID", ""}, {"EvalCreateIndex", 0}, {"JobModifyIndex", 0},
                            {"Index", 0}, {"Warnings", ""}});
  }
  if (rec->stopped)
    return reply_error(res, 400, state::describe(rec->key()) + " is stopped: run it again to scale it");
  auto next = jobspec::scaled_job(rec->job, request->group, *request->count);
  if (!next) return reply_error(res, next.error());
  jobspec::Job job;
  try {
    job = jobspec::job_from_json(next.value());
  } catch (const std::exception& e) {
    return reply_error(res, 500, state::describe(rec->key()) + ": " + e.what());
  }
  job.namespace_name = rec->ns;
  auto receipt = m.submit(job);
  if (!receipt) return reply_error(res, receipt.error());
  // The source kept no longer says what runs (Nomad's scale keeps none for the new version).
  keep_submission(ctx, rec->key(), nullptr);
  keep_event(ctx, rec->key(), group,
             jobspec::scaling_event(*request, previous, state::now_ns(), receipt->eval_id));
  reply_json(res, {{"EvalID", receipt->eval_id},
                   {"EvalCreateIndex", 0},
                   {"EvalStatus", "complete"},
                   {"JobModifyIndex", 0},
                   {"AllocIDs", receipt->alloc_ids},
                   {"Index", 0},
                   {"Warnings", ""}});
}

// Every stored job of the namespaces `ns` names, for the policy lists.
std::vector<jobspec::StoredJob> stored_jobs(const std::vector<state::JobRecord>& records,
                                            const std::string& ns) {
  std::vector<jobspec::StoredJob> jobs;
  for (const auto& rec : records)
    if (namespace_matches(ns, rec.ns)) jobs.push_back({&rec.job, rec.ns, 0, rec.stopped});
  return jobs;
}

}  // namespace

void register_scaling_endpoints(httplib::Server& s, const ApiContext& ctx) {
  auto& m = *ctx.allocs;
  auto post = [&ctx](const httplib::Request& req, httplib::Response& res) { scale(ctx, req, res); };
  s.Post(R"(/v1/job/(.+)/scale)", post);
  s.Put(R"(/v1/job/(.+)/scale)", post);
  s.Get(R"(/v1/job/(.+)/scale)", [&m, &ctx](const httplib::Request& req, httplib::Response& res) {
    auto rec = job_or_reply(m, req, res);
    if (!rec) return;
    std::vector<jobspec::ScaleStatusAlloc> allocs;
    for (const auto& a : m.job_allocs(rec->key())) {
      if (a.desired_status != "run") continue;
      jobspec::ScaleStatusAlloc s{a.group, a.client_status == "running", std::nullopt};
      if (a.deployment_status.is_object() && a.deployment_status.contains("Healthy") &&
          a.deployment_status["Healthy"].is_boolean())
        s.healthy = a.deployment_status["Healthy"].get<bool>();
      allocs.push_back(std::move(s));
    }
    reply_json(res, jobspec::scale_status(rec->job, rec->ns, 0, rec->stopped, allocs,
                                          stored_events(ctx, rec->key())));
  });
  s.Get("/v1/scaling/policies", [&m](const httplib::Request& req, httplib::Response& res) {
    auto ns = namespace_query(req.get_param_value("namespace"), /*allow_all=*/true);
    if (!ns) return reply_error(res, ns.error());
    const auto records = m.jobs();
    reply_json(res, jobspec::scaling_policy_list(stored_jobs(records, ns.value()),
                                                 req.get_param_value("job"),
                                                 req.get_param_value("type")));
  });
  s.Get(R"(/v1/scaling/policy/([^/]+))", [&m](const httplib::Request& req, httplib::Response& res) {
    const auto records = m.jobs();
    json p = jobspec::find_scaling_policy(stored_jobs(records, kAllNamespaces),
                                          std::string(req.matches[1]));
    if (p.is_null())
      return reply_error(res, 404,
                         "scaling policy \"" + std::string(req.matches[1]) + "\" not found");
    reply_json(res, p);
  });
}

}  // namespace drover::api
