// Garbage collection of the cluster's state; see gc.hpp.
#include "server/gc.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "state/alloc.hpp"
#include "upstream/etcd_client.hpp"
#include "upstream/etcd_txn.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

constexpr std::size_t kKeysPerTxn = 64;  // etcd refuses a txn of more than 128 operations

bool finished(const AllocView& a) {
  const auto s = a.client_status();
  return s == "complete" || s == "failed" || s == "lost";
}

bool finished_eval(const json& e) {
  const auto s = e.value("Status", "");
  return s == "complete" || s == "failed" || s == "canceled" || s == "cancelled";
}

bool finished_deployment(const json& d) {
  const auto s = d.value("Status", "");
  return s == "successful" || s == "failed" || s == "cancelled" || s == "canceled";
}

int64_t time_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// When an alloc last changed: the server's write or its node's report, whichever is later.
int64_t alloc_time(const AllocView& a) {
  int64_t t = std::max(time_of(a.alloc, "ModifyTime"), time_of(a.alloc, "CreateTime"));
  if (a.status.is_object()) t = std::max(t, time_of(a.status, "ModifyTime"));
  return t;
}

int64_t touched(const json& j) { return std::max(time_of(j, "ModifyTime"), time_of(j, "CreateTime")); }

std::string job_key_of(const json& j) {
  return j.value("Namespace", "default") + "/" + j.value("JobID", "");
}

void count(Garbage& g, const Keys& keys) {
  g.jobs = g.evals = g.allocs = g.deployments = g.nodes = 0;
  for (const auto& k : g.keys) {
    if (k.rfind(keys.jobs(), 0) == 0) g.jobs++;
    else if (k.rfind(keys.evals(), 0) == 0) g.evals++;
    else if (k.rfind(keys.allocs(), 0) == 0) g.allocs++;
    else if (k.rfind(keys.deployments(), 0) == 0) g.deployments++;
    else if (k.rfind(keys.node_records(), 0) == 0) g.nodes++;
  }
}

}  // namespace

