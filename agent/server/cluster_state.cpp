// Sorting one etcd range into the cluster's parts; see cluster_state.hpp.
#include "server/cluster_state.hpp"

#include <functional>
#include <optional>
#include <string_view>
#include <regex>

#include "drover/common/json_text.hpp"
#include "state/alloc.hpp"

namespace drover::server {

using nlohmann::json;

std::string AllocView::client_status() const {
  // The server's mark (disconnect.hpp) wins over the node's last report.
  if (auto mark = alloc.value("ClientStatus", ""); mark == "lost" || mark == "unknown") return mark;
  if (status.is_object()) {
    auto s = status.value("ClientStatus", "");
    if (!s.empty()) return s;
  }
  return "pending";
}

JobDoc version_job(const ClusterState& st, const std::string& jk, int version) {
  if (auto rec = st.jobs.find(jk); rec != st.jobs.end() && rec->second.is_object() &&
                                   rec->second.version() == version && rec->second.job)
    return rec->second.job;
  auto vs = st.job_versions.find(jk);
  if (vs == st.job_versions.end()) return {};
  auto v = vs->second.find(version);
  return v == vs->second.end() ? JobDoc{} : v->second.job;
}

std::string AllocView::text() const {
  std::string out = json_text(alloc);
  if (!job && !metrics) return out;
  // Metrics and the Job spliced in as the last members, the Job's text as it is held.
  out.pop_back();  // the object's '}'
  auto member = [&](const char* name, const std::string& text) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += name;
    out += "\":";
    out += text;
  };
  if (metrics) member("Metrics", *metrics);
  if (job) member("Job", job.text());
  out += '}';
  return out;
}

void AllocView::take(json value) {
  if (value.is_object()) {
    if (auto doc = value.find("Job"); doc != value.end()) {
      job = JobDoc::of(*doc);
      value.erase(doc);
    }
    if (auto m = value.find("Metrics"); m != value.end()) {
      metrics = std::make_shared<const std::string>(json_text(*m));
      value.erase(m);
    }
  }
  alloc = std::move(value);
}

json AllocView::value(bool with_job) const {
  json j = alloc;
  if (metrics) j["Metrics"] = json::parse(*metrics, nullptr, false);
  if (!with_job)
    j.erase("Job");
  else if (job)
    j["Job"] = *job.parsed();
  return j;
}

int AllocView::index() const {
  static const std::regex kIndex(R"(.*\[(\d{1,6})\]$)");
  std::smatch m;
  std::string name = alloc.value("Name", "");
  if (std::regex_match(name, m, kIndex)) return std::stoi(m[1].str());
  return 0;
}

bool AllocView::live() const {
  if (desired() != "run") return false;
  auto s = client_status();
  return s != "complete" && s != "failed" && s != "lost";
}

std::string job_status(const ClusterState& st, const std::string& jk, const JobRecord& rec) {
  if (rec.stopped()) return "dead";
  const auto& job = rec.job.summary();
  if (job.periodic || (job.parameterized && !job.dispatched)) return "running";
  auto live = [](const AllocView& a) {
    const auto s = a.client_status();
    return a.desired() == "run" && (s == "running" || s == "pending" || s == "unknown");
  };
  if (st.indexed) {
    // The job's own allocs: listing 10,000 jobs (the API, /v1/metrics) must not look at every
    // alloc for each.
    auto ids = st.allocs_by_job.find(jk);
    if (ids == st.allocs_by_job.end() || ids->second.empty()) return "pending";
    for (const auto& id : ids->second)
      if (auto a = st.allocs.find(id); a != st.allocs.end() && live(a->second)) return "running";
    return "dead";
  }
  bool any = false;
  for (const auto& [id, a] : st.allocs) {
    if (a.job_key() != jk) continue;
    any = true;
    if (live(a)) return "running";
  }
  return any ? "dead" : "pending";
}

std::string enforce_index_problem(const ClusterState& st, const std::string& jk, int64_t index) {
  const std::string what = "Enforcing job modify index " + std::to_string(index) + ": ";
  if (!st.jobs.count(jk)) return index == 0 ? "" : what + "job does not exist";
  if (index == 0) return what + "job already exists";
  auto it = st.job_modify_index.find(jk);
  const int64_t current = it == st.job_modify_index.end() ? 0 : it->second;
  if (index == current) return "";
  return what + "job exists with conflicting job modify index: " + std::to_string(current);
}

bool node_ready(const json& node) {
  return node.value("Status", "ready") == "ready" &&
         node.value("SchedulingEligibility", "eligible") == "eligible";
}

