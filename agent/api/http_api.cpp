#include "api/http_api.hpp"

#include <spdlog/spdlog.h>

#include "api/acl.hpp"
#include "api/agent_self.hpp"
#include "api/blocking_query.hpp"
#include "api/checks_endpoint.hpp"
#include "api/events_endpoint.hpp"
#include "api/exec_endpoint.hpp"
#include "api/fs_endpoint.hpp"
#include "api/host_check.hpp"
#include "api/host_volumes_endpoint.hpp"
#include "api/http_server.hpp"
#include "api/identity_endpoints.hpp"
#include "api/job_actions_endpoint.hpp"
#include "api/job_summary.hpp"
#include "api/jobs_parse_endpoint.hpp"
#include "api/json_reply.hpp"
#include "api/logs_endpoint.hpp"
#include "api/metrics_endpoint.hpp"
#include "api/monitor_endpoint.hpp"
#include "api/namespace_query.hpp"
#include "api/namespaces_list.hpp"
#include "api/node_meta_endpoint.hpp"
#include "api/origin_check.hpp"
#include "api/request_facts.hpp"
#include "api/scaling_endpoint.hpp"
#include "api/services_endpoint.hpp"
#include "api/stats_endpoint.hpp"
#include "api/submission_endpoint.hpp"
#include "api/tls_transport.hpp"
#include "api/ui_endpoint.hpp"
#include "api/vars_endpoint.hpp"
#include "core/node_json.hpp"
#include "core/node_watcher.hpp"
#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"
#include "drover/loader/registry.hpp"
#include "drover/sdk/signals.hpp"
#include "jobspec/parse.hpp"
#include "jobspec/submission.hpp"
#include "runner/admission.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/device_manager.hpp"
#include "runner/dispatch.hpp"
#include "runner/node_resources.hpp"
#include "runner/periodic_launcher.hpp"
#include "runner/task_env.hpp"

