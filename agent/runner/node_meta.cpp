// The node's metadata, static and dynamic; see node_meta.hpp.
#include "runner/node_meta.hpp"

#include <cctype>
#include <nlohmann/json.hpp>

namespace drover::runner {

namespace {

constexpr std::size_t kMaxKey = 128;
constexpr std::size_t kMaxValue = 4096;
// The node document goes to etcd with every registration: its dynamic keys stay small.
constexpr std::size_t kMaxDynamicBytes = 64 * 1024;

}  // namespace

NodeMeta::NodeMeta(std::map<std::string, std::string> static_meta, DynamicMeta dynamic,
                   std::function<Status(const std::string&)> save)
    : static_(std::move(static_meta)), dynamic_(std::move(dynamic)), save_(std::move(save)) {}

std::map<std::string, std::string> NodeMeta::merged() const {
  std::lock_guard lock(mu_);
  return merged_locked();
}

std::map<std::string, std::string> NodeMeta::merged_locked() const {
  auto out = static_;
  for (const auto& [k, v] : dynamic_) {
    if (v) out[k] = *v;
    else out.erase(k);
  }
  return out;
}

std::optional<std::string> NodeMeta::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  if (auto d = dynamic_.find(key); d != dynamic_.end()) return d->second;
  if (auto s = static_.find(key); s != static_.end()) return s->second;
  return std::nullopt;
}

DynamicMeta NodeMeta::dynamic() const {
  std::lock_guard lock(mu_);
  return dynamic_;
}

uint64_t NodeMeta::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

std::optional<std::string> NodeMeta::problem(const std::string& key,
                                             const std::optional<std::string>& value) {
  if (key.empty()) return "a key must not be empty";
  if (key.size() > kMaxKey)
    return "key \"" + key.substr(0, 32) + "...\": longer than " + std::to_string(kMaxKey) +
           " characters";
  // What `${meta.KEY}` can name in a constraint or an interpolation.
  for (unsigned char c : key)
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.')
      return "key \"" + key + "\": only letters, digits, '_', '-' and '.'";
  if (value) {
    if (value->size() > kMaxValue)
      return "key \"" + key + "\": its value is longer than " + std::to_string(kMaxValue) + " bytes";
    for (unsigned char c : *value)
      if (c < 0x20 || c == 0x7f) return "key \"" + key + "\": its value holds a control character";
  }
  return std::nullopt;
}

Result<std::map<std::string, std::string>> NodeMeta::apply(const DynamicMeta& changes) {
  for (const auto& [k, v] : changes)
    if (auto why = problem(k, v)) return make_error("Meta: " + *why, Errc::Invalid);
  std::lock_guard lock(mu_);
  DynamicMeta next = dynamic_;
  for (const auto& [k, v] : changes) {
    // Removing a key only the dynamic layer had leaves nothing to remember.
    if (!v && !static_.count(k)) next.erase(k);
    else next[k] = v;
  }
  const std::string text = to_json(next);
  if (text.size() > kMaxDynamicBytes)
    return make_error("Meta: the node's dynamic metadata would be " + std::to_string(text.size()) +
                          " bytes, more than " + std::to_string(kMaxDynamicBytes),
                      Errc::Invalid);
  if (save_)
    if (auto s = save_(text); !s) return s.error();
  dynamic_ = std::move(next);
  ++generation_;
  return merged_locked();
}

std::string NodeMeta::to_json(const DynamicMeta& d) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : d) j[k] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  return j.dump();
}

Result<DynamicMeta> NodeMeta::from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return make_error("the stored node metadata is not a JSON object");
  DynamicMeta out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_null()) out[k] = std::nullopt;
    else if (v.is_string()) out[k] = v.get<std::string>();
    else return make_error("the stored node metadata's key \"" + k + "\" is not a string");
  }
  return out;
}

}  // namespace drover::runner