namespace {

// "a/b/c" after `base` -> the part before the last '/' and after it.
bool split_last(const std::string& rest, std::string& head, std::string& tail) {
  auto slash = rest.rfind('/');
  if (slash == std::string::npos) return false;
  head = rest.substr(0, slash);
  tail = rest.substr(slash + 1);
  return true;
}


}  // namespace

json node_with_control(json n, const json* control) {
  if (!control) return n;
  const json& c = *control;
  n["SchedulingEligibility"] = c.value("Eligibility", "eligible");
  n["Drain"] = c.value("Drain", false);
  n["DrainStrategy"] = nullptr;
  if (n["Drain"].get<bool>()) {
    const int64_t deadline = c.value("Deadline", int64_t{0}),
                  started = c.value("StartedAt", int64_t{0});
    n["DrainStrategy"] = {
        {"Deadline", deadline},
        {"IgnoreSystemJobs", c.value("IgnoreSystemJobs", false)},
        {"StartedAt", state::rfc3339(started)},
        {"ForceDeadline", deadline > 0 ? state::rfc3339(started + deadline) : ""}};
  }
  if (c.contains("LastDrain")) {
    json last = c["LastDrain"];
    last["StartedAt"] = state::rfc3339(last.value("StartedAt", int64_t{0}));
    last["UpdatedAt"] = state::rfc3339(last.value("UpdatedAt", int64_t{0}));
    n["LastDrain"] = last;
  }
  return n;
}

void ClusterStateIndex::merge_node(const std::string& id) {
  auto raw = raw_nodes_.find(id);
  if (raw == raw_nodes_.end()) {
    st_.nodes.erase(id);
    return;
  }
  // The operator's eligibility and drain show in the node as Nomad shows them.
  auto control = st_.controls.find(id);
  st_.nodes[id] =
      node_with_control(raw->second, control == st_.controls.end() ? nullptr : &control->second);
}

void ClusterStateIndex::update_modify_index(const std::string& jk) {
  st_.job_modify_index.erase(jk);
  auto rec = st_.jobs.find(jk);
  auto job = version_created_.find(jk);
  if (rec == st_.jobs.end() || job == version_created_.end()) return;
  auto v = job->second.find(rec->second.version());
  if (v != job->second.end()) st_.job_modify_index[jk] = v->second;
}

namespace {

// An alloc key's value without its Job, when the Job is its last member as AllocView::text
// writes it: the parsed rest, and the Job's text. Nothing when the value is not so (an alloc
// made by hand): the cut then does not parse, as the prefix before a `,"Job":` nested deeper
// or inside a string cannot be a whole object with one brace added.
struct AllocWithoutJob {
  json rest;
  std::string_view job_text;
};
std::optional<AllocWithoutJob> split_job(const std::string& value) {
  static constexpr std::string_view kMember = ",\"Job\":";
  const auto at = value.rfind(kMember);
  if (at == std::string::npos || value.empty() || value.back() != '}') return std::nullopt;
  std::string head = value.substr(0, at);
  head += '}';
  json rest = json::parse(head, nullptr, false);
  if (!rest.is_object()) return std::nullopt;
  const auto from = at + kMember.size();
  return AllocWithoutJob{std::move(rest),
                         std::string_view(value).substr(from, value.size() - 1 - from)};
}

std::string job_key_of(const json& j) {
  return j.value("Namespace", "default") + "/" + j.value("JobID", "");
}

void index_add(std::map<std::string, std::set<std::string>>& index, const std::string& k,
               const std::string& id) {
  index[k].insert(id);
}

void index_remove(std::map<std::string, std::set<std::string>>& index, const std::string& k,
                  const std::string& id) {
  auto it = index.find(k);
  if (it == index.end()) return;
  it->second.erase(id);
  if (it->second.empty()) index.erase(it);
}

// Evaluations and deployments: by id, indexed by their job, which marks both the job it had
// and the one it has (the same, unless written by hand).
void put_by_job(std::map<std::string, json>& items,
                std::map<std::string, std::set<std::string>>& by_job, const std::string& id,
                json j, const std::function<void(const std::string&)>& mark) {
  if (auto old = items.find(id); old != items.end()) {
    const std::string jk = job_key_of(old->second);
    index_remove(by_job, jk, id);
    mark(jk);
  }
  const std::string jk = job_key_of(j);
  index_add(by_job, jk, id);
  mark(jk);
  items[id] = std::move(j);
}

void erase_by_job(std::map<std::string, json>& items,
                  std::map<std::string, std::set<std::string>>& by_job, const std::string& id,
                  const std::function<void(const std::string&)>& mark) {
  auto old = items.find(id);
  if (old == items.end()) return;
  const std::string jk = job_key_of(old->second);
  index_remove(by_job, jk, id);
  mark(jk);
  items.erase(old);
}

}  // namespace