namespace drover::api {

using nlohmann::json;

struct HttpApi::Impl {
  ApiContext ctx;
  std::unique_ptr<httplib::Server> server;  // routes and handlers
  std::unique_ptr<HttpServer> connections;  // sockets, limits, framing (api/http_server.hpp)
};

namespace {

// A blocking query on a list of allocs or on jobs (api/blocking_query.hpp): waits until any
// alloc or job of the node changed past ?index=, then sets X-Nomad-Index to the node's index,
// read before what the reply shows so that a change made while it is read is news to the next
// query. False (a 400 sent) when the query is not understood.
bool block_on_node(runner::AllocManager& m, const httplib::Request& req, httplib::Response& res) {
  auto q = blocking_query(req);
  if (!q) {
    reply_error(res, q.error());
    return false;
  }
  const auto& index = m.alloc_index();
  if (*q)
    wait_in_slot((*q)->wait, [&](std::chrono::milliseconds t) { index.wait_past((*q)->index, t); });
  res.set_header("X-Nomad-Index", std::to_string(index.current()));
  return true;
}

json alloc_stub(const state::Alloc& a) {
  auto j = state::to_json(a, /*with_job=*/false);
  return j;
}

// A periodic or parameterized parent (not a dispatched child) runs no allocs of its own.
bool launches_children(const json& job) {
  if (!job.is_object()) return false;
  if (job.contains("Periodic") && !job["Periodic"].is_null()) return true;
  return job.contains("ParameterizedJob") && !job["ParameterizedJob"].is_null() &&
         !job.value("Dispatched", false);
}

// Nomad shows a periodic or parameterized parent as running until it is stopped: it has no
// allocs, its children do the work.
std::string job_status(runner::AllocManager& m, const state::JobRecord& rec) {
  if (launches_children(rec.job)) return rec.stopped ? "dead" : "running";
  return m.job_status(rec.key());
}

json job_summary(runner::AllocManager& m, const state::JobRecord& rec) {
  json j = rec.job;
  j["Status"] = job_status(m, rec);
  j["Stop"] = rec.stopped;
  j["SubmitTime"] = rec.submit_time_ns;
  return j;
}

json node_json(const ApiContext& ctx) {
  return agent::node_json(*ctx.node, *ctx.plugins, ctx.resources, ctx.node_watcher, ctx.http_addr);
}

// The job a /v1/job/:id... request names: the id in its path and its ?namespace= ("default"
// when absent, as in Nomad); nothing when the namespace is not a name (a 400 sent).
std::optional<state::JobKey> job_key_or_reply(const httplib::Request& req, httplib::Response& res) {
  auto ns = namespace_query(req.get_param_value("namespace"), /*allow_all=*/false);
  if (!ns) {
    reply_error(res, ns.error());
    return std::nullopt;
  }
  return state::JobKey{ns.value(), req.matches[1]};
}

// Resolves the :id path part of an alloc endpoint to a full id, or replies 404/400.
std::optional<std::string> alloc_id_or_reply(runner::AllocManager& m, const std::string& id,
                                             httplib::Response& res) {
  auto r = m.resolve_alloc_id(id);
  if (!r) {
    reply_error(res, r.error());
    return std::nullopt;
  }
  return r.value();
}

std::string warnings_text(const std::vector<std::string>& warnings) {
  std::string out;
  for (const auto& w : warnings) out += (out.empty() ? "" : "\n") + w;
  return out;
}

void submit_job(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto query_ns = namespace_query(req.get_param_value("namespace"), /*allow_all=*/false);
  if (!query_ns) return reply_error(res, query_ns.error());
  // Nomad's Submission (or the HCL body itself): the source kept for the job page.
  auto split = jobspec::split_submission(req.body);
  if (!split) return reply_error(res, split.error());
  auto admitted = ctx.allocs->ctx().admission->admit(split->body);
  auto problem_list = [](const std::vector<jobspec::Problem>& problems) {
    json list = json::array();
    for (const auto& p : problems) {
      auto colon = p.message.empty() ? p.path.find(": ") : std::string::npos;
      if (colon != std::string::npos)
        list.push_back({{"path", p.path.substr(0, colon)}, {"message", p.path.substr(colon + 2)}});
      else
        list.push_back({{"path", p.path}, {"message", p.message}});
    }
    return list;
  };
  const auto& problems = admitted.problems;
  if (!problems.empty()) {
    reply_error(res, 400,
                "job is invalid (" + std::to_string(problems.size()) + " problem" +
                    (problems.size() == 1 ? "" : "s") + ")",
                {{"problems", problem_list(problems)}});
    return;
  }
  // A valid job this node cannot run: the placement failure, as `nomad job plan` explains it.
  const auto& conflicts = admitted.conflicts;
  if (!conflicts.empty()) {
    std::string first = conflicts.front().path + ": " + conflicts.front().message;
    reply_error(res, 409,
                "job cannot run on this node (" + std::to_string(conflicts.size()) +
                    " placement problem" + (conflicts.size() == 1 ? "" : "s") + "): " + first,
                {{"problems", problem_list(conflicts)}});
    return;
  }
  // Nomad's order (command/agent/job_endpoint.go, namespaceForJob): the ?namespace= query,
  // then the job's own Namespace. Nomad replaces the job's silently; drover says so.
  auto& job = *admitted.job;
  if (req.has_param("namespace") && query_ns.value() != job.namespace_name) {
    if (job.namespace_name != kDefaultNamespace)
      admitted.warnings.push_back("the job's namespace \"" + job.namespace_name +
                                  "\" was replaced by the request's ?namespace=" +
                                  query_ns.value() + " (the query wins, as in Nomad)");
    job.namespace_name = query_ns.value();
  }
  // A token of ACL policies: submit-job in the job's namespace, and its host volumes.
  if (auto why = job_submit_refusal(job); !why.empty()) return reply_error(res, 403, why);
  auto receipt = ctx.allocs->submit(job);
  if (!receipt) {
    // Not fitting the node (Conflict: 409) is the caller's problem to fix, not ours.
    reply_error(res, receipt.error());
    return;
  }
  keep_submission(ctx, {job.namespace_name, job.id}, split->submission);
  reply_json(res, {{"EvalID", receipt->eval_id},
                   {"JobID", receipt->job_id},
                   {"Namespace", job.namespace_name},
                   {"AllocIDs", receipt->alloc_ids},
                   // Nomad's Warnings: one string, a line per warning.
                   {"Warnings", warnings_text(admitted.warnings)}});
}

void register_routes(ApiContext& ctx, httplib::Server& s) {
  auto& m = *ctx.allocs;
  s.Get("/v1/agent/health", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, {{"agent", {{"ok", true}, {"message", "ok"}}}});
  });
  s.Get("/v1/agent/self", [&ctx](const httplib::Request&, httplib::Response& res) {
    reply_json(res, agent_self(ctx));
  });
  s.Get("/v1/node", [&ctx](const httplib::Request&, httplib::Response& res) {
    reply_json(res, node_json(ctx));
  });
  s.Get("/v1/plugins", [&ctx](const httplib::Request&, httplib::Response& res) {
    json out = json::array();
    for (const auto& p : ctx.plugins->plugins())
      out.push_back({{"Name", p.name}, {"Type", p.type}, {"Version", p.version},
                     {"ABIVersion", p.abi_version}, {"Path", p.path}, {"Status", p.status},
                     {"Reason", p.reason}});
    reply_json(res, out);
  });
  s.Post("/v1/jobs", [&ctx](const httplib::Request& req, httplib::Response& res) {
    submit_job(ctx, req, res);
  });
  register_jobs_parse_endpoint(s);
  // Nomad's CLI registers with PUT /v1/jobs; accept it too.
  s.Put("/v1/jobs", [&ctx](const httplib::Request& req, httplib::Response& res) {
    submit_job(ctx, req, res);
  });
  // Namespaces are those of the jobs (api/namespaces_list.hpp).
  auto namespaces_in_use = [&m] {
    std::set<std::string> names;
    for (const auto& rec : m.jobs()) names.insert(rec.ns);
    return names;
  };
  s.Get("/v1/namespaces", [namespaces_in_use](const httplib::Request& req, httplib::Response& res) {
    reply_json(res, namespace_list(namespaces_in_use(), req.get_param_value("prefix")));
  });
  s.Get(R"(/v1/namespace/([^/]+))", [namespaces_in_use](const httplib::Request& req,
                                                         httplib::Response& res) {
    const std::string name = req.matches[1];
    if (name != kDefaultNamespace && !namespaces_in_use().count(name))
      return reply_error(res, 404, "namespace \"" + name + "\" not found (no job is in it)");
    reply_json(res, namespace_object(name));
  });
  s.Get("/v1/jobs", [&m](const httplib::Request& req, httplib::Response& res) {
    json out = json::array();
    auto prefix = req.get_param_value("prefix");
    auto ns = namespace_query(req.get_param_value("namespace"), /*allow_all=*/true);
    if (!ns) return reply_error(res, ns.error());
    if (!block_on_node(m, req, res)) return;
    // Each job's status reads only its own allocs (AllocManager's by-job index): linear in
    // jobs plus allocs, where a snapshot of every alloc per job took 14 s at 2,687 jobs.
    for (const auto& rec : m.jobs()) {
      if (!prefix.empty() && rec.id.rfind(prefix, 0) != 0) continue;
      if (!namespace_matches(ns.value(), rec.ns)) continue;
      const auto& j = rec.job;
      out.push_back({{"ID", rec.id},
                     {"Namespace", rec.ns},
                     {"ParentID", j.value("ParentID", "")},
                     {"Name", j.value("Name", rec.id)},
                     {"Type", j.value("Type", "")},
                     {"Priority", j.value("Priority", 50)},
                     {"Periodic", j.contains("Periodic") && !j["Periodic"].is_null()},
                     {"ParameterizedJob",
                      j.contains("ParameterizedJob") && !j["ParameterizedJob"].is_null()},
                     {"Status", job_status(m, rec)},
                     {"Stop", rec.stopped},
                     {"SubmitTime", rec.submit_time_ns}});
    }
    reply_json(res, out);
  });
  // A launched child's id has a '/' ("<job>/periodic-<unix>"), as in Nomad, so job ids
  // match across slashes; the routes with a suffix come first.
  register_scaling_endpoints(s, ctx);
  register_submission_endpoint(s, ctx);
  register_job_actions_endpoint(s, ctx);
  register_action_endpoint(s, ctx);
  // Nomad's JobSummary (api/job_summary.hpp).
  s.Get(R"(/v1/job/(.+)/summary)", [&m](const httplib::Request& req, httplib::Response& res) {
    auto key = job_key_or_reply(req, res);
    if (!key) return;
    auto rec = m.job(*key);
    if (!rec) return reply_error(res, 404, state::describe(*key) + " not found");
    SummaryInput in{key->id, key->ns, {}, {}, {}};
    for (const auto& g : rec->job.value("TaskGroups", json::array())) in.groups.push_back(g.value("Name", ""));
    for (const auto& a : m.job_allocs(*key)) in.allocs.emplace_back(a.group, a.client_status);
    for (const auto& child : m.jobs())
      if (child.ns == key->ns && child.job.value("ParentID", "") == key->id)
        in.children.push_back(job_status(m, child));
    reply_json(res, job_summary_json(in));
  });
  s.Get(R"(/v1/job/(.+)/allocations)", [&m](const httplib::Request& req, httplib::Response& res) {
    auto key = job_key_or_reply(req, res);
    if (!key) return;
    if (!m.job(*key)) return reply_error(res, 404, state::describe(*key) + " not found");
    if (!block_on_node(m, req, res)) return;
    json out = json::array();
    for (const auto& a : m.job_allocs(*key)) out.push_back(alloc_stub(a));
    reply_json(res, out);
  });
  s.Get(R"(/v1/job/(.+))", [&m, &ctx](const httplib::Request& req, httplib::Response& res) {
    auto key = job_key_or_reply(req, res);
    if (!key) return;
    if (!block_on_node(m, req, res)) return;
    auto rec = m.job(*key);
    if (!rec) return reply_error(res, 404, state::describe(*key) + " not found");
    auto j = job_summary(m, *rec);
    if (ctx.periodic && !rec->stopped)
      if (auto next = ctx.periodic->next_launch(*key))
        j["NextPeriodicLaunch"] = *next * 1000000000LL;
    reply_json(res, j);
  });
  auto force = [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.periodic) return reply_error(res, 501, "this agent runs no periodic launcher");
    auto key = job_key_or_reply(req, res);
    if (!key) return;
    auto child = ctx.periodic->force(*key);
    if (!child) return reply_error(res, child.error());
    reply_json(res, {{"EvalID", random_uuid()}, {"EvalCreateIndex", 0}, {"Index", 0},
                     {"JobID", child.value()}});
  };
  s.Post(R"(/v1/job/(.+)/periodic/force)", force);
  s.Put(R"(/v1/job/(.+)/periodic/force)", force);
  auto dispatch = [&m](const httplib::Request& req, httplib::Response& res) {
    auto key = job_key_or_reply(req, res);
    if (!key) return;
    auto request = runner::dispatch_request_from_json(
        json::parse(req.body.empty() ? "{}" : req.body, nullptr, false));
    if (!request) return reply_error(res, request.error());
    auto r = runner::dispatch_job(m, *key, *request);
    if (!r) return reply_error(res, r.error());
    reply_json(res, {{"DispatchedJobID", r->job_id}, {"EvalID", r->eval_id},
                     {"EvalCreateIndex", 0}, {"JobCreateIndex", 0}, {"Index", 0},
                     {"AllocIDs", r->alloc_ids}});
  };
  s.Post(R"(/v1/job/(.+)/dispatch)", dispatch);
  s.Put(R"(/v1/job/(.+)/dispatch)", dispatch);
  s.Delete(R"(/v1/job/(.+))", [&m, &ctx](const httplib::Request& req, httplib::Response& res) {
    // Nomad's ?purge=true: stop, and remove the job's record now instead of at job GC.
    auto purge = req.get_param_value("purge");
    if (!purge.empty() && purge != "true" && purge != "false")
      return reply_error(res, 400, "purge: must be true or false, not \"" + purge + "\"");
    auto key = job_key_or_reply(req, res);
    if (!key) return;
    auto r = purge == "true" ? m.purge_job(*key) : m.stop_job(*key);
    if (!r) return reply_error(res, 404, r.message());
    reply_json(res, {{"EvalID", r.value()}});
  });
  s.Get("/v1/allocations", [&m](const httplib::Request& req, httplib::Response& res) {
    json out = json::array();
    auto prefix = req.get_param_value("prefix");
    auto ns = namespace_query(req.get_param_value("namespace"), /*allow_all=*/true);
    if (!ns) return reply_error(res, ns.error());
    if (!block_on_node(m, req, res)) return;
    // Nomad's ?task_states=false: the list without each task's states and events, for
    // clients that poll a busy node.
    bool task_states = req.get_param_value("task_states") != "false";
    for (const auto& a : m.allocs()) {
      if (!prefix.empty() && a.id.rfind(prefix, 0) != 0) continue;
      if (!namespace_matches(ns.value(), a.namespace_)) continue;
      auto j = alloc_stub(a);
      if (!task_states) j.erase("TaskStates");
      out.push_back(std::move(j));
    }
    reply_json(res, out);
  });
  s.Get(R"(/v1/allocation/([^/]+))", [&m, &ctx](const httplib::Request& req, httplib::Response& res) {
    auto id = alloc_id_or_reply(m, req.matches[1], res);
    if (!id) return;
    auto q = blocking_query(req);
    if (!q) return reply_error(res, q.error());
    const auto& index = m.alloc_index();
    auto seen = index.current();  // before the read: a change after it wakes the wait below
    auto a = m.alloc(*id);
    if (*q && a && a->modify_index <= (*q)->index)
      wait_in_slot((*q)->wait, [&](std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (a && a->modify_index <= (*q)->index) {
          auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              deadline - std::chrono::steady_clock::now());
          if (left <= std::chrono::milliseconds::zero()) break;
          index.wait_past(seen, left);
          seen = index.current();
          a = m.alloc(*id);
        }
      });
    if (!a) return reply_error(res, 404, "alloc \"" + *id + "\" not found");
    res.set_header("X-Nomad-Index", std::to_string(a->modify_index));
    auto j = state::to_json(*a, /*with_job=*/true);
    j["NodeID"] = ctx.node->id;
    j["NodeName"] = ctx.node->name;
    reply_json(res, j);
  });
  // The agent's path and Nomad's (which a server serves too, placing the alloc anew; here
  // the alloc's tasks stop).
  auto stop = [&m](const httplib::Request& req, httplib::Response& res) {
    auto id = alloc_id_or_reply(m, req.matches[1], res);
    if (!id) return;
    if (auto st = m.stop_alloc(*id); !st) return reply_error(res, st.error());
    reply_json(res, {{"EvalID", random_uuid()}});
  };
  s.Post(R"(/v1/client/allocation/([^/]+)/stop)", stop);
  s.Post(R"(/v1/allocation/([^/]+)/stop)", stop);
  s.Put(R"(/v1/allocation/([^/]+)/stop)", stop);
  s.Post(R"(/v1/client/allocation/([^/]+)/restart)",
         [&m](const httplib::Request& req, httplib::Response& res) {
           auto id = alloc_id_or_reply(m, req.matches[1], res);
           if (!id) return;
           std::string task;
           if (!req.body.empty()) {
             auto body = json::parse(req.body, nullptr, false);
             if (body.is_discarded() || !body.is_object())
               return reply_error(res, 400, "body: must be a JSON object {\"TaskName\", \"AllTasks\"}");
             if (body.contains("TaskName") && body["TaskName"].is_string()) task = body["TaskName"];
             if (body.value("AllTasks", false)) task.clear();
           }
           if (auto st = m.restart_alloc(*id, task); !st) return reply_error(res, st.error());
           reply_json(res, json::object());
         });
  s.Post(R"(/v1/client/allocation/([^/]+)/signal)",
         [&m](const httplib::Request& req, httplib::Response& res) {
           auto id = alloc_id_or_reply(m, req.matches[1], res);
           if (!id) return;
           auto body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
           if (body.is_discarded() || !body.is_object())
             return reply_error(res, 400, "body: must be a JSON object {\"Task\", \"Signal\"}");
           std::string task = body.contains("Task") && body["Task"].is_string() ? body["Task"].get<std::string>() : "";
           std::string sig = body.contains("Signal") && body["Signal"].is_string() ? body["Signal"].get<std::string>() : "SIGKILL";
           if (!sdk::signal_number(sig)) return reply_error(res, 400, "Signal: unknown signal \"" + sig + "\"");
           if (auto st = m.signal_alloc(*id, task, sig); !st) return reply_error(res, st.error());
           reply_json(res, json::object());
         });
  // Runs a command inside a running task; plain streams, no TTY (Nomad's exec is a
  // websocket; this is its non-interactive half).
  s.Post(R"(/v1/client/allocation/([^/]+)/exec)",
         [&m](const httplib::Request& req, httplib::Response& res) {
           auto id = alloc_id_or_reply(m, req.matches[1], res);
           if (!id) return;
           auto body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
           if (body.is_discarded() || !body.is_object())
             return reply_error(res, 400, "body: must be a JSON object {\"Task\", \"Command\": [...]}");
           auto task = body.value("Task", std::string());
           auto cmd = body.value("Command", json::array());
           if (task.empty()) return reply_error(res, 400, "Task: required");
           if (!cmd.is_array() || cmd.empty() ||
               !std::all_of(cmd.begin(), cmd.end(), [](const json& a) { return a.is_string(); }))
             return reply_error(res, 400, "Command: must be a non-empty array of strings");
           // An argument is a C string in the end: a NUL would cut it silently.
           for (std::size_t i = 0; i < cmd.size(); ++i)
             if (cmd[i].get_ref<const std::string&>().find('\0') != std::string::npos)
               return reply_error(res, 400, "Command[" + std::to_string(i) + "]: must not contain a NUL byte");
           int64_t timeout_ms = body.value("TimeoutMs", int64_t{30000});
           if (timeout_ms < 1 || timeout_ms > 3600000)
             return reply_error(res, 400, "TimeoutMs: must be from 1 to 3600000");
           auto r = m.exec_alloc(*id, task, cmd.get<std::vector<std::string>>(),
                                 std::chrono::milliseconds(timeout_ms));
           // What the driver refuses to run (no such command in the task) is the caller's to fix.
           if (!r) return reply_error(res, r.code() == Errc::Internal ? 400 : http_status(r.code()), r.message());
           reply_json(res, r.value());
         });
  s.Post(R"(/v1/client/allocation/([^/]+)/gc)",
         [&m](const httplib::Request& req, httplib::Response& res) {
           auto id = alloc_id_or_reply(m, req.matches[1], res);
           if (!id) return;
           if (auto st = m.gc_alloc(*id); !st) return reply_error(res, 400, st.message());
           reply_json(res, json::object());
         });
  register_exec_endpoint(s, ctx);
  register_logs_endpoint(s, ctx);
  register_fs_endpoint(s, ctx);
  register_checks_endpoint(s, ctx);
  register_node_meta_endpoint(s, ctx);
  register_host_volumes_endpoints(s, ctx);
  register_services_endpoints(s, ctx);
  register_events_endpoint(s, ctx);
  register_monitor_endpoint(s, ctx.log_monitor, ctx.node ? ctx.node->id : std::string());
  register_metrics_endpoint(s, ctx);
  register_stats_endpoints(s, ctx);
  register_ui_endpoint(s);
  if (ctx.acl) register_acl_endpoints(s, *ctx.acl);
  register_vars_endpoints(s, ctx);
  register_identity_endpoints(s, ctx.identity);
}

