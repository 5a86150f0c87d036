// The agent's side of the upstream; see upstream_service.hpp.
#include "upstream/upstream_service.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <regex>
#include <set>

#include "jobspec/parse.hpp"
#include "runner/admission.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/restart_tracker.hpp"
#include "drover/common/json_text.hpp"
#include "drover/common/names.hpp"

namespace drover::upstream {

using nlohmann::json;

UpstreamService::UpstreamService(std::unique_ptr<Upstream> upstream, runner::AllocManager& manager,
                                 std::function<json()> node_json, Options opts)
    : upstream_(std::move(upstream)),
      manager_(manager),
      node_json_(std::move(node_json)),
      opts_(std::move(opts)),
      reporter_([this](const std::vector<AllocUpdate>& batch) {
        auto st = upstream_->report(batch);
        if (!st) set_connected(false);
        return st;
      }) {
  // An alloc whose update the queue's bound pushed out during an outage: its status now.
  reporter_.set_refill([this](const std::vector<std::string>& ids) {
    for (const auto& id : ids)
      if (auto a = manager_.alloc(id)) alloc_changed(*a);
  });
}

UpstreamService::~UpstreamService() { stop(); }

void UpstreamService::start() {
  // What the store should show after a restart: every alloc as it is now.
  for (const auto& a : manager_.allocs()) alloc_changed(a);
  reporter_.start();
  session_ = std::jthread([this](std::stop_token stop) { session_loop(stop); });
  if (upstream_->clustered())
    watch_ = std::jthread([this](std::stop_token stop) { watch_loop(stop); });
}

void UpstreamService::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  session_.request_stop();  // wakes their waits
  watch_.request_stop();
  upstream_->interrupt();
  if (session_.joinable()) session_.join();
  if (watch_.joinable()) watch_.join();
  // One last flush so a clean shutdown leaves the latest status behind.
  reporter_.tick(AllocReporter::Clock::now() + std::chrono::hours(1));
  reporter_.stop();
}

bool UpstreamService::wait(std::chrono::milliseconds d, std::stop_token stop) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

void UpstreamService::node_changed() {
  {
    std::lock_guard lock(mu_);
    node_dirty_ = true;
  }
  cv_.notify_all();
}

void UpstreamService::alloc_changed(const state::Alloc& a) {
  reporter_.enqueue({a.id, alloc_status(state::to_json(a, /*with_job=*/false))});
}

void UpstreamService::set_connected(bool c) {
  bool was = connected_.exchange(c);
  if (was == c) return;
  if (c) {
    spdlog::info("upstream {}: node registered", upstream_->name());
    reporter_.retry_now();
  } else {
    spdlog::warn("upstream {}: lost contact; tasks go on, updates are kept", upstream_->name());
  }
  if (on_connection_) on_connection_(c);
}

void UpstreamService::session_loop(std::stop_token stop) {
  // Retries back off, but never past one heartbeat interval: a restarted etcd keeps each
  // lease for its TTL (and an election timeout) from its start, so an agent that tries again
  // within a third of the TTL re-registers before its old lease lapses (5 s would outlast a
  // TTL under ~15 s). docs/cluster.md, "Keys".
  const auto longest = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(5000),
                                                           opts_.heartbeat_interval);
  const auto first = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(500), longest);
  auto backoff = first;
  bool registered = false;
  bool same_lease = false;  // a changed node registered again: no lapse to make up for
  while (true) {
    if (!connected_) stop_out_of_touch_allocs();
    if (!registered) {
      // What happened while the node was away reaches the store before the node does: the
      // leader that sees it back keeps or stops its unknown allocs by these statuses.
      if (!same_lease && !reporter_.flush(opts_.heartbeat_interval))
        spdlog::debug("upstream: alloc statuses not all written before registering");
      auto st = upstream_->register_node(node_json_());
      if (st) {
        registered = true;
        same_lease = false;
        backoff = first;
        last_contact_ = std::chrono::steady_clock::now();
        set_connected(true);
      } else {
        spdlog::debug("upstream register: {}", st.message());
        set_connected(false);
        if (!wait(backoff, stop)) return;
        backoff = std::min(backoff * 2, longest);
        continue;
      }
    }
    {
      std::unique_lock lock(mu_);
      bool dirty = cv_.wait_for(lock, stop, opts_.heartbeat_interval, [&] { return node_dirty_; });
      if (stop.stop_requested()) return;
      if (dirty) {
        // A changed node is registered again at once (same key, same lease).
        node_dirty_ = false;
        registered = false;
        same_lease = true;
        continue;
      }
    }
    auto st = upstream_->heartbeat();
    if (!st) {
      spdlog::warn("upstream heartbeat: {}", st.message());
      registered = false;
      set_connected(false);
      // The watch's connection may be as dead as the heartbeat's: start it again.
      upstream_->interrupt();
    } else {
      last_contact_ = std::chrono::steady_clock::now();
      set_connected(true);
    }
  }
}