Garbage find_garbage(const ClusterState& st, const Keys& keys, int64_t now_ns,
                     const GcThresholds& t) {
  std::map<std::string, std::vector<const AllocView*>> allocs_of;
  std::set<std::string> evals_in_use;  // an unfinished alloc's evaluation
  for (const auto& [id, a] : st.allocs) {
    allocs_of[a.job_key()].push_back(&a);
    if (!finished(a)) evals_in_use.insert(a.alloc.value("EvalID", ""));
  }
  std::map<std::string, std::vector<std::pair<const std::string*, const json*>>> evals_of,
      deployments_of;
  for (const auto& [id, e] : st.evals) evals_of[job_key_of(e)].emplace_back(&id, &e);
  for (const auto& [id, d] : st.deployments) deployments_of[job_key_of(d)].emplace_back(&id, &d);
  std::set<std::string> job_keys;
  for (const auto& [jk, _] : st.jobs) job_keys.insert(jk);
  for (const auto& [jk, _] : st.job_versions) job_keys.insert(jk);
  for (const auto& [jk, _] : allocs_of) job_keys.insert(jk);
  for (const auto& [jk, _] : evals_of) job_keys.insert(jk);

  std::set<std::string> out;
  auto old = [now_ns](int64_t when, std::chrono::nanoseconds age) {
    return now_ns - when >= age.count();
  };
  auto drop_alloc = [&](const AllocView& a) {
    out.insert(a.key);
    out.insert(keys.status() + a.node_id + "/" + a.id);
    if (st.stop_requests.count(a.id)) out.insert(keys.alloc_stop(a.id));
  };
  for (const auto& jk : job_keys) {
    const auto rec = st.jobs.find(jk);
    // operator[]: an empty list for a job without any
    const auto& allocs = allocs_of[jk];
    const auto& evals = evals_of[jk];
    const auto& deployments = deployments_of[jk];
    const auto versions = st.job_versions.find(jk);
    const std::string ns = jk.substr(0, jk.find('/')), id = jk.substr(jk.find('/') + 1);

    // The whole job: stopped, dead or purged, nothing of it running or waiting, old enough.
    const bool dead = rec == st.jobs.end() || job_status(st, jk, rec->second) == "dead";
    const bool all_finished =
        std::all_of(allocs.begin(), allocs.end(), [](const AllocView* a) { return finished(*a); });
    const bool waiting = std::any_of(evals.begin(), evals.end(), [](const auto& e) {
      const auto s = e.second->value("Status", "");
      return s == "pending" || s == "blocked";
    });
    int64_t last = rec == st.jobs.end() ? 0 : time_of(rec->second.head, "SubmitTime");
    if (versions != st.job_versions.end())
      for (const auto& [v, r] : versions->second) last = std::max(last, time_of(r.head, "SubmitTime"));
    for (const auto* a : allocs) last = std::max(last, alloc_time(*a));
    for (const auto& [eid, e] : evals) last = std::max(last, touched(*e));
    for (const auto& [did, d] : deployments) last = std::max(last, touched(*d));
    if (dead && all_finished && !waiting && old(last, t.job)) {
      if (rec != st.jobs.end()) out.insert(keys.job(ns, id));
      if (versions != st.job_versions.end())
        for (const auto& [v, r] : versions->second) out.insert(keys.job_version(ns, id, v));
      if (st.periodic_launches.count(jk)) out.insert(keys.periodic_launch(ns, id));
      for (const auto* a : allocs) drop_alloc(*a);
      for (const auto& [eid, e] : evals) out.insert(keys.eval(*eid));
      for (const auto& [did, d] : deployments)
        if (finished_deployment(*d)) out.insert(keys.deployment(*did));
      continue;
    }
    if (rec == st.jobs.end()) continue;  // purged, but something of it still runs or is young

    // A job that stays: what it no longer needs.
    const std::string type = rec->second.job.summary().type;
    const auto age = type == "batch" || type == "sysbatch" ? t.batch_eval : t.eval;
    for (const auto& [eid, e] : evals)
      if (finished_eval(*e) && old(touched(*e), age) && !evals_in_use.count(*eid))
        out.insert(keys.eval(*eid));
    for (const auto* a : allocs)
      if (finished(*a) && old(alloc_time(*a), age) &&
          (a->desired() != "run" || a->alloc.contains("NextAllocation")))
        drop_alloc(*a);
    const json* latest = nullptr;
    for (const auto& [did, d] : deployments)
      if (!latest || time_of(*d, "CreateTime") > time_of(*latest, "CreateTime")) latest = d;
    for (const auto& [did, d] : deployments)
      if (d != latest && finished_deployment(*d) && old(touched(*d), t.deployment))
        out.insert(keys.deployment(*did));
  }
  // Down nodes with nothing left to run there (Nomad's node GC: every alloc terminal).
  std::set<std::string> busy;
  for (const auto& [id, a] : st.allocs)
    if (a.desired() == "run" && !finished(a)) busy.insert(a.node_id);
  for (const auto& [id, down] : st.down_nodes) {
    if (down.record.value("Status", "") != "down" || busy.count(id)) continue;
    const int64_t since = time_of(down.record, "StatusUpdatedAt") * 1'000'000'000;
    if (!old(since, t.node)) continue;
    out.insert(keys.node_record(id));
    if (st.controls.count(id)) out.insert(keys.node_control(id));
  }
  // Job keys first: a dead batch job's allocs gone before its key would look to the leader
  // like a job with nothing placed, and it would run the job again. With the key gone first,
  // the job is purged and its finished allocs are left alone (scheduler.cpp).
  Garbage g;
  auto is_job = [&](const std::string& k) {
    return k.rfind(keys.jobs(), 0) == 0 || k.rfind(keys.job_versions_all(), 0) == 0 ||
           k.rfind(keys.periodic_launches(), 0) == 0;
  };
  for (const auto& k : out)
    if (is_job(k)) g.keys.push_back(k);
  for (const auto& k : out)
    if (!is_job(k)) g.keys.push_back(k);
  count(g, keys);
  return g;
}

Result<Garbage> collect_garbage(const upstream::EtcdConfig& etcd_cfg, const Keys& keys,
                                const GcThresholds& t) {
  upstream::EtcdClient etcd(etcd_cfg);
  auto range = etcd.range_prefix(keys.all());
  if (!range) return make_error("gc: cannot read the cluster: " + range.message(), range.code());
  const ClusterState st = read_cluster_state(range.value(), keys);
  Garbage found = find_garbage(st, keys, state::now_ns(), t);
  Garbage done;
  for (std::size_t at = 0; at < found.keys.size(); at += kKeysPerTxn) {
    const std::size_t end = std::min(found.keys.size(), at + kKeysPerTxn);
    json compare = json::array(), success = json::array();
    for (std::size_t i = at; i < end; ++i) {
      compare.push_back(upstream::txn::unchanged_since(found.keys[i], range.value().revision));
      success.push_back(upstream::txn::del(found.keys[i]));
    }
    auto r = etcd.txn({{"compare", compare}, {"success", success}});
    if (!r) return make_error("gc: cannot delete in etcd: " + r.message(), r.code());
    if (!r->value("succeeded", false)) continue;  // something changed since the read: next time
    done.keys.insert(done.keys.end(), found.keys.begin() + at, found.keys.begin() + end);
  }
  count(done, keys);
  return done;
}

}  // namespace drover::server
