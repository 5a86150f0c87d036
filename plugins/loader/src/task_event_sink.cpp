// TaskEventSink (see task_event_sink.hpp): bounds and shapes each event a driver emits, then
// hands it to the agent's handler.
#include "task_event_sink.hpp"

#include <spdlog/spdlog.h>

#include <cstring>
#include <mutex>
#include <optional>

namespace drover::plugins {
namespace {

// Bounds on what a plugin may send: ids are names, an event is a line in `alloc status`.
constexpr std::size_t kMaxId = 256;
constexpr std::size_t kMaxEventJson = 64 * 1024;
constexpr std::size_t kMaxType = 128;
constexpr std::size_t kMaxMessage = 4096;
constexpr std::size_t kMaxDetails = 32;

// A string from the plugin, or nullopt when missing or longer than `limit` (no terminator
// within the bound may mean garbage, so it is not trusted).
std::optional<std::string> bounded(const char* s, std::size_t limit) {
  if (s == nullptr) return std::nullopt;
  std::size_t n = strnlen(s, limit + 1);
  if (n > limit) return std::nullopt;
  return std::string(s, n);
}

// {"Type", "Message", "Details": {str: str}} with every key present, or null when unusable.
nlohmann::json shaped(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return nullptr;
  auto type = j.find("Type");
  if (type == j.end() || !type->is_string() || type->get_ref<const std::string&>().empty() ||
      type->get_ref<const std::string&>().size() > kMaxType)
    return nullptr;
  std::string message;
  if (auto m = j.find("Message"); m != j.end() && m->is_string())
    message = m->get<std::string>().substr(0, kMaxMessage);
  nlohmann::json details = nlohmann::json::object();
  if (auto d = j.find("Details"); d != j.end() && d->is_object()) {
    for (const auto& [k, v] : d->items()) {
      if (details.size() >= kMaxDetails) break;
      if (v.is_string() && k.size() <= kMaxType)
        details[k] = v.get<std::string>().substr(0, kMaxMessage);
    }
  }
  return {{"Type", *type}, {"Message", message}, {"Details", details}};
}

}  // namespace

void TaskEventSink::set_handler(TaskEventHandler handler) {
  std::unique_lock lock(mu_);
  handler_ = std::move(handler);
}

void TaskEventSink::deliver(void* ctx, const char* alloc_id, const char* task_name,
                            const char* event_json) noexcept {
  try {
    auto* self = static_cast<TaskEventSink*>(ctx);
    auto alloc = bounded(alloc_id, kMaxId), task = bounded(task_name, kMaxId);
    auto text = bounded(event_json, kMaxEventJson);
    nlohmann::json event = text ? shaped(*text) : nlohmann::json();
    if (self == nullptr || !alloc || !task || alloc->empty() || task->empty() || event.is_null()) {
      spdlog::warn("plugins: dropped a malformed task event from a driver");
      return;
    }
    std::shared_lock lock(self->mu_);
    if (self->handler_) self->handler_(*alloc, *task, event);
  } catch (const std::exception& e) {
    spdlog::warn("plugins: task event not recorded: {}", e.what());
  } catch (...) {
  }
}

}  // namespace drover::plugins