void ClusterStateIndex::mark(const std::string& jk) {
  if (!st_.changes.all) st_.changes.jobs.insert(jk);
}

void ClusterStateIndex::node_changed(const std::string& id) {
  if (st_.changes.all) return;
  st_.changes.nodes.insert(id);
  st_.changes.usage.insert(id);
  if (auto on = st_.allocs_by_node.find(id); on != st_.allocs_by_node.end())
    for (const auto& alloc_id : on->second)
      if (auto a = st_.allocs.find(alloc_id); a != st_.allocs.end()) mark(a->second.job_key());
  for (const auto& jk : st_.system_jobs) mark(jk);
}

void ClusterStateIndex::unindex_alloc(const std::string& id) {
  auto a = st_.allocs.find(id);
  if (a == st_.allocs.end()) return;
  mark(a->second.job_key());
  if (!st_.changes.all) st_.changes.allocs.emplace(a->second.node_id, id);
  index_remove(st_.allocs_by_job, a->second.job_key(), id);
  index_remove(st_.allocs_by_node, a->second.node_id, id);
}

void ClusterStateIndex::put(const upstream::EtcdKv& kv) {
  const auto& k = kv.key;
  if (k == keys_.leader()) {
    st_.leader_value = kv.value;
    st_.leader_created = kv.create_revision;
    return;
  }
  if (k == keys_.restoring()) {
    st_.restoring = true;
    return;
  }
  auto parse = [&] { return json::parse(kv.value, nullptr, false); };
  if (k == keys_.scheduler_config()) {
    // Written by PUT /v1/operator/scheduler/configuration, which checked it.
    if (auto c = scheduler_config_from_json(parse(), st_.scheduler)) {
      st_.scheduler = c.value();
      st_.scheduler_stored = true;
    }
    st_.changes.all = true;  // preemption and the algorithm apply to every job
    return;
  }
  auto marker = [this](const std::string& jk) { mark(jk); };
  if (k.starts_with(keys_.nodes())) {
    auto j = parse();
    if (!j.is_object()) return;
    const std::string id = k.substr(keys_.nodes().size());
    raw_nodes_[id] = std::move(j);
    st_.down_nodes.erase(id);  // back
    merge_node(id);
    node_changed(id);
  } else if (k.starts_with(keys_.node_records())) {
    const std::string id = k.substr(keys_.node_records().size());
    record_revisions_[id] = kv.mod_revision;
    if (raw_nodes_.count(id)) return;  // live: its node key says the same
    json j = parse();
    if (!j.is_object()) j = {{"ID", id}};
    st_.down_nodes[id] = DownNode{std::move(j), kv.mod_revision};
  } else if (k.starts_with(keys_.alloc_stops())) {
    const std::string id = k.substr(keys_.alloc_stops().size());
    st_.stop_requests.insert(id);
    if (auto a = st_.allocs.find(id); a != st_.allocs.end()) mark(a->second.job_key());
  } else if (k.starts_with(keys_.allocs())) {
    std::string node, id;
    if (!split_last(k.substr(keys_.allocs().size()), node, id)) return;
    AllocView a;
    a.id = id;
    a.node_id = node;
    // Most alloc keys carry the Job of a version the state holds: that Job is compared as
    // text and never parsed (it is half an alloc's text, and parsing and comparing it was most
    // of applying a placement's watch event). Any other is parsed whole, below.
    json j;
    if (auto cut = split_job(kv.value)) {
      const std::string jk = job_key_of(cut->rest);
      const int version = cut->rest.value("JobVersion", 0);
      JobDoc held = docs_.find(jk, version, cut->job_text);
      if (!held) held = version_job(st_, jk, version);
      if (held && held.same_text(cut->job_text)) {
        j = std::move(cut->rest);
        a.job = shared(jk, version, std::move(held));
      }
    }
    if (!a.job) {
      j = parse();
      if (!j.is_object()) return;
      a.take(std::move(j));
      a.job = shared(a.job_key(), a.alloc.value("JobVersion", 0), std::move(a.job));
    } else {
      if (auto m = j.find("Metrics"); m != j.end()) {
        a.metrics = std::make_shared<const std::string>(json_text(*m));
        j.erase(m);
      }
      a.alloc = std::move(j);
    }
    a.key = k;
    // Its status (one JSON, held once): the alloc's as the state had it, else one that came
    // before the alloc.
    if (auto old = st_.allocs.find(id); old != st_.allocs.end()) {
      a.status = std::move(old->second.status);
    } else if (auto s = statuses_.find(id); s != statuses_.end()) {
      a.status = std::move(s->second);
      statuses_.erase(s);
    }
    unindex_alloc(id);
    index_add(st_.allocs_by_job, a.job_key(), id);
    index_add(st_.allocs_by_node, node, id);
    mark(a.job_key());
    if (!st_.changes.all) st_.changes.allocs.emplace(node, id);
    st_.allocs[id] = std::move(a);
  } else if (k.starts_with(keys_.status())) {
    std::string node, id;
    if (!split_last(k.substr(keys_.status().size()), node, id)) return;
    auto j = parse();
    if (!j.is_object()) return;
    if (auto a = st_.allocs.find(id); a != st_.allocs.end()) {
      a->second.status = std::move(j);
      mark(a->second.job_key());
      if (!st_.changes.all) st_.changes.allocs.emplace(a->second.node_id, id);
    } else {
      statuses_[id] = std::move(j);
    }
  } else if (k.starts_with(keys_.jobs())) {
    auto j = parse();
    if (!j.is_object()) return;
    const std::string jk = k.substr(keys_.jobs().size());
    const json* doc = j.contains("Job") ? &j["Job"] : nullptr;
    const bool periodic = doc && doc->is_object() && doc->contains("Periodic") &&
                          !(*doc)["Periodic"].is_null();
    const std::string type =
        doc && doc->is_object() ? doc->value("Type", std::string("service")) : "";
    if (periodic)
      st_.periodic_jobs.insert(jk);
    else
      st_.periodic_jobs.erase(jk);
    if (type == "system" || type == "sysbatch")
      st_.system_jobs.insert(jk);
    else
      st_.system_jobs.erase(jk);
    JobRecord rec(j);
    j = nullptr;
    rec.job = shared(jk, rec.version(), std::move(rec.job));
    st_.jobs[jk] = std::move(rec);
    st_.job_key_revision[jk] = kv.mod_revision;
    update_modify_index(jk);
    mark(jk);
  } else if (k.starts_with(keys_.job_versions_all())) {
    std::string job, version;
    if (!split_last(k.substr(keys_.job_versions_all().size()), job, version)) return;
    int v = 0;
    if (auto same = version_as_record(job, version, kv.value)) {
      v = *same;
    } else {
      auto j = parse();
      if (!j.is_object()) return;
      JobRecord rec(j);
      v = rec.version();
      rec.job = shared(job, v, std::move(rec.job));
      st_.job_versions[job][v] = std::move(rec);
    }
    version_created_[job][v] = kv.create_revision;
    version_keys_[k] = {job, v};
    update_modify_index(job);
    mark(job);
  } else {
    auto j = parse();
    if (!j.is_object()) return;
    if (k.starts_with(keys_.deployments())) {
      put_by_job(st_.deployments, st_.deployments_by_job, k.substr(keys_.deployments().size()),
                 std::move(j), marker);
    } else if (k.starts_with(keys_.evals())) {
      put_by_job(st_.evals, st_.evals_by_job, k.substr(keys_.evals().size()), std::move(j),
                 marker);
    } else if (k.starts_with(keys_.node_controls())) {
      const std::string id = k.substr(keys_.node_controls().size());
      st_.controls[id] = std::move(j);
      merge_node(id);
      node_changed(id);
    } else if (k.starts_with(keys_.periodic_launches())) {
      const std::string jk = k.substr(keys_.periodic_launches().size());
      st_.periodic_launches[jk] = std::move(j);
      mark(jk);
    } else if (k.starts_with(keys_.servers())) {
      st_.servers[k.substr(keys_.servers().size())] = std::move(j);
    }
  }
}

