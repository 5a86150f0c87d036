// Task event descriptions for the CLI (see task_events.hpp).
#include "cli/task_events.hpp"

#include "cli/command_context.hpp"

namespace drover::cli {

std::string describe_task_event(const nlohmann::json& event) {
  std::string text = str_field(event, "DisplayMessage");
  if (text.empty()) text = str_field(event, "Message");
  if (str_field(event, "Type") != "Terminated") return text;

  auto add = [&text](const std::string& part) {
    if (text.find(part) != std::string::npos) return;
    text += text.empty() ? part : ", " + part;
  };
  add("Exit Code: " + std::to_string(int_field(event, "ExitCode")));
  if (const auto signal = int_field(event, "Signal"); signal != 0) {
    add("Signal: " + std::to_string(signal));
  }
  const auto details = event.is_object() ? event.value("Details", nlohmann::json::object())
                                         : nlohmann::json::object();
  if (str_field(details, "oom_killed") == "true" || bool_field(details, "oom_killed")) {
    add("OOM Killed");
  }
  return text;
}

}  // namespace drover::cli
