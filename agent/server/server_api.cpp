// The server's HTTP API; see server_api.hpp.
#include "server/server_api.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "api/agent_self.hpp"
#include "api/job_actions_endpoint.hpp"
#include "api/json_reply.hpp"
#include "api/namespace_query.hpp"
#include "api/namespaces_list.hpp"
#include "api/request_authz.hpp"
#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"
#include "jobspec/parse.hpp"
#include "jobspec/scaling.hpp"
#include "jobspec/submission.hpp"
#include "server/api_support.hpp"
#include "server/cluster_state.hpp"
#include "server/deployment.hpp"
#include "server/job_changes.hpp"
#include "server/job_plan.hpp"
#include "server/leader_election.hpp"
#include "server/node_records.hpp"
#include "server/periodic_launches.hpp"
#include "server/write_batcher.hpp"
#include "state/alloc.hpp"
#include "state/job_key.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using api::namespace_matches;
using api::namespace_query;
using api::reply_error;
using api::reply_json;
using nlohmann::json;

namespace {

// The lists that take ?namespace=* (every namespace), as Nomad's, and the event stream.
bool lists_namespaces(const httplib::Request& req) {
  return req.method == "GET" && (req.path == "/v1/jobs" || req.path == "/v1/allocations" ||
                                 req.path == "/v1/event/stream");
}

// `j` with the status the alloc's node reported laid over it: ClientStatus, and each of
// `keys` the status holds (a ClientDescription only when the server did not mark the alloc
// lost or unknown: its mark keeps its own), and the later ModifyTime.
void lay_status_over(json& j, const AllocView& a, const std::vector<const char*>& keys) {
  j["ClientStatus"] = a.client_status();
  const bool marked = a.alloc.contains("ClientStatus");
  if (!a.status.is_object()) return;
  for (const char* k : keys)
    if (a.status.contains(k) && !(marked && std::string_view(k) == "ClientDescription")) j[k] = a.status[k];
  int64_t mt = a.status.value("ModifyTime", int64_t{0});
  if (mt > j.value("ModifyTime", int64_t{0})) j["ModifyTime"] = mt;
}

// The alloc as Nomad's API shows it: what the server placed, with the status its node
// reported (ClientStatus, TaskStates, DeploymentStatus, NetworkStatus).
json alloc_json(const AllocView& a, bool with_job) {
  json j = a.value(with_job);
  lay_status_over(j, a, {"ClientDescription", "TaskStates", "DeploymentStatus", "AllocatedResources", "NetworkStatus"});
  if (!j.contains("TaskStates")) j["TaskStates"] = json::object();
  return j;
}

// Nomad's AllocationListStub, what the lists show of each alloc (GET /v1/allocations and
// /v1/job/:id/allocations): no placement Metrics, Resources or NetworkStatus, which the one
// alloc's read has; AllocatedResources with ?resources=true, TaskStates unless
// ?task_states=false. drover adds PreviousAllocation and DeploymentID, which its CLI follows.
json alloc_stub_json(const AllocView& a, const httplib::Request& req) {
  static const char* const kStubKeys[] = {
      "ID",           "EvalID",           "Name",          "Namespace",          "NodeID",
      "NodeName",     "JobID",            "JobVersion",    "TaskGroup",          "DesiredStatus",
      "DesiredDescription", "DesiredTransition", "FollowupEvalID", "NextAllocation", "PreviousAllocation",
      "DeploymentID", "RescheduleTracker", "PreemptedAllocations", "PreemptedByAllocation",
      "CreateIndex",  "ModifyIndex",      "CreateTime",    "ModifyTime",         "ClientDescription"};
  const bool task_states = req.get_param_value("task_states") != "false";
  json j = json::object();
  for (const char* k : kStubKeys)
    if (auto it = a.alloc.find(k); it != a.alloc.end()) j[k] = *it;
  j["JobType"] = a.job ? a.job.summary().type : "service";
  std::vector<const char*> status_keys = {"ClientDescription", "DeploymentStatus"};
  if (task_states) status_keys.push_back("TaskStates");
  if (req.get_param_value("resources") == "true") status_keys.push_back("AllocatedResources");
  lay_status_over(j, a, status_keys);
  if (task_states && !j.contains("TaskStates")) j["TaskStates"] = json::object();
  return j;
}

json job_json(const ClusterState& st, const std::string& jk, const JobRecord& rec) {
  json j = *rec.job.parsed();
  j["Version"] = rec.value("Version", 0);
  j["Stop"] = rec.value("Stop", false);
  j["SubmitTime"] = rec.value("SubmitTime", int64_t{0});
  j["Stable"] = rec.value("Stable", false);  // its deployment succeeded
  j["Status"] = job_status(st, jk, rec);
  // The current version's tag, as Nomad's job shows it (server/version_tags.hpp).
  if (auto vs = st.job_versions.find(jk); vs != st.job_versions.end())
    if (auto v = vs->second.find(rec.value("Version", 0)); v != vs->second.end())
      if (auto tag = v->second.value("VersionTag", json()); !tag.is_null()) j["VersionTag"] = tag;
  if (auto index = st.job_modify_index.find(jk); index != st.job_modify_index.end())
    j["JobModifyIndex"] = index->second;
  if (auto next = next_periodic_launch(st, jk, state::now_ns() / 1000000000))
    j["NextPeriodicLaunch"] = *next * 1000000000LL;
  return j;
}

// Resolves an id or a unique prefix of one among `ids`.
template <typename Map>
Result<std::string> resolve(const Map& m, const std::string& id, const char* what) {
  if (m.count(id)) return id;
  std::string found;
  int n = 0;
  for (auto it = m.lower_bound(id); it != m.end() && it->first.rfind(id, 0) == 0; ++it) {
    found = it->first;
    ++n;
  }
  if (n == 1) return found;
  if (n > 1)
    return make_error(std::string(what) + " prefix \"" + id + "\" matches " + std::to_string(n),
                      Errc::Ambiguous);
  return make_error(std::string(what) + " \"" + id + "\" not found", Errc::NotFound);
}

json problem_list(const std::vector<jobspec::Problem>& problems) {
  json list = json::array();
  for (const auto& p : problems) list.push_back({{"path", p.path}, {"message", p.message}});
  return list;
}

// Writes `job_doc` (jobspec::to_json of `job`) as the job's next version with an evaluation
// of `trigger`, and answers as Nomad's register does: the evaluation's id. The
// version is bumped only when the spec changed or the job was stopped (Nomad's rule).
// With `guard_revision`, written only if the job key has not changed since that revision
// (`job run -check-index`, checked against the state read then); a 409 otherwise.
// A scaling event to record with the version (`job scale`): its group and the event, whose
// EvalID is the new evaluation's.
using GroupEvent = std::optional<std::pair<std::string, json>>;

void store_job_version(ServerApiContext& ctx, httplib::Response& res, const jobspec::Job& job,
                       const json& job_doc, const std::string& trigger,
                       const std::string& warnings, int64_t guard_revision = 0,
                       const json& submission = nullptr, const GroupEvent& scaling = std::nullopt) {
  const std::string ns = job.namespace_name;
  const std::string job_key = ctx.keys.job(ns, job.id);
  // Written on the assumption that the job key is as last seen (first: absent, a new job);
  // when it is not, the answer holds the key as it is, the version is worked out from it and
  // the write goes again. So a new job costs etcd a share of one request (registrations at
  // the same time go together: write_batcher.hpp), and two registrations of one job never
  // write the same version.
  GuardedWriteBatcher alone(ctx.etcd);
  GuardedWriteBatcher& writes = ctx.writes ? *ctx.writes : alone;
  std::optional<std::string> current;
  int64_t seen_mod = 0;
  int version = 0;
  json eval;
  for (int attempt = 0;; ++attempt) {
    if (attempt == 8)
      return reply_error(res, 409, "job \"" + job.id + "\" kept changing while it was registered");
    version = 0;
    json events;  // the job's scaling events go on from version to version
    if (current) {
      json old = json::parse(*current, nullptr, false);
      if (old.is_object()) {
        version = old.value("Version", 0);
        if (old["Job"] != job_doc || old.value("Stop", false)) ++version;
        events = old.value("ScalingEvents", json());
      }
    }
    json rec = {{"ID", job.id},
                {"Namespace", ns},
                {"Version", version},
                {"Stop", false},
                {"SubmitTime", state::now_ns()},
                {"Job", job_doc}};
    // The source this version was run from, for GET /v1/job/:id/submission (none: scale,
    // revert).
    if (!submission.is_null()) rec["Submission"] = submission;
    eval = new_eval(job, ns, trigger, version);
    if (scaling) {
      json e = scaling->second;
      e["EvalID"] = eval["ID"];
      jobspec::add_scaling_event(events, scaling->first, std::move(e));
    }
    if (events.is_object()) rec["ScalingEvents"] = events;
    const std::string rec_text = json_text(rec);
    auto r = writes.write({job_key,
                           seen_mod,
                           {{job_key, rec_text},
                            {ctx.keys.job_version(ns, job.id, version), rec_text},
                            {ctx.keys.eval(eval["ID"]), json_text(eval)}}});
    if (!r) return reply_error(res, 503, r.message());
    if (r.value().written) break;
    current = r.value().current;
    seen_mod = r.value().current_mod;
    // `job run -check-index`: the job must not have changed since the state it was checked
    // against.
    if (guard_revision > 0 && seen_mod > guard_revision)
      return reply_error(res, 409,
                         "job \"" + job.id + "\" changed while it was registered with "
                         "-check-index: plan it again");
  }
  if (ctx.wake_scheduler) ctx.wake_scheduler();
  spdlog::debug("server: job {}/{} version {} written, evaluation {} ({})", ns, job.id, version,
                eval["ID"].get<std::string>(), trigger);
  // Answered now, as Nomad's register is: the leader evaluates it on its own time, many jobs
  // in one pass; a client follows the evaluation (GET /v1/evaluation/:id, the CLI's
  // eval_monitor.hpp).
  reply_json(res, {{"EvalID", eval["ID"]},
                   {"EvalCreateIndex", version},
                   {"JobID", job.id},
                   {"JobModifyIndex", version},
                   {"Namespace", ns},
                   {"Warnings", warnings}});
}

// A change made from the stored job (scale, revert): `change` gets the current record and
// every version, and returns the spec of the next version.
void change_job(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                const std::string& trigger,
                const std::function<Result<json>(const json& current,
                                                 const std::map<int, json>& versions)>& change,
                const GroupEvent& scaling = std::nullopt) {
  const std::string ns = ns_of(req), id = req.matches[1];
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.job_versions(ns, id));
  if (!r) return reply_error(res, 503, r.message());
  auto current = etcd.get(ctx.keys.job(ns, id));
  if (!current) return reply_error(res, 503, current.message());
  if (!current.value()) return reply_error(res, 404, state::describe({ns, id}) + " not found");
  json rec = json::parse(*current.value(), nullptr, false);
  if (!rec.is_object() || !rec.contains("Job"))
    return reply_error(res, 500, state::describe({ns, id}) + ": unreadable record");
  std::map<int, json> versions;
  for (const auto& kv : r.value().kvs) {
    json v = json::parse(kv.value, nullptr, false);
    if (!v.is_object()) continue;
    // The version first: nlohmann's operator= takes its argument by value, and C++17 builds
    // the right side of `=` before the left: v would be moved from before it is read.
    const int version = v.value("Version", 0);
    versions[version] = std::move(v);
  }
  auto next = change(rec, versions);
  if (!next) return reply_error(res, next.error());
  jobspec::Job job;
  try {
    job = jobspec::job_from_json(next.value());
  } catch (const std::exception& e) {
    return reply_error(res, 500, state::describe({ns, id}) + ": " + e.what());
  }
  job.namespace_name = ns;
  store_job_version(ctx, res, job, jobspec::to_json(job), trigger, "", 0, nullptr, scaling);
}