// Before any route: the Host check (DNS rebinding), the cross-origin check, then the token check (the per-client connection
// cap is taken at accept, in api/http_server.cpp). A refused request does nothing: no handler
// runs.
httplib::Server::HandlerResponse guard(const ApiContext& ctx, const httplib::Request& req,
                                       httplib::Response& res) {
  clear_request_acl();  // this thread's last request's grants are not this one's
  // A live stream is sent as it comes, never gzipped: httplib 0.11.4's compressor holds a
  // chunked reply's chunks until its buffer fills, so a browser (which always sends
  // Accept-Encoding) saw no event and no log line of a quiet task for minutes. The Request is
  // httplib's own non-const object, handed to this handler as const.
  if (is_live_stream(req.path))
    const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
  if (!ctx.allowed_hosts.empty()) {
    auto bad_host = host_refusal(req.get_header_value("Host"), ctx.allowed_hosts);
    if (!bad_host.empty()) {
      reply_error(res, 403, bad_host);
      return httplib::Server::HandlerResponse::Handled;
    }
  }
  // A websocket is never held back by CORS (a page on any origin may open one): an upgrade is
  // checked as a write is, so only the agent's own UI opens an exec session from a browser.
  const bool upgrade = !req.get_header_value("Upgrade").empty();
  auto cross_site = cross_origin_refusal(upgrade ? "POST" : req.method, req.get_header_value("Origin"),
                                         req.get_header_value("Host"),
                                         req.get_header_value("Sec-Fetch-Site"));
  if (!cross_site.empty()) {
    reply_error(res, 403, cross_site);
    return httplib::Server::HandlerResponse::Handled;
  }
  auto need = required_policy(req.method, req.path);
  if (!need) return httplib::Server::HandlerResponse::Unhandled;
  auto secret = request_token(req.get_header_value("X-Nomad-Token"), req.get_header_value("Authorization"));
  // A task's workload identity: reads of its job's variables, with or without ACLs, and what
  // the ACL policies attached to its job grant (api/vars_endpoint.hpp).
  if (auto refusal = workload_token_refusal(ctx, req, secret)) {
    if (refusal->empty()) return httplib::Server::HandlerResponse::Unhandled;
    reply_error(res, 403, *refusal);
    return httplib::Server::HandlerResponse::Handled;
  }
  if (!ctx.acl) return httplib::Server::HandlerResponse::Unhandled;
  // The exec websocket's token may come in its first message (api/exec_endpoint.hpp).
  if (exec_token_in_first_message(req.method, req.path, req.get_header_value("Upgrade"),
                                  req.get_param_value("ws_handshake"), secret))
    return httplib::Server::HandlerResponse::Unhandled;
  if (auto refusal = authorize(*ctx.acl, request_facts(req, secret), "this agent",
                               alloc_namespace_lookup(ctx))) {
    reply_error(res, refusal->status, refusal->message);
    return httplib::Server::HandlerResponse::Handled;
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

}  // namespace

AllocNamespaceLookup alloc_namespace_lookup(const ApiContext& ctx) {
  return [allocs = ctx.allocs](const std::string& id) -> Result<std::string> {
    auto full = allocs->resolve_alloc_id(id);
    if (!full) return full.error();
    auto a = allocs->alloc(full.value());
    if (!a) return make_error("alloc \"" + id + "\" not found", Errc::NotFound);
    return a->namespace_;
  };
}

HttpApi::HttpApi(ApiContext ctx) : impl_(std::make_unique<Impl>()) {
  impl_->ctx = std::move(ctx);
  const auto& tls = impl_->ctx.tls;
  impl_->server = make_api_routes(tls);
  auto& s = *impl_->server;
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return guard(impl_->ctx, req, res);
  });
  // The reading side of these limits (body cap on every framing, head deadline, per-address
  // cap at accept) is HttpServer's; httplib sees only requests already read whole.
  s.set_payload_max_length(impl_->ctx.max_request_bytes);
  s.set_keep_alive_max_count(100);
  ServerLimits limits;
  limits.max_request_bytes = impl_->ctx.max_request_bytes;
  limits.max_conns_per_client = impl_->ctx.max_conns_per_client;
  impl_->connections = std::make_unique<HttpServer>(s, api_tls_context(s, tls), limits);
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg = res.status == 404   ? "no such endpoint: " + req.method + " " + req.path
                      : res.status == 413 ? "request body too large"
                                          : "bad request";
    reply_error(res, res.status, msg);
  });
  s.set_exception_handler(reply_exception);
  register_routes(impl_->ctx, s);
}

HttpApi::~HttpApi() { stop(); }

Status HttpApi::bind(const std::string& addr, int port) {
  if (auto st = check_api_routes(*impl_->server, impl_->ctx.tls); !st) return st;
  if (auto st = impl_->connections->bind(addr, port); !st) return st;
  port_ = impl_->connections->port();
  return {};
}

void HttpApi::serve() { impl_->connections->serve(); }

void HttpApi::stop() {
  if (impl_ && impl_->connections) impl_->connections->stop();
}

}  // namespace drover::api
