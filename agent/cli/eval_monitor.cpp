// Following a server's evaluation; see eval_monitor.hpp.
#include "cli/eval_monitor.hpp"

#include <algorithm>
#include <chrono>
#include <ostream>
#include <thread>

namespace drover::cli {

void await_evaluation(Context& ctx, nlohmann::json& answer, int wait_s) {
  if (!answer.is_object() || answer.contains("AllocIDs")) return;
  const std::string id = str_field(answer, "EvalID");
  if (id.empty()) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
  // Most evaluations are taken up within a leader's pass (milliseconds): ask often at first.
  auto pause = std::chrono::milliseconds(10);
  while (true) {
    auto e = ctx.api.get_json(with_namespace(ctx, "/v1/evaluation/" + id));
    const std::string status = e ? str_field(*e, "Status") : "";
    if (!status.empty() && status != "pending") {
      answer["EvalStatus"] = status;
      answer["EvalStatusDescription"] = str_field(*e, "StatusDescription");
      answer["AllocIDs"] = e->value("PlacedAllocs", nlohmann::json::array());
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(250));
  }
  answer["EvalStatus"] = "pending";
  answer["AllocIDs"] = nlohmann::json::array();
  ctx.err << "Evaluation \"" << short_id(id) << "\" is still pending after " << wait_s
          << " s (is there a leader?); follow it with `drover job status`\n";
}

void print_failed_placements(std::ostream& out, const nlohmann::json& failed) {
  if (!failed.is_object()) return;
  for (const auto& [group, m] : failed.items()) {
    out << "  Task Group \"" << group << "\" (failed to place "
        << std::max<int64_t>(1, int_field(m, "CoalescedFailures") + 1) << " allocation"
        << (int_field(m, "CoalescedFailures") > 0 ? "s" : "") << "):\n";
    const auto exhausted = m.value("DimensionExhausted", nlohmann::json::object());
    for (const auto& [dim, n] : exhausted.items())
      out << "    * Resources exhausted on " << n.dump() << " nodes\n"
          << "    * Dimension \"" << dim << "\" exhausted on " << n.dump() << " nodes\n";
    const auto filtered = m.value("ConstraintFiltered", nlohmann::json::object());
    for (const auto& [c, n] : filtered.items())
      out << "    * Constraint \"" << c << "\": " << n.dump() << " nodes excluded by filter\n";
  }
}

}  // namespace drover::cli
