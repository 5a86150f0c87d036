// YAML scalars are untyped in yaml-cpp; this file decides their JSON types the way YAML 1.2's
// core schema does, so a driver gets 8080 as a number and "8080" (quoted) as a string.
#include "jobspec/yaml_to_json.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <regex>

namespace drover::jobspec::detail {

using nlohmann::json;

bool is_quoted(const YAML::Node& scalar) { return scalar.Tag() == "!"; }

namespace {

// Compiled once: a config can hold thousands of scalars.
const std::regex kInt("[-+]?[0-9]+");
const std::regex kHex("0x[0-9a-fA-F]+");
const std::regex kOct("0o[0-7]+");
const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");

bool matches(const std::string& s, const std::regex& re) { return std::regex_match(s, re); }

}  // namespace

json yaml_scalar_to_json(const YAML::Node& node) {
  if (node.IsNull()) return nullptr;
  const std::string& s = node.Scalar();
  const std::string& tag = node.Tag();
  if (is_quoted(node) || tag == "tag:yaml.org,2002:str") return s;
  // Long scalars are never numbers or keywords; skip the regexes on big strings.
  if (s.size() > 64) return s;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (matches(s, kInt)) {
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno != ERANGE) return v;
    errno = 0;
    unsigned long long u = std::strtoull(s.c_str(), nullptr, 10);
    if (s[0] != '-' && errno != ERANGE) return u;
    return s;  // too big for 64 bits: keep the digits rather than lose them
  }
  if (matches(s, kHex) || matches(s, kOct)) {
    errno = 0;
    unsigned long long u = std::strtoull(s.c_str() + 2, nullptr, s[1] == 'x' ? 16 : 8);
    if (errno != ERANGE) return u;
    return s;
  }
  if (matches(s, kFloat)) {
    double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d)) return d;
  }
  // .inf and .nan have no JSON form; they stay strings like any other text.
  return s;
}

std::optional<json> yaml_to_json(const YAML::Node& node, std::string* error) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return json(nullptr);
    case YAML::NodeType::Scalar:
      return yaml_scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) {
        auto v = yaml_to_json(item, error);
        if (!v) return std::nullopt;
        out.push_back(std::move(*v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          *error = "map keys must be plain strings";
          return std::nullopt;
        }
        auto v = yaml_to_json(kv.second, error);
        if (!v) return std::nullopt;
        out[kv.first.Scalar()] = std::move(*v);
      }
      return out;
    }
  }
  return json(nullptr);
}

namespace {

struct BoundsWalk {
  int max_depth;
  std::size_t max_nodes;
  std::size_t visited = 0;
  std::optional<std::string> problem;

  void walk(const YAML::Node& node, int depth) {
    if (problem) return;
    if (++visited > max_nodes) {
      problem = "job document has more than " + std::to_string(max_nodes) +
                " nodes once aliases are expanded";
      return;
    }
    if (depth > max_depth) {
      problem = "job document is nested more than " + std::to_string(max_depth) + " levels deep";
      return;
    }
    if (node.IsSequence()) {
      for (const auto& item : node) walk(item, depth + 1);
    } else if (node.IsMap()) {
      for (const auto& kv : node) {
        walk(kv.first, depth + 1);
        walk(kv.second, depth + 1);
      }
    }
  }
};

}  // namespace

std::optional<std::string> yaml_bounds_problem(const YAML::Node& root, int max_depth,
                                               std::size_t max_nodes) {
  BoundsWalk w{max_depth, max_nodes, 0, std::nullopt};
  w.walk(root, 1);
  return w.problem;
}

}  // namespace drover::jobspec::detail
