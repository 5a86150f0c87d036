// Canonical JSON of the `template` block (template_block.hpp): Nomad's field names, durations
// in nanoseconds, Uid/Gid null when unset.
#include "jobspec/template_block.hpp"

namespace drover::jobspec {

using nlohmann::json;

json templates_to_json(const std::vector<Template>& templates) {
  json out = json::array();
  for (const auto& t : templates) {
    json o = {{"EmbeddedTmpl", t.data},
              {"SourcePath", t.source},
              {"DestPath", t.destination},
              {"Envvars", t.env},
              {"ChangeMode", t.change_mode},
              {"ChangeSignal", t.change_signal},
              {"Perms", t.perms},
              {"LeftDelim", t.left_delimiter},
              {"RightDelim", t.right_delimiter},
              {"Splay", t.splay.count()},
              {"ErrMissingKey", t.error_on_missing_key},
              {"Once", t.once}};
    o["Uid"] = t.uid ? json(*t.uid) : json(nullptr);
    o["Gid"] = t.gid ? json(*t.gid) : json(nullptr);
    o["ChangeScript"] = t.change_script ? json{{"Command", t.change_script->command},
                                               {"Args", t.change_script->args},
                                               {"Timeout", t.change_script->timeout.count()},
                                               {"FailOnError", t.change_script->fail_on_error}}
                                        : json(nullptr);
    o["Wait"] =
        t.wait ? json{{"Min", t.wait->min.count()}, {"Max", t.wait->max.count()}} : json(nullptr);
    out.push_back(std::move(o));
  }
  return out;
}

namespace {
template <typename T>
T get(const json& j, const char* key, T fallback) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  return j.at(key).get<T>();
}
Duration get_duration(const json& j, const char* key, Duration fallback) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  return Duration(j.at(key).get<std::int64_t>());
}
}  // namespace

std::vector<Template> templates_from_json(const json& j) {
  std::vector<Template> out;
  if (j.is_null()) return out;
  for (const auto& o : j) {
    Template t;
    t.data = get(o, "EmbeddedTmpl", t.data);
    t.source = get(o, "SourcePath", t.source);
    t.destination = get(o, "DestPath", t.destination);
    t.env = get(o, "Envvars", t.env);
    t.change_mode = get(o, "ChangeMode", t.change_mode);
    t.change_signal = get(o, "ChangeSignal", t.change_signal);
    t.perms = get(o, "Perms", t.perms);
    t.left_delimiter = get(o, "LeftDelim", t.left_delimiter);
    t.right_delimiter = get(o, "RightDelim", t.right_delimiter);
    t.splay = get_duration(o, "Splay", t.splay);
    t.error_on_missing_key = get(o, "ErrMissingKey", t.error_on_missing_key);
    t.once = get(o, "Once", t.once);
    if (o.contains("Uid") && !o.at("Uid").is_null()) t.uid = o.at("Uid").get<int>();
    if (o.contains("Gid") && !o.at("Gid").is_null()) t.gid = o.at("Gid").get<int>();
    if (o.contains("ChangeScript") && !o.at("ChangeScript").is_null()) {
      const json& c = o.at("ChangeScript");
      ChangeScript cs;
      cs.command = get(c, "Command", cs.command);
      cs.args = get(c, "Args", cs.args);
      cs.timeout = get_duration(c, "Timeout", cs.timeout);
      cs.fail_on_error = get(c, "FailOnError", cs.fail_on_error);
      t.change_script = std::move(cs);
    }
    if (o.contains("Wait") && !o.at("Wait").is_null()) {
      TemplateWait w;
      w.min = get_duration(o.at("Wait"), "Min", w.min);
      w.max = get_duration(o.at("Wait"), "Max", w.max);
      t.wait = w;
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace drover::jobspec
