// Canonical JSON of the `template` block (template_block.hpp): Nomad's field names, durations
// in nanoseconds (json_fields.hpp).
#include "jobspec/template_block.hpp"

#include "jobspec/json_fields.hpp"

namespace drover::jobspec {

using nlohmann::json;

// Nomad's Template names; Uid/Gid null when unset.
static void fields(Of<Template> auto& t, auto& io) {
  io("EmbeddedTmpl", t.data);
  io("SourcePath", t.source);
  io("DestPath", t.destination);
  io("Envvars", t.env);
  io("ChangeMode", t.change_mode);
  io("ChangeSignal", t.change_signal);
  io("Perms", t.perms);
  io("LeftDelim", t.left_delimiter);
  io("RightDelim", t.right_delimiter);
  io("Splay", t.splay);
  io("ErrMissingKey", t.error_on_missing_key);
  io("Once", t.once);
  io("Uid", t.uid);
  io("Gid", t.gid);
}
static void fields(Of<ChangeScript> auto& c, auto& io) {
  io("Command", c.command);
  io("Args", c.args);
  io("Timeout", c.timeout);
  io("FailOnError", c.fail_on_error);
}
static void fields(Of<TemplateWait> auto& w, auto& io) {
  io("Min", w.min);
  io("Max", w.max);
}

json templates_to_json(const std::vector<Template>& templates) {
  json out = json::array();
  for (const auto& t : templates) {
    json o = write_fields(t);
    o["ChangeScript"] = t.change_script ? write_fields(*t.change_script) : json(nullptr);
    o["Wait"] = t.wait ? write_fields(*t.wait) : json(nullptr);
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<Template> templates_from_json(const json& j) {
  std::vector<Template> out;
  if (!j.is_array()) return out;
  for (const auto& o : j) {
    auto t = read_fields<Template>(o);
    if (o.contains("ChangeScript") && !o.at("ChangeScript").is_null())
      t.change_script = read_fields<ChangeScript>(o.at("ChangeScript"));
    if (o.contains("Wait") && !o.at("Wait").is_null()) t.wait = read_fields<TemplateWait>(o.at("Wait"));
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace drover::jobspec
