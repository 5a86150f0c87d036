// Watches a job's new allocations until they settle (see alloc_monitor.hpp).
#include "cli/alloc_monitor.hpp"

#include <map>
#include <ostream>
#include <thread>

#include "cli/task_events.hpp"

namespace drover::cli {

namespace {

bool is_failure(const std::string& client_status) {
  return client_status == "failed" || client_status == "lost";
}

bool is_settled(const std::string& client_status) {
  return client_status == "running" || client_status == "complete" || is_failure(client_status);
}

// For a failed alloc, the last event of each failed task says why, which saves the user an
// `alloc status` round trip.
void print_failed_tasks(Context& ctx, const nlohmann::json& alloc) {
  const auto states = alloc.value("TaskStates", nlohmann::json::object());
  if (!states.is_object()) return;
  for (const auto& [task, state] : states.items()) {
    if (!bool_field(state, "Failed")) continue;
    std::string why;
    const auto events = state.value("Events", nlohmann::json::array());
    if (events.is_array() && !events.empty()) why = describe_task_event(events.back());
    ctx.out << "      Task \"" << task << "\" failed" << (why.empty() ? "" : ": " + why) << '\n';
  }
}

}  // namespace

int monitor_allocations(Context& ctx, const std::vector<std::string>& alloc_ids,
                        const AllocMonitorTiming& timing) {
  ctx.out << "==> Monitoring allocations\n";
  std::map<std::string, std::string> pending;  // id -> last seen ClientStatus
  for (const auto& id : alloc_ids) pending.emplace(id, "pending");
  int failed = 0;
  const auto deadline = std::chrono::steady_clock::now() + timing.give_up_after;

  while (!pending.empty()) {
    for (auto it = pending.begin(); it != pending.end();) {
      auto alloc = ctx.api.get_json("/v1/allocation/" + url_escape(it->first));
      if (!alloc) return print_error(ctx, alloc.message());
      const std::string status = str_field(*alloc, "ClientStatus");
      it->second = status;
      if (!is_settled(status)) {
        ++it;
        continue;
      }
      ctx.out << "    Allocation \"" << short_id(it->first) << "\" (group \""
              << str_field(*alloc, "TaskGroup") << "\") is \"" << status << "\"";
      const std::string description = str_field(*alloc, "ClientDescription");
      if (is_failure(status) && !description.empty()) ctx.out << ": " << description;
      ctx.out << '\n';
      if (is_failure(status)) {
        ++failed;
        print_failed_tasks(ctx, *alloc);
      }
      ctx.out.flush();
      it = pending.erase(it);
    }
    if (pending.empty() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(timing.poll_interval);
  }

  for (const auto& [id, status] : pending) {
    ctx.out << "    Allocation \"" << short_id(id) << "\" is still \"" << status << "\" after "
            << std::chrono::duration_cast<std::chrono::seconds>(timing.give_up_after).count()
            << "s; see `drover alloc status " << short_id(id) << "`\n";
  }
  if (failed > 0) {
    ctx.out << "==> " << failed << " of " << alloc_ids.size() << " allocations failed\n";
    return 2;
  }
  return 0;
}

}  // namespace drover::cli