// The job's stored record and its spec, or replies why not (404, or 503/500).
std::optional<std::pair<json, jobspec::Job>> stored_job(ServerApiContext& ctx,
                                                        upstream::EtcdClient& etcd,
                                                        const std::string& ns,
                                                        const std::string& id,
                                                        httplib::Response& res) {
  auto current = etcd.get(ctx.keys.job(ns, id));
  if (!current) {
    reply_error(res, 503, current.message());
    return std::nullopt;
  }
  if (!current.value()) {
    reply_error(res, 404, state::describe({ns, id}) + " not found");
    return std::nullopt;
  }
  json rec = json::parse(*current.value(), nullptr, false);
  if (!rec.is_object()) {
    reply_error(res, 500, "job \"" + id + "\": unreadable record");
    return std::nullopt;
  }
  try {
    auto job = jobspec::job_from_json(rec["Job"]);
    return std::make_pair(std::move(rec), std::move(job));
  } catch (const std::exception& e) {
    reply_error(res, 500, "job \"" + id + "\": " + e.what());
    return std::nullopt;
  }
}

// Whether a deployment of the job is running or paused (Nomad blocks scaling then).
Result<bool> has_active_deployment(const ServerApiContext& ctx, const std::string& ns,
                                   const std::string& id) {
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.deployments());
  if (!r) return r.error();
  for (const auto& kv : r.value().kvs) {
    json d = json::parse(kv.value, nullptr, false);
    if (d.is_object() && d.value("JobID", "") == id && d.value("Namespace", "default") == ns &&
        deployment_active(d))
      return true;
  }
  return false;
}

