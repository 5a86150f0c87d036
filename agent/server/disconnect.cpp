// Disconnected nodes' allocs; see disconnect.hpp.
#include "server/disconnect.hpp"

#include <algorithm>
#include <optional>

#include "state/alloc.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

constexpr int64_t kDefaultKillTimeoutNs = 5'000'000'000LL;  // Nomad's DefaultKillTimeout

// The best normalised score the alloc's placement recorded (Nomad's Metrics.MaxNormScore).
std::optional<double> max_norm_score(const AllocView& a) {
  if (!a.metrics) return std::nullopt;
  json m = json::parse(*a.metrics, nullptr, false);
  std::optional<double> best;
  for (const auto& s : m.is_object() ? m.value("ScoreMetaData", json::array()) : json::array())
    if (s.is_object() && s.contains("NormScore") && s["NormScore"].is_number())
      best = std::max(best.value_or(s["NormScore"].get<double>()), s["NormScore"].get<double>());
  return best;
}

bool running(const AllocView& a) { return a.client_status() == "running"; }

std::string reconcile_of(const jobspec::TaskGroup& g) {
  return g.disconnect ? g.disconnect->reconcile : std::string("best_score");
}

const AllocView& best_score(const AllocView& original, const AllocView& replacement) {
  auto o = max_norm_score(original), r = max_norm_score(replacement);
  const bool better = (!o && r) || (o && r && *r > *o);
  // Never a running original for a replacement that is not running.
  return better && (running(replacement) || !running(original)) ? replacement : original;
}

// When the alloc last started its leader task, else its oldest main task's last start (0 when
// none has started): Nomad's startOfLeaderOrOldestTaskInMain.
int64_t started(const jobspec::TaskGroup& g, const AllocView& a) {
  const json states = a.status.is_object() ? a.status.value("TaskStates", json::object())
                                           : json::object();
  int64_t oldest = 0;
  for (const auto& t : g.tasks) {
    auto s = states.find(t.name);
    const int64_t at =
        s != states.end() && s->is_object() ? s->value("StartedAtNs", int64_t{0}) : 0;
    if (t.leader) return at;
    if (at != 0 && (oldest == 0 || at < oldest)) oldest = at;
  }
  return oldest;
}

}  // namespace

void mark_client_status(json& alloc, std::string_view status, std::string_view description,
                        int64_t now_ns) {
  alloc["ClientStatus"] = status;
  alloc["ClientDescription"] = description;
  if (!alloc.contains("AllocStates") || !alloc["AllocStates"].is_array())
    alloc["AllocStates"] = json::array();
  alloc["AllocStates"].push_back({{"Field", "ClientStatus"},
                                  {"Value", status},
                                  {"Time", state::rfc3339(now_ns)},
                                  {"TimeNs", now_ns}});
  alloc["ModifyTime"] = now_ns;
}

int64_t marked_since(const json& alloc, std::string_view status) {
  int64_t since = 0;
  auto states = alloc.find("AllocStates");
  if (states == alloc.end() || !states->is_array()) return 0;
  for (const auto& s : *states)
    if (s.is_object() && s.value("Field", "") == "ClientStatus" && s.value("Value", "") == status)
      since = s.value("TimeNs", int64_t{0});
  return since;
}

int64_t lost_at(const jobspec::TaskGroup& g, const json& alloc) {
  const int64_t after = g.disconnect ? g.disconnect->lost_after.count() : 0;
  return marked_since(alloc, "unknown") + after;
}

int64_t replace_lost_after(const jobspec::TaskGroup& g, const json& alloc) {
  if (!g.disconnect || !g.disconnect->stop_on_client_after ||
      g.disconnect->stop_on_client_after->count() <= 0)
    return 0;
  int64_t kill = kDefaultKillTimeoutNs;
  for (const auto& t : g.tasks) kill = std::max<int64_t>(kill, t.kill_timeout.count());
  return marked_since(alloc, "lost") + g.disconnect->stop_on_client_after->count() + kill;
}

const AllocView& keep_on_reconnect(const jobspec::TaskGroup& g, const AllocView& original,
                                   const AllocView& replacement) {
  if (replacement.alloc.value("JobVersion", 0) > original.alloc.value("JobVersion", 0))
    return replacement;
  const std::string how = reconcile_of(g);
  if (how == "keep_original") return original;
  if (how == "keep_replacement") return replacement;
  if (how == "longest_running") {
    const int64_t o = started(g, original), r = started(g, replacement);
    if (o == 0 && r == 0) return best_score(original, replacement);
    if (o == 0) return replacement;
    if (r == 0) return original;
    return o < r ? original : replacement;
  }
  return best_score(original, replacement);
}

}  // namespace drover::server
