// DevicePlugin: the agent-side wrapper of one device plugin's C calls (drover/plugin.h). It
// owns the plugin's instance, frees every string the plugin hands out with the plugin's own
// free_string, and turns failures and malformed JSON into error values or an undetected
// fingerprint, so that callers can read every documented key without checking.
#include <utility>

#include "drover/common/json_text.hpp"
#include "drover/loader/registry.hpp"
#include "drover/plugin.h"
#include "out_strings.hpp"

namespace drover::plugins {
namespace {

using nlohmann::json;

std::string prefixed(const DevicePlugin& p, const char* call, const std::string& what) {
  return "device plugin " + p.name() + ": " + call + ": " + what;
}

drover::Error call_error(const DevicePlugin& p, const char* call, drover_status st,
                         const OutStrings& s) {
  return drover::make_error(prefixed(p, call, call_failure(st, s)));
}

drover::Result<json> parse_object(const DevicePlugin& p, const char* call, const OutStrings& s) {
  if (s.out == nullptr) return drover::make_error(prefixed(p, call, "returned no JSON"));
  auto j = json::parse(s.out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return drover::make_error(prefixed(p, call, "returned invalid JSON"));
  if (!j.is_object()) return drover::make_error(prefixed(p, call, "not a JSON object"));
  return j;
}

std::string to_text(const json& j) {
  return drover::json_text(j);
}

void default_key(json& j, const char* key, json value) {
  auto it = j.find(key);
  const bool same =
      it != j.end() && (value.is_number() ? it->is_number() : it->type() == value.type());
  if (!same) j[key] = std::move(value);
}

// Keeps only well-formed groups and instances, filling keys a sloppy plugin left out, so
// that the agent's scheduler never trips over a missing field.
json normalized_groups(const json& devices) {
  json groups = json::array();
  if (!devices.is_array()) return groups;
  for (const auto& g : devices) {
    if (!g.is_object()) continue;
    json group = g;
    for (const char* key : {"Vendor", "Type", "Name"}) default_key(group, key, "");
    default_key(group, "Attributes", json::object());
    json instances = json::array();
    if (auto it = g.find("Instances"); it != g.end() && it->is_array()) {
      for (const auto& i : *it) {
        if (!i.is_object() || !i.contains("ID") || !i["ID"].is_string()) continue;
        json inst = i;
        default_key(inst, "Healthy", false);
        default_key(inst, "HealthDescription", "");
        default_key(inst, "Attributes", json::object());
        instances.push_back(std::move(inst));
      }
    }
    group["Instances"] = std::move(instances);
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace

DevicePlugin::DevicePlugin(PluginInfo info, const drover_plugin* plugin, void* instance)
    : info_(std::move(info)), plugin_(plugin), instance_(instance) {}

DevicePlugin::~DevicePlugin() { plugin_->fini(instance_); }

const std::string& DevicePlugin::name() const { return info_.name; }
const PluginInfo& DevicePlugin::info() const { return info_; }

drover::Status DevicePlugin::set_config(const json& config) {
  OutStrings s(plugin_);
  const std::string text = to_text(config.is_object() ? config : json::object());
  drover_status st = plugin_->device->set_config(instance_, text.c_str(), &s.error);
  if (st != DROVER_OK) return call_error(*this, "set_config", st, s);
  return {};
}

json DevicePlugin::fingerprint() {
  auto undetected = [](std::string why) {
    return json{
        {"Detected", false}, {"HealthDescription", std::move(why)}, {"Devices", json::array()}};
  };
  OutStrings s(plugin_);
  drover_status st = plugin_->device->fingerprint(instance_, &s.out, &s.error);
  if (st != DROVER_OK) return undetected(call_error(*this, "fingerprint", st, s).message);
  auto j = parse_object(*this, "fingerprint", s);
  if (!j.ok()) return undetected(j.message());
  json& fp = *j;
  default_key(fp, "Detected", false);
  default_key(fp, "HealthDescription", "");
  fp["Devices"] = normalized_groups(fp.value("Devices", json::array()));
  return std::move(fp);
}

drover::Result<json> DevicePlugin::reserve(const std::vector<std::string>& instance_ids) {
  if (instance_ids.empty()) {
    return drover::make_error(prefixed(*this, "reserve", "no instance IDs given"));
  }
  OutStrings s(plugin_);
  const std::string text = to_text(json(instance_ids));
  drover_status st = plugin_->device->reserve(instance_, text.c_str(), &s.out, &s.error);
  if (st != DROVER_OK) return call_error(*this, "reserve", st, s);
  auto j = parse_object(*this, "reserve", s);
  if (!j.ok()) return j.error();
  json& r = *j;
  default_key(r, "Env", json::object());
  default_key(r, "Devices", json::array());
  default_key(r, "Mounts", json::array());
  for (const auto& [key, value] : r["Env"].items()) {
    if (!value.is_string()) {
      return drover::make_error(prefixed(*this, "reserve", "Env." + key + " is not a string"));
    }
  }
  return std::move(r);
}

drover::Result<json> DevicePlugin::stats() {
  OutStrings s(plugin_);
  drover_status st = plugin_->device->stats(instance_, &s.out, &s.error);
  if (st != DROVER_OK) return call_error(*this, "stats", st, s);
  auto j = parse_object(*this, "stats", s);
  if (!j.ok()) return j.error();
  default_key(*j, "Timestamp", 0);
  default_key(*j, "Instances", json::object());
  return std::move(*j);
}

}  // namespace drover::plugins