std::optional<int> ClusterStateIndex::version_as_record(const std::string& jk,
                                                       const std::string& version,
                                                       const std::string& text) {
  auto rec = st_.jobs.find(jk);
  if (rec == st_.jobs.end() || !rec->second.is_object()) return std::nullopt;
  const int v = rec->second.version();
  if (std::to_string(v) != version || rec->second.text() != text) return std::nullopt;
  st_.job_versions[jk][v] = rec->second;
  return v;
}

void ClusterStateIndex::erase(const std::string& k) {
  if (k == keys_.leader()) {
    st_.leader_value.clear();
    st_.leader_created = 0;
  } else if (k == keys_.restoring()) {
    st_.restoring = false;
    st_.changes.all = true;  // the whole cluster may differ now
  } else if (k == keys_.scheduler_config()) {
    st_.scheduler = SchedulerConfig{};
    st_.scheduler_stored = false;
    st_.changes.all = true;
  } else if (k.starts_with(keys_.nodes())) {
    const std::string id = k.substr(keys_.nodes().size());
    auto raw = raw_nodes_.find(id);
    if (raw == raw_nodes_.end()) return;
    // Down: known still when its agent left a record (written with the key, so the same text).
    if (auto rec = record_revisions_.find(id); rec != record_revisions_.end())
      st_.down_nodes[id] = DownNode{std::move(raw->second), rec->second};
    raw_nodes_.erase(raw);
    merge_node(id);
    node_changed(id);
  } else if (k.starts_with(keys_.node_records())) {
    const std::string id = k.substr(keys_.node_records().size());
    record_revisions_.erase(id);
    st_.down_nodes.erase(id);
  } else if (k.starts_with(keys_.alloc_stops())) {
    st_.stop_requests.erase(k.substr(keys_.alloc_stops().size()));
  } else if (k.starts_with(keys_.allocs())) {
    std::string node, id;
    if (!split_last(k.substr(keys_.allocs().size()), node, id)) return;
    unindex_alloc(id);
    // Its status key may outlive it (and the alloc come back): the status waits as one that
    // came first.
    if (auto a = st_.allocs.find(id); a != st_.allocs.end()) {
      if (!a->second.status.is_null()) statuses_[id] = std::move(a->second.status);
      st_.allocs.erase(a);
    }
  } else if (k.starts_with(keys_.status())) {
    std::string node, id;
    if (!split_last(k.substr(keys_.status().size()), node, id)) return;
    statuses_.erase(id);
    if (auto a = st_.allocs.find(id); a != st_.allocs.end()) {
      a->second.status = nullptr;
      mark(a->second.job_key());
      if (!st_.changes.all) st_.changes.allocs.emplace(a->second.node_id, id);
    }
  } else if (k.starts_with(keys_.jobs())) {
    const std::string jk = k.substr(keys_.jobs().size());
    st_.jobs.erase(jk);
    st_.job_key_revision.erase(jk);
    st_.periodic_jobs.erase(jk);
    st_.system_jobs.erase(jk);
    update_modify_index(jk);
    mark(jk);
  } else if (k.starts_with(keys_.job_versions_all())) {
    auto it = version_keys_.find(k);
    if (it == version_keys_.end()) return;
    const auto [job, v] = it->second;
    version_keys_.erase(it);
    if (auto vs = st_.job_versions.find(job); vs != st_.job_versions.end()) {
      vs->second.erase(v);
      if (vs->second.empty()) st_.job_versions.erase(vs);
    }
    if (auto vc = version_created_.find(job); vc != version_created_.end()) {
      vc->second.erase(v);
      if (vc->second.empty()) version_created_.erase(vc);
    }
    update_modify_index(job);
    mark(job);
  } else if (k.starts_with(keys_.deployments())) {
    erase_by_job(st_.deployments, st_.deployments_by_job, k.substr(keys_.deployments().size()),
                 [this](const std::string& jk) { mark(jk); });
  } else if (k.starts_with(keys_.evals())) {
    erase_by_job(st_.evals, st_.evals_by_job, k.substr(keys_.evals().size()),
                 [this](const std::string& jk) { mark(jk); });
  } else if (k.starts_with(keys_.node_controls())) {
    const std::string id = k.substr(keys_.node_controls().size());
    st_.controls.erase(id);
    merge_node(id);
    node_changed(id);
  } else if (k.starts_with(keys_.periodic_launches())) {
    const std::string jk = k.substr(keys_.periodic_launches().size());
    st_.periodic_launches.erase(jk);
    mark(jk);
  } else if (k.starts_with(keys_.servers())) {
    st_.servers.erase(k.substr(keys_.servers().size()));
  }
}

ClusterState read_cluster_state(const upstream::EtcdRange& range, const Keys& keys) {
  ClusterStateIndex index(keys);
  for (const auto& kv : range.kvs) index.put(kv);
  ClusterState st = std::move(index.state());
  st.revision = range.revision;
  return st;
}

}  // namespace drover::server