// A scaling event without a new count: added to the job's record, guarded by the record as
// read (a registration meanwhile is read again and the event added to it).
void record_scaling_event(ServerApiContext& ctx, httplib::Response& res, const std::string& ns,
                          const std::string& id, const std::string& group, const json& event) {
  const std::string key = ctx.keys.job(ns, id);
  GuardedWriteBatcher alone(ctx.etcd);
  GuardedWriteBatcher& writes = ctx.writes ? *ctx.writes : alone;
  upstream::EtcdClient etcd(ctx.etcd);
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto r = etcd.range_prefix(key);  // the exact key below, with its mod revision
    if (!r) return reply_error(res, 503, r.message());
    const upstream::EtcdKv* kv = nullptr;
    for (const auto& k : r.value().kvs)
      if (k.key == key) kv = &k;
    if (!kv) return reply_error(res, 404, state::describe({ns, id}) + " not found");
    json rec = json::parse(kv->value, nullptr, false);
    if (!rec.is_object()) return reply_error(res, 500, "job \"" + id + "\": unreadable record");
    json events = rec.value("ScalingEvents", json());
    jobspec::add_scaling_event(events, group, event);
    rec["ScalingEvents"] = events;
    auto w = writes.write({key, kv->mod_revision, {{key, json_text(rec)}}});
    if (!w) return reply_error(res, 503, w.message());
    if (w.value().written)
      return reply_json(res, {{"EvalID", ""}, {"EvalCreateIndex", 0},
                              {"JobModifyIndex", rec.value("Version", 0)}, {"Index", 0},
                              {"Warnings", ""}});
  }
  reply_error(res, 409, "job \"" + id + "\" kept changing while its scaling event was recorded");
}

void scale_job(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto body = body_object(req, res);
  if (!body) return;
  auto request = jobspec::scale_request_from_json(*body);
  if (!request) return reply_error(res, request.error());
  const std::string ns = ns_of(req), id = req.matches[1];
  upstream::EtcdClient etcd(ctx.etcd);
  auto stored = stored_job(ctx, etcd, ns, id, res);
  if (!stored) return;
  auto target = jobspec::scale_target(stored->first["Job"], request->group);
  if (!target) return reply_error(res, target.error());
  const auto& [group, previous] = target.value();
  json event = jobspec::scaling_event(*request, previous, state::now_ns(), "");
  if (!request->count) return record_scaling_event(ctx, res, ns, id, group, event);
  auto active = has_active_deployment(ctx, ns, id);
  if (!active) return reply_error(res, 503, active.message());
  if (active.value()) return reply_error(res, 400, "job scaling blocked due to active deployment");
  change_job(
      ctx, req, res, "job-scaling",
      [&](const json& rec, const std::map<int, json>&) {
        return jobspec::scaled_job(rec["Job"], request->group, *request->count);
      },
      std::make_pair(group, event));
}

void revert_job(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto body = body_object(req, res);
  if (!body) return;
  const json to = body->value("JobVersion", json());
  if (!to.is_number_integer() || to.get<int64_t>() < 0)
    return reply_error(res, 400, "JobVersion: must be the version to revert to (0 or more)");
  std::optional<int> prior;
  if (body->contains("EnforcePriorVersion") && !(*body)["EnforcePriorVersion"].is_null()) {
    if (!(*body)["EnforcePriorVersion"].is_number_integer())
      return reply_error(res, 400, "EnforcePriorVersion: must be a version number");
    prior = (*body)["EnforcePriorVersion"].get<int>();
  }
  change_job(ctx, req, res, "job-register",
             [&](const json& rec, const std::map<int, json>& versions) {
               return reverted_job(versions, rec.value("Version", 0), to.get<int>(), prior);
             });
}

// Nomad's GET /v1/job/:id/scale: each group's desired count and what runs of it.
json scale_status(const ClusterState& st, const std::string& jk, const JobRecord& rec) {
  std::vector<jobspec::ScaleStatusAlloc> allocs;
  for (const auto& [id, a] : st.allocs) {
    if (a.job_key() != jk || a.desired() != "run") continue;
    jobspec::ScaleStatusAlloc s{a.group(), a.client_status() == "running", std::nullopt};
    auto health = a.status.is_object() ? a.status.value("DeploymentStatus", json::object())
                                       : json::object();
    if (health.contains("Healthy") && health["Healthy"].is_boolean())
      s.healthy = health["Healthy"].get<bool>();
    allocs.push_back(std::move(s));
  }
  json out = jobspec::scale_status(*rec.job.parsed(), rec.value("Namespace", kDefaultNamespace),
                                   rec.version(), rec.stopped(), allocs,
                                   rec.value("ScalingEvents", json()));
  out["JobID"] = rec.value("ID", "");
  return out;
}

