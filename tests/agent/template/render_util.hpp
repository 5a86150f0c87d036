// Helpers of the template engine tests: render a text with data, or get its error.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "template/data_source.hpp"
#include "template/template.hpp"

namespace drover::tmpl::test {

struct Case {
  std::string name;
  std::string text;
  std::string want;
};

inline nlohmann::json sample_data() {
  return nlohmann::json::parse(R"({
    "name": "web", "count": 3, "ratio": 0.5, "on": true, "off": false, "empty": "",
    "nothing": null, "list": ["a", "b", "c"], "nums": [3, 1, 2], "none": [],
    "map": {"z": 1, "a": 2}, "nested": {"inner": {"value": "deep"}},
    "people": [{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}]
  })");
}

// The rendered text, or "ERROR: <message>".
inline std::string run(const std::string& text, nlohmann::json data = sample_data(),
                       Options opts = {}, DataSource* source = nullptr,
                       std::map<std::string, std::string> env = {}) {
  auto t = Template::parse("t", text, opts);
  if (!t) return "ERROR: " + t.message();
  RenderInput in;
  in.data = std::move(data);
  in.source = source;
  in.env = std::move(env);
  auto r = render(*t, in);
  if (!r) return "ERROR: " + r.message();
  return r->text;
}

}  // namespace drover::tmpl::test