namespace {

// The group's disconnect.stop_on_client_after, from the alloc's job (canonical JSON).
std::optional<std::chrono::nanoseconds> stop_on_client_after(const json& job,
                                                             const std::string& group) {
  for (const auto& g : job.value("TaskGroups", json::array())) {
    if (!g.is_object() || g.value("Name", "") != group) continue;
    const json d = g.value("Disconnect", json::object());
    if (!d.is_object() || !d.contains("StopOnClientAfter")) return std::nullopt;
    const json& v = d["StopOnClientAfter"];
    if (!v.is_number_integer() || v.get<int64_t>() <= 0) return std::nullopt;
    return std::chrono::nanoseconds(v.get<int64_t>());
  }
  return std::nullopt;
}

}  // namespace

void UpstreamService::stop_out_of_touch_allocs() {
  if (!upstream_->clustered()) return;
  const auto away = std::chrono::steady_clock::now() - last_contact_;
  for (const auto& a : manager_.allocs()) {
    if (a.terminal() || a.desired_status != "run" || !a.job) continue;
    auto after = stop_on_client_after(*a.job, a.group);
    if (!after || away < *after) continue;
    const std::string why = "no contact with the servers for " +
                            runner::format_duration(*after) +
                            " (its group's disconnect.stop_on_client_after)";
    spdlog::warn("upstream: stopping alloc {}: {}", a.id, why);
    if (auto st = manager_.stop_alloc(a.id, "Alloc stopped: " + why); !st)
      spdlog::warn("stop {}: {}", a.id, st.message());
  }
}

int64_t UpstreamService::load_revision() const {
  std::ifstream in(opts_.data_dir / "upstream-revision.json");
  if (!in) return 0;
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || j.value("scope", "") != opts_.revision_scope) return 0;
  return j.value("revision", int64_t{0});
}

void UpstreamService::save_revision(int64_t rev) {
  // Written atomically: a crash leaves the old revision or the new one, never half a file.
  auto path = opts_.data_dir / "upstream-revision.json";
  auto tmp = opts_.data_dir / "upstream-revision.json.tmp";
  std::string text = json_text(json{{"scope", opts_.revision_scope}, {"revision", rev}}) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    spdlog::warn("cannot write {}", tmp.string());
    return;
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (ok) std::filesystem::rename(tmp, path);
}