// The submitted job (YAML, Nomad JSON or HCL, as the agent reads them) in the namespace the
// request puts it, or a 400 with the problems; `warnings` says when ?namespace= replaced the
// job's own (Nomad's order, command/agent/job_endpoint.go namespaceForJob: the query wins).
std::optional<jobspec::Job> submitted_job(const httplib::Request& req, httplib::Response& res,
                                          std::string_view body, std::string& warnings) {
  auto parsed = jobspec::parse_job(body);
  if (!parsed.problems.empty()) {
    std::size_t n = parsed.problems.size();
    reply_error(res, 400,
                "job is invalid (" + std::to_string(n) + " problem" + (n == 1 ? "" : "s") +
                    "): " + jobspec::format_problems(parsed.problems),
                {{"problems", problem_list(parsed.problems)}});
    return std::nullopt;
  }
  auto job = *parsed.job;
  if (req.has_param("namespace") && ns_of(req) != job.namespace_name) {
    if (job.namespace_name != kDefaultNamespace)
      warnings = "the job's namespace \"" + job.namespace_name +
                 "\" was replaced by the request's ?namespace=" + ns_of(req) +
                 " (the query wins, as in Nomad)";
    job.namespace_name = ns_of(req);
  }
  // A token of ACL policies: submit-job in the namespace the job goes to, and its host volumes
  // (api/request_authz.hpp).
  if (auto why = api::job_submit_refusal(job); !why.empty()) {
    reply_error(res, 403, why);
    return std::nullopt;
  }
  return job;
}

// Nomad's register: the job, and in a {"Job": ...} body EnforceIndex with JobModifyIndex
// (`job run -check-index`: 0 for a job that must not exist yet, else the job's index).
void register_job(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto split = jobspec::split_submission(req.body);
  if (!split) return reply_error(res, split.error());
  std::string body = split->body;
  std::optional<int64_t> enforce;
  json doc = json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("Job") &&
      (doc.contains("EnforceIndex") || doc.contains("JobModifyIndex"))) {
    const json on = doc.value("EnforceIndex", json(false));
    if (!on.is_boolean()) return reply_error(res, 400, "EnforceIndex: must be true or false");
    const json index = doc.value("JobModifyIndex", json(0));
    if (!index.is_number_integer() || index.get<int64_t>() < 0)
      return reply_error(res, 400, "JobModifyIndex: must be a job modify index (0 or more)");
    if (on.get<bool>()) enforce = index.get<int64_t>();
    doc.erase("EnforceIndex");
    doc.erase("JobModifyIndex");
    body = doc.dump();
  }
  std::string warnings;
  auto job = submitted_job(req, res, body, warnings);
  if (!job) return;
  int64_t guard = 0;
  if (enforce) {
    auto st = read_state(ctx);
    if (!st) return reply_error(res, 503, st.message());
    auto problem =
        enforce_index_problem(*st.value(), job->namespace_name + "/" + job->id, *enforce);
    if (!problem.empty()) return reply_error(res, 409, problem);
    guard = st.value()->revision;
  }
  store_job_version(ctx, res, *job, jobspec::to_json(*job), "job-register", warnings, guard,
                    split->submission);
}

// Nomad's GET /v1/job/:id/submission (?version=, default the current one): the source that
// version was run from, 404 when it kept none.
void job_submission(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string ns = ns_of(req), id = req.matches[1];
  std::string key = ctx.keys.job(ns, id);
  if (req.has_param("version")) {
    const std::string v = req.get_param_value("version");
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
      return reply_error(res, 400, "version: must be a job version (0 or more)");
    key = ctx.keys.job_version(ns, id, std::stoi(v));
  }
  upstream::EtcdClient etcd(ctx.etcd);
  auto got = etcd.get(key);
  if (!got) return reply_error(res, 503, got.message());
  if (!got.value()) return reply_error(res, 404, state::describe({ns, id}) + " not found");
  json rec = json::parse(*got.value(), nullptr, false);
  if (!rec.is_object() || !rec.value("Submission", json()).is_object())
    return reply_error(res, 404, state::describe({ns, id}) + " has no submitted source kept");
  reply_json(res, jobspec::submission_reply(rec["Submission"], ns, id, rec.value("Version", 0)));
}

// Nomad's POST /v1/job/:id/plan: {"Job": {...}, "Diff": true}; drover also takes the job as
// the agent reads it (YAML, HCL). Read-only: any server answers from etcd.
void plan_job_route(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  std::string body = req.body;
  json doc = json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("Job")) body = json{{"Job", doc["Job"]}}.dump();
  std::string warnings;
  auto job = submitted_job(req, res, body, warnings);
  if (!job) return;
  if (job->id != std::string(req.matches[1]))
    return reply_error(res, 400,
                       "Job ID: the job is \"" + job->id + "\", the path names \"" +
                           std::string(req.matches[1]) + "\"");
  auto st = read_state(ctx);
  if (!st) return reply_error(res, 503, st.message());
  json out = plan_job(*st.value(), ctx.keys, *job, state::now_ns());
  out["Warnings"] = warnings;
  if (doc.is_object() && !doc.value("Diff", true)) out["Diff"] = nullptr;
  reply_json(res, out);
}

// Nomad's `job eval`: {"JobID", "EvalOptions": {"ForceReschedule": bool}} writes a new pending
// evaluation of the job as stored, which the leader takes up in its next pass as any other
// (docs/cluster.md, "Evaluations").
void evaluate_job(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto body = body_object(req, res);
  if (!body) return;
  const json options = body->value("EvalOptions", json::object());
  if (!options.is_object() && !options.is_null())
    return reply_error(res, 400, "EvalOptions: must be an object");
  bool force = false;
  if (options.is_object() && options.contains("ForceReschedule")) {
    if (!options["ForceReschedule"].is_boolean())
      return reply_error(res, 400, "EvalOptions.ForceReschedule: must be true or false");
    force = options["ForceReschedule"].get<bool>();
  }
  const std::string ns = ns_of(req), id = req.matches[1];
  if (body->contains("JobID") && body->value("JobID", json()) != json(id))
    return reply_error(res, 400, "JobID: the body names another job than the path");
  upstream::EtcdClient etcd(ctx.etcd);
  auto stored = stored_job(ctx, etcd, ns, id, res);
  if (!stored) return;
  auto& [rec, job] = *stored;
  // Nomad's refusals: such a job places nothing itself, its children do.
  if (job.periodic) return reply_error(res, 400, "can't evaluate periodic job");
  if (job.parameterized && !job.dispatched)
    return reply_error(res, 400, "can't evaluate parameterized job");
  const int version = rec.value("Version", 0);
  json eval = new_eval(job, ns, "job-register", version);
  if (force) eval["ForceReschedule"] = true;
  if (auto s = etcd.put(ctx.keys.eval(eval["ID"]), json_text(eval)); !s)
    return reply_error(res, 503, s.message());
  if (ctx.wake_scheduler) ctx.wake_scheduler();
  reply_json(res, {{"EvalID", eval["ID"]},
                   {"EvalCreateIndex", version},
                   {"JobModifyIndex", version}});
}

