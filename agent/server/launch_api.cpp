// Periodic force, dispatch and the job summary; see launch_api.hpp.
#include "server/launch_api.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "api/job_summary.hpp"
#include "api/json_reply.hpp"
#include "jobspec/periodic_schedule.hpp"
#include "runner/dispatch.hpp"
#include "server/api_support.hpp"
#include "server/leader_election.hpp"
#include "state/alloc.hpp"
#include "state/job_key.hpp"
#include "upstream/etcd_client.hpp"
#include "upstream/etcd_txn.hpp"

namespace drover::server {

using api::reply_error;
using api::reply_json;
using nlohmann::json;

namespace {

// The job the path names, as stored, read from `st`; or replies 404 (or 500 when unreadable).
struct Found {
  const JobRecord* rec;
  jobspec::Job job;
};
std::optional<Found> find_job(const ClusterState& st, const httplib::Request& req,
                              httplib::Response& res) {
  const state::JobKey key{ns_of(req), req.matches[1]};
  auto it = st.jobs.find(key.ns + "/" + key.id);
  if (it == st.jobs.end()) {
    reply_error(res, 404, state::describe(key) + " not found");
    return std::nullopt;
  }
  try {
    return Found{&it->second, jobspec::job_from_json(*it->second.job.parsed())};
  } catch (const std::exception& e) {
    reply_error(res, 500, state::describe(key) + " cannot be read: " + e.what());
    return std::nullopt;
  }
}

// Writes a new job (new_job_writes) if this server still leads and no job has its id: the
// etcd revision it was written at (Nomad's create index). Errors: Conflict (the id is taken),
// Internal (etcd failed, or the leadership moved meanwhile).
Result<int64_t> commit_new_job(const ServerApiContext& ctx, const NewJobWrites& w) {
  json compare = json::array({upstream::txn::value_is(ctx.keys.leader(), ctx.election->me()),
                              upstream::txn::absent(w.job_key)});
  json success = json::array();
  for (const auto& [k, v] : w.puts) success.push_back(upstream::txn::put(k, v));
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.txn({{"compare", compare}, {"success", success}});
  if (!r) return r.error();
  if (!r.value().value("succeeded", false)) {
    auto now = etcd.get(w.job_key);
    if (now && now.value()) return make_error("the job already exists", Errc::Conflict);
    return make_error("this server stopped leading the cluster; try again", Errc::Internal);
  }
  const json rev = r.value().value("header", json::object()).value("revision", json("0"));
  return rev.is_string() ? std::stoll(rev.get<std::string>()) : rev.get<int64_t>();
}

void force_periodic(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto st = read_state(ctx);
  if (!st) return reply_error(res, 503, st.message());
  auto parent = find_job(*st.value(), req, res);
  if (!parent) return;
  if (auto ok = jobspec::can_force_periodic(parent->job, parent->rec->value("Stop", false)); !ok)
    return reply_error(res, ok.error());
  const int64_t now = state::now_ns();
  auto child = jobspec::periodic_child(parent->job, now / 1000000000);
  auto writes = new_job_writes(ctx.keys, child, "periodic-job", now);
  auto index = commit_new_job(ctx, writes);
  if (!index && index.code() == Errc::Conflict)
    return reply_error(res, 409, "job \"" + child.id + "\" was already launched this second");
  if (!index) return reply_error(res, index.error());
  spdlog::info("server: launched {} (forced)", child.id);
  if (ctx.wake_scheduler) ctx.wake_scheduler();
  reply_json(res, {{"EvalID", writes.eval_id},
                   {"EvalCreateIndex", *index},
                   {"Index", *index},
                   {"JobID", child.id}});
}

void dispatch(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto request = runner::dispatch_request_from_json(
      json::parse(req.body.empty() ? "{}" : req.body, nullptr, false));
  if (!request) return reply_error(res, request.error());
  auto st = read_state(ctx);
  if (!st) return reply_error(res, 503, st.message());
  auto parent = find_job(*st.value(), req, res);
  if (!parent) return;
  if (auto ok = runner::check_dispatch(parent->job, parent->rec->value("Stop", false), *request);
      !ok)
    return reply_error(res, ok.error());
  const std::string jk = parent->job.namespace_name + "/" + parent->job.id;
  if (!request->idempotency_token.empty()) {
    // A retried request: the child its token made before, not a second one (Nomad's rule).
    const std::string prefix = jk + "/dispatch-";
    for (auto it = (*st)->jobs.lower_bound(prefix);
         it != (*st)->jobs.end() && it->first.rfind(prefix, 0) == 0; ++it)
      if (it->second.value("DispatchIdempotencyToken", "") == request->idempotency_token)
        return reply_json(res, {{"DispatchedJobID", it->second.value("ID", "")},
                                {"EvalID", ""},
                                {"EvalCreateIndex", 0},
                                {"JobCreateIndex", 0},
                                {"Index", 0}});
  }
  auto child = runner::new_dispatch_child(parent->job, *request);
  json extra = json::object();
  if (!request->idempotency_token.empty())
    extra["DispatchIdempotencyToken"] = request->idempotency_token;
  auto writes = new_job_writes(ctx.keys, child, "job-register", state::now_ns(), extra);
  auto index = commit_new_job(ctx, writes);
  if (!index) return reply_error(res, index.error());
  spdlog::info("server: job {}: dispatched {}", jk, child.id);
  if (ctx.wake_scheduler) ctx.wake_scheduler();
  // Answered now, as Nomad's dispatch is; a client follows the evaluation.
  reply_json(res, {{"DispatchedJobID", child.id},
                   {"EvalID", writes.eval_id},
                   {"EvalCreateIndex", *index},
                   {"JobCreateIndex", *index},
                   {"Index", *index}});
}

// Nomad's job summary: each group's allocs by client status, and a parent's children by
// status (Children: Pending, Running, Dead).
json job_summary(const ClusterState& st, const std::string& ns, const jobspec::Job& job) {
  const std::string jk = ns + "/" + job.id;
  api::SummaryInput in{job.id, ns, {}, {}, {}};
  for (const auto& g : job.groups) in.groups.push_back(g.name);
  for (const auto& [id, a] : st.allocs)
    if (a.job_key() == jk) in.allocs.emplace_back(a.group(), a.client_status());
  const std::string prefix = jk + "/";
  for (auto it = st.jobs.lower_bound(prefix); it != st.jobs.end() && it->first.rfind(prefix, 0) == 0; ++it)
    if (it->second.job.summary().parent_id == job.id) in.children.push_back(job_status(st, it->first, it->second));
  return api::job_summary_json(in);
}

}  // namespace

void register_launch_routes(ServerApiContext& ctx, httplib::Server& s) {
  auto force = leader_only(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    force_periodic(ctx, req, res);
  });
  post_and_put(s, R"(/v1/job/(.+)/periodic/force)", force);
  auto dispatched = leader_only(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    dispatch(ctx, req, res);
  });
  post_and_put(s, R"(/v1/job/(.+)/dispatch)", dispatched);
  s.Get(R"(/v1/job/(.+)/summary)",
        with_state(ctx, [](const ClusterState& st, const httplib::Request& req,
                           httplib::Response& res) {
          auto found = find_job(st, req, res);
          if (found) reply_json(res, job_summary(st, ns_of(req), found->job));
        }));
}

}  // namespace drover::server
