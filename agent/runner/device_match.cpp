// Which device group a task's device request may use; see device_match.hpp.
#include "runner/device_match.hpp"

#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "drover/common/json_text.hpp"
#include "jobspec/constraint.hpp"

namespace drover::runner {

using nlohmann::json;

namespace {

// Unit -> (kind, factor to the kind's base unit).
std::optional<std::pair<std::string, double>> unit_of(const std::string& u) {
  static const std::map<std::string, std::pair<std::string, double>> units = {
      {"B", {"bytes", 1}},          {"KB", {"bytes", 1e3}},       {"MB", {"bytes", 1e6}},
      {"GB", {"bytes", 1e9}},       {"TB", {"bytes", 1e12}},      {"KiB", {"bytes", 1024.0}},
      {"MiB", {"bytes", 1048576.0}}, {"GiB", {"bytes", 1073741824.0}},
      {"TiB", {"bytes", 1099511627776.0}}, {"W", {"watts", 1}},    {"mW", {"watts", 1e-3}},
      {"kW", {"watts", 1e3}},       {"Hz", {"hertz", 1}},         {"KHz", {"hertz", 1e3}},
      {"MHz", {"hertz", 1e6}},      {"GHz", {"hertz", 1e9}},      {"B/s", {"rate", 1}},
      {"KB/s", {"rate", 1e3}},      {"MB/s", {"rate", 1e6}},      {"GB/s", {"rate", 1e9}},
  };
  auto it = units.find(u);
  if (it == units.end()) return std::nullopt;
  return it->second;
}

bool compare(double a, const std::string& op, double b) {
  if (op == "=" || op == "==" || op == "is") return std::fabs(a - b) < 1e-9;
  if (op == "!=" || op == "not") return std::fabs(a - b) >= 1e-9;
  if (op == "<") return a < b;
  if (op == "<=") return a <= b;
  if (op == ">") return a > b;
  if (op == ">=") return a >= b;
  return false;
}

bool name_matches(const std::string& request, const json& group) {
  auto vendor = group.value("Vendor", ""), type = group.value("Type", ""), name = group.value("Name", "");
  return request == type || request == vendor + "/" + type || request == vendor + "/" + type + "/" + name;
}

// ${device.attr.X}, ${device.model}, ${device.vendor}, ${device.type}
std::optional<json> attribute(const json& group, std::string expr) {
  if (expr.rfind("${", 0) == 0 && expr.back() == '}') expr = expr.substr(2, expr.size() - 3);
  if (expr == "device.model") return json{{"Value", group.value("Name", "")}};
  if (expr == "device.vendor") return json{{"Value", group.value("Vendor", "")}};
  if (expr == "device.type") return json{{"Value", group.value("Type", "")}};
  if (expr.rfind("device.attr.", 0) == 0) {
    auto key = expr.substr(12);
    auto attrs = group.value("Attributes", json::object());
    if (attrs.contains(key)) return attrs[key];
  }
  return std::nullopt;
}

bool holds(const json& group, const std::string& attribute_expr, const std::string& op,
           const std::string& value) {
  auto attr = attribute(group, attribute_expr);
  // A missing attribute fails every operator but is_not_set (and !=), as in Nomad.
  if (!attr) return jobspec::check_operand(op, std::nullopt, value);
  return device_attribute_matches(*attr, op, value);
}

bool constraints_hold(const json& group, const json& constraints) {
  if (!constraints.is_array()) return true;
  for (const auto& c : constraints) {
    if (!holds(group, c.value("attribute", c.value("LTarget", "")),
               c.value("operator", c.value("Operand", "=")), c.value("value", c.value("RTarget", ""))))
      return false;
  }
  return true;
}

}  // namespace

bool device_attribute_matches(const json& attr, const std::string& op, const std::string& value) {
  const auto& v = attr.contains("Value") ? attr["Value"] : attr;
  const bool numeric_op = op == "=" || op == "==" || op == "is" || op == "!=" || op == "not" ||
                          op == "<" || op == "<=" || op == ">" || op == ">=";
  // Strings, and every operator that is not a comparison of amounts (regexp, version,
  // set_contains, is_set...), go through the one implementation job constraints use.
  if (!v.is_number() || !numeric_op) {
    std::optional<std::string> have;
    if (v.is_string())
      have = v.get<std::string>();
    else if (!v.is_null())
      have = json_text(v);
    return jobspec::check_operand(op, have, value);
  }
  double have = v.get<double>();
  std::istringstream in(value);
  double want = 0;
  if (!(in >> want)) return false;
  std::string want_unit;
  in >> want_unit;
  std::string have_unit = attr.value("Unit", "");
  if (!want_unit.empty() && want_unit != have_unit) {
    auto hu = unit_of(have_unit), wu = unit_of(want_unit);
    if (!hu || !wu || hu->first != wu->first) return false;
    have *= hu->second;
    want *= wu->second;
  }
  return compare(have, op, want);
}

bool device_group_matches(const jobspec::DeviceRequest& request, const json& group) {
  return name_matches(request.name, group) && constraints_hold(group, request.constraints);
}

DeviceAffinityScore device_affinity_score(const jobspec::DeviceRequest& request,
                                          const json& group) {
  DeviceAffinityScore out;
  for (const auto& a : request.affinities) {
    out.total += std::abs(a.weight);
    if (holds(group, a.attribute, a.op, a.value)) out.matched += a.weight;
  }
  return out;
}

}  // namespace drover::runner