void deregister_job(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto purge = req.get_param_value("purge");
  if (!purge.empty() && purge != "true" && purge != "false")
    return reply_error(res, 400, "purge: must be true or false, not \"" + purge + "\"");
  const std::string ns = ns_of(req), id = req.matches[1];
  upstream::EtcdClient etcd(ctx.etcd);
  auto stored = stored_job(ctx, etcd, ns, id, res);
  if (!stored) return;
  auto& [rec, job] = *stored;
  json eval = new_eval(job, ns, "job-deregister", rec.value("Version", 0));
  if (purge == "true") {
    // The allocs of a job whose key is gone are stopped by the leader's next pass.
    if (auto s = etcd.delete_key(ctx.keys.job(ns, id)); !s)
      return reply_error(res, 503, s.message());
    eval["Status"] = "complete";
    if (auto s = etcd.put(ctx.keys.eval(eval["ID"]), json_text(eval)); !s)
      return reply_error(res, 503, s.message());
  } else {
    rec["Stop"] = true;
    rec["Version"] = rec.value("Version", 0) + 1;
    auto s = etcd.put_all({{ctx.keys.job(ns, id), json_text(rec)},
                           {ctx.keys.job_version(ns, id, rec["Version"]), json_text(rec)},
                           {ctx.keys.eval(eval["ID"]), json_text(eval)}});
    if (!s) return reply_error(res, 503, s.message());
  }
  if (ctx.wake_scheduler) ctx.wake_scheduler();
  reply_json(res, {{"EvalID", eval["ID"]}, {"JobModifyIndex", rec.value("Version", 0)}});
}

}  // namespace

json job_stub(const ClusterState& st, const std::string& jk, const JobRecord& rec) {
  const std::string id = rec.value("ID", "");
  const auto& j = rec.job.summary();  // a list parses no job (job_doc.hpp)
  return {{"ID", id},
          {"Namespace", rec.value("Namespace", "default")},
          {"ParentID", j.parent_id},
          {"Periodic", j.periodic},
          {"ParameterizedJob", j.parameterized},
          {"Name", j.name.empty() ? id : j.name},
          {"Type", j.is_object ? j.type : ""},
          {"Priority", j.priority},
          {"Status", job_status(st, jk, rec)},
          {"Stop", rec.value("Stop", false)},
          {"Version", rec.value("Version", 0)},
          {"SubmitTime", rec.value("SubmitTime", int64_t{0})}};
}

json node_stub(const json& n) {
  return {{"ID", n.value("ID", "")},
          {"Name", n.value("Name", "")},
          {"Datacenter", n.value("Datacenter", "")},
          {"NodeClass", n.value("NodeClass", "")},
          {"NodePool", n.value("NodePool", "default")},
          {"Address", n.value("HTTPAddr", "")},
          {"HTTPAddr", n.value("HTTPAddr", "")},
          {"Status", n.value("Status", "ready")},
          {"SchedulingEligibility", n.value("SchedulingEligibility", "eligible")},
          {"Drain", n.value("Drain", false)},
          {"Drivers", n.value("Drivers", json::object())}};
}

bool refuse_bad_namespace(const httplib::Request& req, httplib::Response& res) {
  if (!req.has_param("namespace")) return false;
  auto ns = namespace_query(req.get_param_value("namespace"), lists_namespaces(req));
  if (ns) return false;
  reply_error(res, ns.error());
  return true;
}