void UpstreamService::apply(const DesiredAllocEvent& ev) {
  const std::string& id = ev.alloc_id;
  if (ev.kind == DesiredAllocEvent::Kind::Delete) {
    if (!manager_.alloc(id)) return;
    // A finished alloc the servers collected (docs/cluster.md, "Garbage collection"): forgotten
    // here too, without a status write that would leave its status key behind.
    if (manager_.gc_alloc(id)) {
      spdlog::info("upstream: alloc {} collected by the servers, forgotten", id);
      return;
    }
    spdlog::info("upstream: alloc {} removed, stopping it", id);
    if (auto st = manager_.stop_alloc(id); !st) spdlog::warn("stop {}: {}", id, st.message());
    return;
  }
  auto fail = [&](const std::string& why) {
    spdlog::warn("upstream: alloc {} refused: {}", id, why);
    reporter_.enqueue({id,
                       {{"ID", id},
                        {"ClientStatus", "failed"},
                        {"ClientDescription", why},
                        {"DesiredStatus", "run"},
                        {"TaskStates", json::object()},
                        {"DeploymentStatus", nullptr},
                        {"ModifyTime", state::now_ns()}}});
  };
  json a = json::parse(ev.value, nullptr, false);
  if (!a.is_object()) return fail("the key's value is not a JSON object");
  if (a.contains("ID") && a["ID"].is_string() && a["ID"] != id)
    return fail("its ID \"" + a["ID"].get<std::string>() + "\" differs from its key");
  std::string desired = a.value("DesiredStatus", "run");
  if (desired == "stop" || desired == "evict") {
    if (manager_.alloc(id)) (void)manager_.stop_alloc(id);
    return;
  }
  if (manager_.alloc(id)) return;  // placed already: allocs are immutable but for a stop
  if (!a.contains("Job") || !a["Job"].is_object()) return fail("no Job object");
  // The same admission as a job submitted to the API: driver health and config included.
  // The scheduler placed this one alloc: its siblings are on other nodes, so distinct_hosts
  // and distinct_property are the scheduler's, not counted here.
  // A child the server launched (periodic or dispatched) is "<parent>/<suffix>" (a periodic
  // child of a dispatched one has two suffixes), and its parent, Dispatched and payload come
  // from the launch, which a job document never gives (jobspec/parse_nomad_json.cpp,
  // kServerFields): it is admitted under its first ancestor's id, then given them back from
  // the server's canonical job.
  json doc = a["Job"];
  const std::string parent = doc.value("ParentID", "");
  const std::string job_id = doc.value("ID", "");
  bool child = !parent.empty() && job_id.rfind(parent + "/", 0) == 0;
  for (std::size_t from = 0; child && from <= job_id.size();) {
    const auto slash = std::min(job_id.find('/', from), job_id.size());
    child = !plain_name_problem(job_id.substr(from, slash - from));
    from = slash + 1;
  }
  if (child) doc["ID"] = doc["Name"] = job_id.substr(0, job_id.find('/'));
  auto parsed = manager_.ctx().admission->admit(json_text(json{{"Job", doc}}),
                                                /*whole_job_here=*/false);
  if (!parsed.problems.empty())
    return fail("job is invalid: " + jobspec::format_problems(parsed.problems));
  if (!parsed.conflicts.empty())
    return fail("job cannot run on this node: " + jobspec::format_problems(parsed.conflicts));
  if (child) {
    try {
      auto launched = jobspec::job_from_json(a["Job"]);
      parsed.job->id = launched.id;
      parsed.job->name = launched.name;
      parsed.job->parent_id = launched.parent_id;
      parsed.job->dispatched = launched.dispatched;
      parsed.job->payload = launched.payload;
    } catch (const std::exception& e) {
      return fail(std::string("its launched job cannot be read: ") + e.what());
    }
  }
  std::string group = a.value("TaskGroup", "");
  if (group.empty() && parsed.job->groups.size() == 1) group = parsed.job->groups[0].name;
  int index = 0;
  static const std::regex kIndex(R"(.*\[(\d{1,6})\]$)");
  std::smatch m;
  std::string name = a.value("Name", "");
  if (std::regex_match(name, m, kIndex)) index = std::stoi(m[1].str());
  spdlog::info("upstream: placing alloc {} (job {}, group {})", id, parsed.job->id, group);
  if (auto st = manager_.place(id, *parsed.job, group, index); !st) fail(st.message());
}

void UpstreamService::resync(bool stop_missing, std::stop_token stop) {
  while (true) {
    auto r = upstream_->list_allocs();
    if (r) {
      std::set<std::string> listed;
      for (const auto& [id, value] : r.value().allocs) {
        listed.insert(id);
        apply({DesiredAllocEvent::Kind::Put, id, value, r.value().revision});
      }
      if (stop_missing)
        for (const auto& a : manager_.allocs())
          if (!a.terminal() && !listed.count(a.id)) (void)manager_.stop_alloc(a.id);
      revision_ = r.value().revision;
      save_revision(revision_);
      return;
    }
    spdlog::debug("upstream list: {}", r.message());
    if (!wait(std::chrono::seconds(1), stop)) return;
  }
}

void UpstreamService::watch_loop(std::stop_token stop) {
  revision_ = load_revision();
  if (revision_ == 0) resync(/*stop_missing=*/false, stop);
  while (true) {
    if (stop.stop_requested()) return;
    auto st = upstream_->watch_allocs(revision_, [&](const DesiredAllocEvent& ev) {
      apply(ev);
      revision_ = std::max(revision_, ev.revision);
      save_revision(revision_);
    });
    if (!st && st.code() == Errc::Gone) {
      spdlog::warn("upstream watch: {}; reading every desired alloc again", st.message());
      resync(/*stop_missing=*/true, stop);
      continue;
    }
    spdlog::debug("upstream watch: {}", st.message());
    if (!wait(std::chrono::milliseconds(500), stop)) return;
  }
}

}  // namespace drover::upstream
