// HCL's set functions beyond setunion (Terraform's and Nomad's jobspec2 set): setintersection,
// setsubtract, setproduct, and transpose of a map of lists. Sets are lists without
// duplicates, in HCL's sort order (value_less).
#include <algorithm>

#include "jobspec/hcl/function_call.hpp"

namespace drover::jobspec::hcl {

namespace {

json sorted_set(json out) {
  std::sort(out.begin(), out.end(), value_less);
  return out;
}

}  // namespace

void add_set_functions(FunctionTable& t) {
  t["setintersection"] = {1, -1, [](const Call& c) -> json {
    Distinct kept;
    for (const auto& v : c.list(0)) kept.first(v);
    for (std::size_t i = 1; i < c.args.size(); ++i) {
      Distinct here, both;
      for (const auto& v : c.list(i)) here.first(v);
      for (const auto& k : kept.keys)
        if (here.keys.count(k)) both.keys.insert(k);
      kept = std::move(both);
    }
    json out = json::array();
    Distinct seen;
    for (const auto& v : c.list(0))
      if (kept.has(v) && seen.first(v)) out.push_back(v);
    return sorted_set(std::move(out));
  }};
  t["setsubtract"] = {2, 2, [](const Call& c) -> json {
    Distinct drop, seen;
    for (const auto& v : c.list(1)) drop.first(v);
    json out = json::array();
    for (const auto& v : c.list(0))
      if (!drop.has(v) && seen.first(v)) out.push_back(v);
    return sorted_set(std::move(out));
  }};
  t["setproduct"] = {1, -1, [](const Call& c) -> json {
    json out = json::array({json::array()});
    for (std::size_t i = 0; i < c.args.size(); ++i) {
      json next = json::array();
      for (const auto& prefix : out)
        for (const auto& v : c.list(i)) {
          json row = prefix;
          row.push_back(v);
          next.push_back(std::move(row));
          c.ev.check_size(next.size(), c.at);
        }
      out = std::move(next);
    }
    return out;
  }};
  // {"a": ["1", "2"], "b": ["2"]} -> {"1": ["a"], "2": ["a", "b"]}
  t["transpose"] = {1, 1, [](const Call& c) -> json {
    json out = json::object();
    for (const auto& [k, vs] : c.map(0).items()) {
      if (!vs.is_array()) c.fail("the map's values must be lists of strings");
      for (const auto& v : vs) {
        std::string key = as_string(v, c.at, "transpose() element");
        if (!out.contains(key)) out[key] = json::array();
        out[key].push_back(k);
      }
    }
    for (auto& [k, v] : out.items()) v = sorted_set(v);
    return out;
  }};
}

}  // namespace drover::jobspec::hcl