void register_server_routes(ServerApiContext& ctx, httplib::Server& s) {
  s.Get("/v1/agent/health", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, {{"server", {{"ok", true}, {"message", "ok"}}}});
  });
  s.Get("/v1/status/leader", [&ctx](const httplib::Request&, httplib::Response& res) {
    std::string addr = leader_addr(ctx);
    if (addr.rfind("http://", 0) == 0) addr = addr.substr(7);
    if (addr.rfind("https://", 0) == 0) addr = addr.substr(8);
    reply_json(res, addr);  // Nomad answers "" when there is no leader
  });
  s.Get("/v1/agent/members", with_state(ctx, [&ctx](const ClusterState& st, const httplib::Request&,
                                                    httplib::Response& res) {
          json leader = json::parse(st.leader_value, nullptr, false);
          std::string leader_name = leader.is_object() ? leader.value("Name", "") : "";
          json members = json::array();
          for (const auto& [name, m] : st.servers) {
            json j = m;
            j["Status"] = "alive";
            j["Tags"]["role"] = "drover-server";
            j["Tags"]["leader"] = name == leader_name ? "true" : "false";
            members.push_back(j);
          }
          reply_json(res,
                     {{"ServerName", ctx.name}, {"ServerRegion", "global"}, {"Members", members}});
        }));
  s.Get("/v1/agent/self", [&ctx](const httplib::Request&, httplib::Response& res) {
    reply_json(
        res, {{"config", {{"Server", {{"Enabled", true}}}, {"NodeName", ctx.name}}},
              {"member", {{"Name", ctx.name}, {"Addr", ctx.http_addr}}},
              {"stats",
               {{"nomad",
                 {{"server", "true"}, {"leader", ctx.election->is_leader() ? "true" : "false"}}},
                {"runtime", api::runtime_stats()}}}});
  });

  auto reg = leader_only(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    register_job(ctx, req, res);
  });
  post_and_put(s, "/v1/jobs", reg);
  s.Get("/v1/jobs", with_state(ctx, [](const ClusterState& st, const httplib::Request& req,
                                       httplib::Response& res) {
          auto prefix = req.get_param_value("prefix");
          const std::string ns = ns_of(req);
          json out = json::array();
          for (const auto& [jk, rec] : st.jobs) {
            std::string id = rec.value("ID", "");
            if (!prefix.empty() && id.rfind(prefix, 0) != 0) continue;
            if (!namespace_matches(ns, rec.value("Namespace", kDefaultNamespace))) continue;
            out.push_back(job_stub(st, jk, rec));
          }
          reply_json(res, out);
        }));
  // Namespaces are those of the jobs (api/namespaces_list.hpp).
  auto namespaces_in_use = [](const ClusterState& st) {
    std::set<std::string> names;
    for (const auto& [jk, rec] : st.jobs) names.insert(rec.value("Namespace", kDefaultNamespace));
    return names;
  };
  s.Get("/v1/namespaces", with_state(ctx, [namespaces_in_use](const ClusterState& st,
                                                              const httplib::Request& req,
                                                              httplib::Response& res) {
          reply_json(res, api::namespace_list(namespaces_in_use(st), req.get_param_value("prefix")));
        }));
  s.Get(R"(/v1/namespace/([^/]+))",
        with_state(ctx, [namespaces_in_use](const ClusterState& st, const httplib::Request& req,
                                            httplib::Response& res) {
          const std::string name = req.matches[1];
          if (name != kDefaultNamespace && !namespaces_in_use(st).count(name))
            return reply_error(res, 404, "namespace \"" + name + "\" not found (no job is in it)");
          reply_json(res, api::namespace_object(name));
        }));
  auto job_rec = [](const ClusterState& st, const httplib::Request& req,
                    httplib::Response& res) -> const JobRecord* {
    auto it = st.jobs.find(ns_of(req) + "/" + std::string(req.matches[1]));
    if (it == st.jobs.end()) {
      reply_error(res, 404, state::describe({ns_of(req), req.matches[1]}) + " not found");
      return nullptr;
    }
    return &it->second;
  };
  s.Get(R"(/v1/job/(.+)/allocations)",
        with_state(ctx, [job_rec](const ClusterState& st, const httplib::Request& req,
                                  httplib::Response& res) {
          if (!job_rec(st, req, res)) return;
          std::string jk = ns_of(req) + "/" + std::string(req.matches[1]);
          json out = json::array();
          for (const auto& [id, a] : st.allocs)
            if (a.job_key() == jk) out.push_back(alloc_stub_json(a, req));
          reply_json(res, out);
        }));
  s.Get(R"(/v1/job/(.+)/actions)",
        with_state(ctx, [job_rec](const ClusterState& st, const httplib::Request& req,
                                  httplib::Response& res) {
          const JobRecord* rec = job_rec(st, req, res);
          if (!rec) return;
          reply_json(res, rec->job ? api::job_actions(*rec->job.parsed()) : json::array());
        }));
  s.Get(R"(/v1/job/(.+)/evaluations)",
        with_state(ctx, [job_rec](const ClusterState& st, const httplib::Request& req,
                                  httplib::Response& res) {
          if (!job_rec(st, req, res)) return;
          json out = json::array();
          for (const auto& [id, e] : st.evals)
            if (e.value("JobID", "") == std::string(req.matches[1]) &&
                e.value("Namespace", "default") == ns_of(req))
              out.push_back(e);
          reply_json(res, out);
        }));
  auto scale = leader_only(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    scale_job(ctx, req, res);
  });
  post_and_put(s, R"(/v1/job/(.+)/scale)", scale);
  s.Get(R"(/v1/job/(.+)/scale)",
        with_state(ctx, [job_rec](const ClusterState& st, const httplib::Request& req,
                                  httplib::Response& res) {
          const JobRecord* rec = job_rec(st, req, res);
          if (!rec) return;
          reply_json(res, scale_status(st, ns_of(req) + "/" + std::string(req.matches[1]), *rec));
        }));
  // Nomad's scaling policies: one per group with a scaling block (jobspec/scaling.hpp).
  // The jobs with their Jobs parsed (`held` keeps each alive while the list is made).
  auto stored_jobs = [](const ClusterState& st, const std::string& ns,
                        std::vector<std::shared_ptr<const json>>& held) {
    std::vector<jobspec::StoredJob> jobs;
    for (const auto& [jk, rec] : st.jobs)
      if (namespace_matches(ns, rec.value("Namespace", kDefaultNamespace)) && rec.job) {
        held.push_back(rec.job.parsed());
        jobs.push_back({held.back().get(), rec.value("Namespace", kDefaultNamespace),
                        rec.value("Version", uint64_t{0}), rec.stopped()});
      }
    return jobs;
  };
  s.Get("/v1/scaling/policies",
        with_state(ctx, [stored_jobs](const ClusterState& st, const httplib::Request& req,
                                      httplib::Response& res) {
          std::vector<std::shared_ptr<const json>> held;
          reply_json(res, jobspec::scaling_policy_list(stored_jobs(st, ns_of(req), held),
                                                       req.get_param_value("job"),
                                                       req.get_param_value("type")));
        }));
  s.Get(R"(/v1/scaling/policy/([^/]+))",
        with_state(ctx, [stored_jobs](const ClusterState& st, const httplib::Request& req,
                                      httplib::Response& res) {
          std::vector<std::shared_ptr<const json>> held;
          json p = jobspec::find_scaling_policy(stored_jobs(st, api::kAllNamespaces, held),
                                                std::string(req.matches[1]));
          if (p.is_null())
            return reply_error(res, 404, "scaling policy \"" + std::string(req.matches[1]) +
                                             "\" not found");
          reply_json(res, p);
        }));
  s.Get(R"(/v1/job/(.+)/submission)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    job_submission(ctx, req, res);
  });
  auto plan = [&ctx](const httplib::Request& req, httplib::Response& res) {
    plan_job_route(ctx, req, res);
  };
  post_and_put(s, R"(/v1/job/(.+)/plan)", plan);
  auto revert = leader_only(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    revert_job(ctx, req, res);
  });
  post_and_put(s, R"(/v1/job/(.+)/revert)", revert);
  post_and_put(s, R"(/v1/job/(.+)/evaluate)",
               [&ctx](const httplib::Request& req, httplib::Response& res) {
                 evaluate_job(ctx, req, res);
               });
  s.Get(R"(/v1/job/(.+)/versions)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    upstream::EtcdClient etcd(ctx.etcd);
    auto r = etcd.range_prefix(ctx.keys.job_versions(ns_of(req), req.matches[1]));
    if (!r) return reply_error(res, 503, r.message());
    json versions = json::array();
    std::map<int, json> specs;  // version -> the stored job, for ?diffs=true
    for (const auto& kv : r.value().kvs) {
      json rec = json::parse(kv.value, nullptr, false);
      if (!rec.is_object()) continue;
      json j = rec["Job"];
      specs[rec.value("Version", 0)] = j;
      j["Version"] = rec.value("Version", 0);
      j["Stop"] = rec.value("Stop", false);
      j["SubmitTime"] = rec.value("SubmitTime", int64_t{0});
      j["Stable"] = rec.value("Stable", false);
      if (rec.contains("VersionTag")) j["VersionTag"] = rec["VersionTag"];  // version_tags.hpp
      versions.push_back(j);
    }
    if (versions.empty())
      return reply_error(res, 404, "job \"" + std::string(req.matches[1]) + "\" not found");
    // Newest first, as Nomad lists them.
    std::sort(versions.begin(), versions.end(), [](const json& a, const json& b) {
      return a.value("Version", 0) > b.value("Version", 0);
    });
    // ?diffs=true: Nomad's Diffs, one per version but the oldest, against the one before it.
    json diffs = nullptr;
    if (req.get_param_value("diffs") == "true") {
      diffs = json::array();
      for (auto it = specs.rbegin(); std::next(it) != specs.rend(); ++it)
        diffs.push_back(job_diff(std::next(it)->second, it->second));
    }
    reply_json(res, {{"Versions", versions}, {"Diffs", diffs}});
  });
  s.Get(R"(/v1/job/(.+))",
        with_state(ctx, [job_rec](const ClusterState& st, const httplib::Request& req,
                                  httplib::Response& res) {
          const JobRecord* rec = job_rec(st, req, res);
          if (!rec) return;
          reply_json(res, job_json(st, ns_of(req) + "/" + std::string(req.matches[1]), *rec));
        }));
  s.Delete(R"(/v1/job/(.+))",
           leader_only(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
             deregister_job(ctx, req, res);
           }));

  s.Get("/v1/nodes", with_state(ctx, [](const ClusterState& st, const httplib::Request& req,
                                        httplib::Response& res) {
          // Live nodes and down ones (node_records.hpp), as Nomad lists both.
          auto prefix = req.get_param_value("prefix");
          json out = json::array();
          for (const auto& n : all_nodes(st))
            if (prefix.empty() || n.value("ID", "").rfind(prefix, 0) == 0)
              out.push_back(node_stub(n));
          reply_json(res, out);
        }));
  s.Get(R"(/v1/node/([^/]+)/allocations)",
        with_state(ctx, [](const ClusterState& st, const httplib::Request& req,
                           httplib::Response& res) {
          auto id = resolve_node(st, req.matches[1]);
          if (!id) return reply_error(res, id.error());
          json out = json::array();
          // A client token of ACL policies (node read) sees the allocs of the namespaces where
          // it holds read-job, as Nomad's endpoint filters them.
          const api::Acl* acl = api::request_acl();
          for (const auto& [aid, a] : st.allocs)
            if (a.node_id == id.value() &&
                (!acl || acl->allow_namespace(a.alloc.value("Namespace", std::string("default")),
                                              "read-job")))
              out.push_back(alloc_json(a, false));
          reply_json(res, out);
        }));
  // Nomad's purge: a down node forgotten now rather than at node GC. A live one is refused: its
  // key lives, and its agent would register it again.
  post_and_put(
      s, R"(/v1/node/([^/]+)/purge)",
      leader_only(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
        auto st = read_state(ctx);
        if (!st) return reply_error(res, 503, st.message());
        auto id = resolve_node(*st.value(), req.matches[1]);
        if (!id) return reply_error(res, id.error());
        auto down = st.value()->down_nodes.find(id.value());
        if (down == st.value()->down_nodes.end())
          return reply_error(res, 409,
                             "node " + id.value() +
                                 " is up (its agent holds its key): stop its agent first");
        upstream::EtcdClient etcd(ctx.etcd);
        auto done = purge_down_node(etcd, ctx.keys, id.value(), down->second.revision);
        if (!done) return reply_error(res, done.error());
        if (ctx.wake_scheduler) ctx.wake_scheduler();
        reply_json(res, {{"EvalIDs", json::array()},
                         {"EvalCreateIndex", 0},
                         {"NodeModifyIndex", done.value()}});
      }));
  // Eligibility and drain: the operator's control key for the node, written by the leader.
  auto control = [&ctx](const httplib::Request& req, httplib::Response& res, bool drain) {
    json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (!body.is_object()) return reply_error(res, 400, "body: must be a JSON object");
    auto st = read_state(ctx);
    if (!st) return reply_error(res, 503, st.message());
    auto id = resolve_node(*st.value(), req.matches[1]);
    if (!id) return reply_error(res, id.error());
    // A down node's eligibility may be set (it holds when the node is back); a drain needs the
    // node up to move its allocs.
    if (drain && st.value()->down_nodes.count(id.value()))
      return reply_error(res, 409, "node " + id.value() + " is down: there is nothing to drain");
    // What the operator set before (a drain's deadline, the last drain) carries over.
    auto known = st.value()->controls.find(id.value());
    json c = known != st.value()->controls.end() ? known->second
                                                 : json{{"Eligibility", "eligible"}, {"Drain", false}};
    if (drain) {
      // Nomad's {"DrainSpec": {"Deadline": ns, "IgnoreSystemJobs": b}} drains and makes the
      // node ineligible (Deadline 0: none, < 0: force at once); {"DrainSpec": null} ends the
      // drain, and with "MarkEligible": true makes it eligible again.
      const json spec = body.value("DrainSpec", json());
      if (!spec.is_null() && !spec.is_object())
        return reply_error(res, 400, "DrainSpec: must be an object or null");
      const bool on = spec.is_object();
      if (on) {
        const json deadline = spec.value("Deadline", json(0));
        if (!deadline.is_number_integer())
          return reply_error(res, 400, "DrainSpec.Deadline: must be an integer (nanoseconds)");
        const json ignore = spec.value("IgnoreSystemJobs", json(false));
        if (!ignore.is_boolean())
          return reply_error(res, 400, "DrainSpec.IgnoreSystemJobs: must be true or false");
        c["Deadline"] = deadline.get<int64_t>();
        c["IgnoreSystemJobs"] = ignore.get<bool>();
        c["StartedAt"] = state::now_ns();
      } else {
        for (const char* k : {"Deadline", "IgnoreSystemJobs", "StartedAt"}) c.erase(k);
      }
      c["Drain"] = on;
      c["Eligibility"] = !on && body.value("MarkEligible", false) ? "eligible" : "ineligible";
    } else {
      auto e = body.value("Eligibility", "");
      if (e != "eligible" && e != "ineligible")
        return reply_error(res, 400, "Eligibility: must be \"eligible\" or \"ineligible\"");
      if (e == "eligible" && c.value("Drain", false))
        return reply_error(res, 400,
                           "can not set node's scheduling eligibility to eligible: node is "
                           "draining (end the drain first: node drain -disable)");
      c["Eligibility"] = e;
    }
    upstream::EtcdClient etcd(ctx.etcd);
    if (auto s = etcd.put(ctx.keys.node_control(id.value()), json_text(c)); !s)
      return reply_error(res, 503, s.message());
    if (ctx.wake_scheduler) ctx.wake_scheduler();
    reply_json(res, {{"NodeID", id.value()},
                     {"SchedulingEligibility", c["Eligibility"]},
                     {"Drain", c["Drain"]}});
  };
  auto eligibility = leader_only(
      ctx,
      [control](const httplib::Request& req, httplib::Response& res) { control(req, res, false); });
  post_and_put(s, R"(/v1/node/([^/]+)/eligibility)", eligibility);
  auto drain = leader_only(ctx, [control](const httplib::Request& req, httplib::Response& res) {
    control(req, res, true);
  });
  post_and_put(s, R"(/v1/node/([^/]+)/drain)", drain);
  s.Get(R"(/v1/node/([^/]+))", with_state(ctx, [](const ClusterState& st,
                                                   const httplib::Request& req,
                                                   httplib::Response& res) {
          auto id = resolve_node(st, req.matches[1]);
          if (!id) return reply_error(res, id.error());
          reply_json(res, node_json(st, id.value()));
        }));
  s.Get("/v1/allocations", with_state(ctx, [](const ClusterState& st, const httplib::Request& req,
                                              httplib::Response& res) {
          auto prefix = req.get_param_value("prefix");
          const std::string ns = ns_of(req);
          json out = json::array();
          for (const auto& [id, a] : st.allocs)
            if ((prefix.empty() || id.rfind(prefix, 0) == 0) &&
                namespace_matches(ns, a.alloc.value("Namespace", kDefaultNamespace)))
              out.push_back(alloc_stub_json(a, req));
          reply_json(res, out);
        }));
  // Nomad's alloc stop: the alloc is stopped and placed anew. The request is a key the
  // leader's next pass acts on (keys.hpp alloc_stop), so that only plans write allocs; the
  // evaluation it makes is the job's next (trigger alloc-stop). drover's CLI posts to the
  // agent's path, which a server answers alike.
  auto stop_alloc = leader_only(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto st = read_state(ctx);
    if (!st) return reply_error(res, 503, st.message());
    auto id = resolve(st.value()->allocs, req.matches[1], "alloc");
    if (!id) return reply_error(res, id.error());
    const AllocView& a = st.value()->allocs.at(id.value());
    if (a.desired() != "run")
      return reply_error(res, 409, "alloc " + id.value() + " is not running (desired status " +
                                       a.desired() + ")");
    upstream::EtcdClient etcd(ctx.etcd);
    if (auto w = etcd.put(ctx.keys.alloc_stop(id.value()),
                          json_text(json{{"At", state::now_ns()}}));
        !w)
      return reply_error(res, 503, w.message());
    if (ctx.wake_scheduler) ctx.wake_scheduler();
    reply_json(res, {{"EvalID", ""}, {"Index", st.value()->revision}});
  });
  post_and_put(s, R"(/v1/allocation/([^/]+)/stop)", stop_alloc);
  s.Post(R"(/v1/client/allocation/([^/]+)/stop)", stop_alloc);
  // One alloc: its keys alone, not the cluster (api_support.hpp, read_alloc).
  s.Get(R"(/v1/allocation/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto a = read_alloc(ctx, req.matches[1]);
    if (!a) return reply_error(res, a.code() == Errc::Internal ? 503 : api::http_status(a.code()),
                               a.message());
    reply_json(res, alloc_json(a.value(), true));
  });
  // Nomad's list: newest first, the default namespace's unless ?namespace= names one (or
  // "*"), narrowed by ?job= and ?status=.
  s.Get("/v1/evaluations", with_state(ctx, [](const ClusterState& st, const httplib::Request& req,
                                              httplib::Response& res) {
          auto ns = namespace_query(req.get_param_value("namespace"), /*allow_all=*/true);
          if (!ns) return reply_error(res, ns.error());
          const std::string job = req.get_param_value("job");
          const std::string status = req.get_param_value("status");
          std::vector<const json*> list;
          for (const auto& [id, e] : st.evals)
            if (api::namespace_matches(ns.value(), e.value("Namespace", "default")) &&
                (job.empty() || e.value("JobID", "") == job) &&
                (status.empty() || e.value("Status", "") == status))
              list.push_back(&e);
          std::stable_sort(list.begin(), list.end(), [](const json* a, const json* b) {
            return a->value("CreateTime", int64_t{0}) > b->value("CreateTime", int64_t{0});
          });
          json out = json::array();
          for (const json* e : list) out.push_back(*e);
          reply_json(res, out);
        }));
  // An evaluation by its id or a unique prefix of it: only the keys under evals/ with that
  // prefix are read, two at most (clients follow a new job's evaluation with this, many times
  // a second; a one-letter prefix must not read a sixteenth of the evaluations).
  s.Get(R"(/v1/evaluation/([^/]+))",
        [&ctx](const httplib::Request& req, httplib::Response& res) {
          const std::string id = req.matches[1];
          upstream::EtcdClient etcd(ctx.etcd);
          auto r = etcd.range_prefix(ctx.keys.eval(id), 2);
          if (!r) return reply_error(res, 503, r.message());
          if (r.value().kvs.size() > 1)
            return reply_error(res, 400,
                               "evaluation prefix \"" + id + "\" matches more than one");
          if (r.value().kvs.empty())
            return reply_error(res, 404, "evaluation \"" + id + "\" not found");
          json e = json::parse(r.value().kvs.front().value, nullptr, false);
          if (!e.is_object()) return reply_error(res, 500, "evaluation \"" + id + "\": not JSON");
          // A token of ACL policies reads the evaluations of its namespaces only.
          if (auto why =
                  api::request_namespace_refusal(e.value("Namespace", "default"), "read-job");
              !why.empty())
            return reply_error(res, 403, why);
          reply_json(res, e);
        });
}

}  // namespace drover::server
