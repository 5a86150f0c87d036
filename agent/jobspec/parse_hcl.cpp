// Nomad's HCL job files -> the Nomad JSON job shape ({"Job": {...}}, as `nomad job run -output`
// prints it) -> Job, through the same reader as a JSON job, so both formats mean the same.
// The block and attribute names are Nomad's jobspec2 ones. A block or attribute drover cannot
// honour is refused naming it and its line, never dropped; problems the JSON reader and
// validate() find are traced back to the HCL that produced them (HclSourceMap).
#include <charconv>
#include <map>
#include <set>

#include "jobspec/did_you_mean.hpp"
#include "jobspec/hcl/hcl.hpp"
#include "jobspec/hcl/variables.hpp"
#include "jobspec/readers.hpp"

namespace drover::jobspec::detail {

namespace {

using nlohmann::json;

// Int: HCL converts a string holding a whole number where a number is wanted, as Nomad's
// schema decoding does (`-var n=3` gives the string "3"; `count = var.n` means 3).
// String: a string attribute, a number or bool converted as HCL converts them for Nomad's
// string fields (`port = 8080` is "8080", `value = 3` is "3").
// Bool: true or false, or the strings "true" and "false" as HCL converts them for a bool
// field (Nomad's e2e jobs write `unlimited = "true"`).
enum class Kind { Any, Duration, StringMap, Int, String, Bool };

struct Field {
  std::string_view hcl;
  std::string_view json;
  Kind kind = Kind::Any;
};

// Where the mapper is: the JSON path it writes to, the HCL blocks that lead there
// (`group "web" task "server"`) and, inside unlabelled blocks, the field prefix ("resources.").
struct Scope {
  std::string json_path;
  std::string where;
  std::string prefix;

  Scope child(std::string_view json_key, std::string_view hcl_block) const {
    return {json_path + "." + std::string(json_key), where, prefix + std::string(hcl_block) + "."};
  }
};

// Blocks and attributes of Nomad's jobspec that drover refuses, with the reason. A name not
// here and not in the block's own table is unknown (and gets a "did you mean").
const std::map<std::string_view, std::string_view>& refusals() {
  static const std::map<std::string_view, std::string_view> r = {
      {"network", "belongs in a group (or, the older way, in a task's resources)"},
      {"service", "belongs in a group or a task"},
      {"dns", "belongs in a group's network block"},
      {"cni", "belongs in a group's network block"},
      {"volume", "belongs in a group (a task mounts it with volume_mount)"},
      {"volume_mount", "belongs in a task"},
      {"vault", "not supported by drover (no Vault integration)"},

      {"consul", "not supported by drover (drover does not talk to Consul)"},
      {"connect", "not supported by drover (no Consul Connect)"},
      {"expose", "not supported by drover (Consul Connect's expose paths; no Consul Connect)"},
      {"csi_plugin", "not supported by drover"},
      {"scaling", "belongs in a group (a task's, Nomad Enterprise's dynamic application "
                  "sizing, is not supported by drover)"},
      {"multiregion", "not supported by drover"},
      {"identity", "belongs in a task (its workload identities)"},
      {"action", "belongs in a task (a command run in it on request)"},
      {"schedule", "not supported by drover"},
      {"kind", "not supported by drover"},
      {"numa", "belongs in a task's resources"},
  };
  return r;
}

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// A string that is exactly a whole number becomes that number; anything else stays as it is
// for the JSON reader to judge (and name).
json whole_number(const json& v) {
  if (!v.is_string()) return v;
  const std::string& t = v.get_ref<const std::string&>();
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return v;
  return n;
}

class HclMapper {
 public:
  HclMapper(std::vector<Problem>& problems, HclSourceMap& map) : problems_(problems), map_(map) {}

  // The top level: one job block.
  std::optional<json> file(const hcl::Body& body) {
    Scope top{"Job", "", ""};
    for (const auto& a : body.attributes)
      problem(top, a.name, a.pos.line, "a job file holds a job block, not top-level attributes");
    const hcl::Block* job_block = nullptr;
    for (const auto& b : body.blocks) {
      if (b.type == "job") {
        if (job_block) {
          problem(top, "job block", b.pos.line,
                  "a job file holds one job (the first is at line " +
                      std::to_string(job_block->pos.line) + ")");
          continue;
        }
        job_block = &b;
      } else {
        unknown_block(top, b, {"job"});
      }
    }
    if (!job_block) {
      if (problems_.empty()) problems_.push_back({"", "no job block in the HCL file"});
      return std::nullopt;
    }
    return json{{"Job", job(*job_block)}};
  }

 private:
  std::vector<Problem>& problems_;
  HclSourceMap& map_;

  void problem(const Scope& s, const std::string& field, int line, const std::string& message) {
    problems_.push_back({s.where, (field.empty() ? "" : s.prefix + field + " ") + "at line " +
                                      std::to_string(line) + ": " + message});
  }

  bool labels(const Scope& s, const hcl::Block& b, std::size_t want) {
    if (b.labels.size() == want) return true;
    problem(s, b.type + " block", b.pos.line,
            want == 0 ? "takes no label"
                      : "needs " + std::to_string(want) + " label" + (want > 1 ? "s" : "") + " (" +
                            b.type + " \"name\" { ... })");
    return false;
  }

  void unknown_block(const Scope& s, const hcl::Block& b,
                     const std::vector<std::string_view>& known) {
    auto r = refusals().find(b.type);
    if (r != refusals().end())
      problem(s, b.type + " block", b.pos.line, std::string(r->second));
    else
      problem(s, b.type + " block", b.pos.line, "unknown block" + did_you_mean(b.type, known));
  }

  void unknown_attribute(const Scope& s, const hcl::Attribute& a,
                         const std::vector<std::string_view>& known) {
    auto r = refusals().find(a.name);
    if (r != refusals().end())
      problem(s, a.name, a.pos.line, std::string(r->second));
    else
      problem(s, a.name, a.pos.line, "unknown attribute" + did_you_mean(a.name, known));
  }

  // env and meta: strings, with numbers and bools converted as HCL converts them.
  json string_map(const json& v, const Scope& s, const std::string& field, int line) {
    json out = json::object();
    if (!v.is_object()) {
      problem(s, field, line, std::string("must be a map (got ") + v.type_name() + ")");
      return out;
    }
    for (const auto& [k, item] : v.items()) {
      if (item.is_string())
        out[k] = item;
      else if (item.is_boolean() || item.is_number())
        out[k] = item.dump();
      else if (item.is_null())
        out[k] = "";
      else
        problem(s, field + "." + k, line,
                std::string("must be a string (got ") + item.type_name() + ")");
    }
    return out;
  }

  // The attributes of `body` that `fields` names, into `out`; the others are refused.
  // `blocks`: the block names this body also takes (for "did you mean").
  void attributes(const hcl::Body& body, const Scope& s, const std::vector<Field>& fields,
                  json& out, const std::vector<std::string_view>& blocks = {}) {
    for (const auto& a : body.attributes) {
      const Field* f = nullptr;
      for (const auto& candidate : fields)
        if (candidate.hcl == a.name) f = &candidate;
      if (!f) {
        std::vector<std::string_view> known = blocks;
        for (const auto& candidate : fields) known.push_back(candidate.hcl);
        unknown_attribute(s, a, known);
        continue;
      }
      const std::string key(f->json);
      map_.add(s.json_path + "." + key, {s.where, s.prefix + a.name, a.pos.line});
      switch (f->kind) {
        case Kind::Any:
          out[key] = a.value;
          break;
        case Kind::StringMap:
          out[key] = string_map(a.value, s, a.name, a.pos.line);
          break;
        case Kind::Int:
          out[key] = whole_number(a.value);
          break;
        case Kind::Bool:
          out[key] = a.value.is_string() && (a.value == "true" || a.value == "false")
                         ? json(a.value == "true")
                         : a.value;
          break;
        case Kind::String:
          out[key] = a.value.is_number() || a.value.is_boolean() ? json(a.value.dump()) : a.value;
          break;
        case Kind::Duration:
          if (a.value.is_null()) break;
          if (!a.value.is_string()) {
            problem(s, a.name, a.pos.line,
                    "must be a duration such as \"30s\" (got " + a.value.dump() + ")");
            break;
          }
          if (auto d = parse_duration(a.value.get<std::string>()))
            out[key] = d->count();
          else
            problem(s, a.name, a.pos.line, d.message());
          break;
      }
    }
  }

  // A block that may appear once: the first; a second one is a problem.
  bool once(std::map<std::string, int>& seen, const Scope& s, const hcl::Block& b) {
    auto [it, fresh] = seen.emplace(b.type, b.pos.line);
    if (!fresh)
      problem(s, b.type + " block", b.pos.line,
              "appears twice (the first is at line " + std::to_string(it->second) + ")");
    return fresh;
  }

  // A block holding only attributes (env, meta) as a map of strings.
  json map_block(const hcl::Block& b, const Scope& s) {
    json obj = json::object();
    for (const auto& a : b.body.attributes) obj[a.name] = a.value;
    for (const auto& inner : b.body.blocks)
      problem(s, b.type + "." + inner.type + " block", inner.pos.line,
              b.type + " holds attributes only");
    return string_map(obj, s, b.type, b.pos.line);
  }

  // A driver's config: attributes as they are, nested blocks as lists of objects (what
  // `nomad job run -output` prints for `port_map { ... }` or `mount { ... }`).
  json config_body(const hcl::Body& body, const Scope& s, const std::string& field) {
    json obj = json::object();
    for (const auto& a : body.attributes) obj[a.name] = a.value;
    for (const auto& b : body.blocks) {
      if (!b.labels.empty()) {
        problem(s, field + "." + b.type + " block", b.pos.line, "takes no label");
        continue;
      }
      if (obj.contains(b.type) && !obj[b.type].is_array()) {
        problem(s, field + "." + b.type + " block", b.pos.line, "is also set as an attribute");
        continue;
      }
      obj[b.type].push_back(config_body(b.body, s, field + "." + b.type));
    }
    return obj;
  }

  // An attribute-or-block map (env, meta, config): `meta { a = "b" }` or `meta = { a = "b" }`.
  template <typename Convert>
  void block_or_attribute(const hcl::Block& b, const Scope& s, json& out, std::string_view key,
                          std::map<std::string, int>& seen, Convert convert) {
    if (!labels(s, b, 0) || !once(seen, s, b)) return;
    if (out.contains(key)) {
      problem(s, b.type + " block", b.pos.line, "is also set as an attribute");
      return;
    }
    map_.add(s.json_path + "." + std::string(key), {s.where, s.prefix + b.type, b.pos.line});
    out[std::string(key)] = convert(b);
  }

  json simple_block(const hcl::Block& b, const Scope& s, std::string_view json_key,
                    const std::vector<Field>& fields) {
    Scope inner = s.child(json_key, b.type);
    map_.add(inner.json_path, {s.where, s.prefix + b.type, b.pos.line});
    json out = json::object();
    attributes(b.body, inner, fields, out);
    for (const auto& nested : b.body.blocks) unknown_block(inner, nested, {});
    return out;
  }

  // --- Placement (issue 17): constraint, affinity and spread blocks. ---

  // Nomad's constraint and affinity shorthands (`version = ">= 1.2"`, `regexp = "..."`,
  // `distinct_hosts = true`, `distinct_property = "${meta.rack}"`, `set_contains* = "..."`)
  // become the Operand they name, as Nomad's jobspec decodes them.
  static const std::vector<Field>& constraint_fields(bool affinity) {
    static const std::vector<Field> c = {{"attribute", "LTarget"},
                                         {"operator", "Operand"},
                                         {"value", "RTarget", Kind::String},
                                         {"version", "version"},
                                         {"semver", "semver"},
                                         {"regexp", "regexp"},
                                         {"set_contains", "set_contains"},
                                         {"set_contains_any", "set_contains_any"},
                                         {"set_contains_all", "set_contains_all"},
                                         {"distinct_hosts", "distinct_hosts"},
                                         {"distinct_property", "distinct_property"}};
    static const std::vector<Field> a = {{"attribute", "LTarget"},
                                         {"operator", "Operand"},
                                         {"value", "RTarget", Kind::String},
                                         {"weight", "Weight", Kind::Int},
                                         {"version", "version"},
                                         {"semver", "semver"},
                                         {"regexp", "regexp"},
                                         {"set_contains_any", "set_contains_any"},
                                         {"set_contains_all", "set_contains_all"}};
    return affinity ? a : c;
  }

  // Scalars written where Nomad has a string field, as HCL converts them (`value = 3`).
  static json text(const json& v) {
    if (v.is_number() || v.is_boolean()) return v.dump();
    return v;
  }

  // nullopt: a `distinct_hosts = false` constraint, which Nomad drops.
  std::optional<json> constraint_block(const hcl::Block& b, const Scope& s, bool affinity) {
    map_.add(s.json_path, {s.where, s.prefix.substr(0, s.prefix.size() - 1), b.pos.line});
    json c = json::object();
    labels(s, b, 0);
    attributes(b.body, s, constraint_fields(affinity), c);
    for (const auto& inner : b.body.blocks) unknown_block(s, inner, {});
    for (const char* op :
         {"version", "semver", "regexp", "set_contains", "set_contains_any", "set_contains_all"}) {
      if (!c.contains(op)) continue;
      c["Operand"] = op;
      c["RTarget"] = c[op];
      c.erase(op);
    }
    if (c.contains("distinct_hosts")) {
      json v = c["distinct_hosts"];
      c.erase("distinct_hosts");
      if (v == false || v == "false") return std::nullopt;
      c["Operand"] = "distinct_hosts";
    }
    if (c.contains("distinct_property")) {
      c["Operand"] = "distinct_property";
      c["LTarget"] = c["distinct_property"];
      c.erase("distinct_property");
    }
    for (const char* k : {"LTarget", "RTarget", "Operand"})
      if (c.contains(k)) c[k] = text(c[k]);
    return c;
  }

  json spread_block(const hcl::Block& b, const Scope& s) {
    map_.add(s.json_path, {s.where, "spread", b.pos.line});
    json out = json::object();
    labels(s, b, 0);
    attributes(b.body, s, {{"attribute", "Attribute"}, {"weight", "Weight", Kind::Int}}, out,
               {"target"});
    json targets = json::array();
    for (const auto& t : b.body.blocks) {
      if (t.type != "target") {
        unknown_block(s, t, {"target"});
        continue;
      }
      if (!labels(s, t, 1)) continue;
      Scope ts{s.json_path + ".SpreadTarget[" + std::to_string(targets.size()) + "]", s.where,
               s.prefix + "target " + quote(t.labels[0]) + "."};
      map_.add(ts.json_path, {s.where, s.prefix + "target " + quote(t.labels[0]), t.pos.line});
      json target = {{"Value", t.labels[0]}};
      attributes(t.body, ts, {{"value", "Value", Kind::String}, {"percent", "Percent", Kind::Int}}, target);
      for (const auto& inner : t.body.blocks) unknown_block(ts, inner, {});
      if (target.contains("Value")) target["Value"] = text(target["Value"]);
      targets.push_back(std::move(target));
    }
    if (!targets.empty()) out["SpreadTarget"] = std::move(targets);
    if (out.contains("Attribute")) out["Attribute"] = text(out["Attribute"]);
    return out;
  }

  // A constraint, affinity or spread block of the body at `s`, appended to `out`'s list;
  // false when `b` is none of these (or spread where it has none).
  bool placement_block(const hcl::Block& b, const Scope& s, json& out, bool spreads) {
    const char* key = b.type == "constraint"          ? "Constraints"
                      : b.type == "affinity"          ? "Affinities"
                      : b.type == "spread" && spreads ? "Spreads"
                                                      : nullptr;
    if (!key) return false;
    if (!out.contains(key)) out[key] = json::array();
    Scope inner{s.json_path + "." + key + "[" + std::to_string(out[key].size()) + "]", s.where,
                s.prefix + b.type + "."};
    if (b.type == "spread") {
      out[key].push_back(spread_block(b, inner));
    } else if (auto c = constraint_block(b, inner, b.type == "affinity")) {
      out[key].push_back(std::move(*c));
    }
    return true;
  }

  // --- end of placement ---

  static const std::vector<Field>& update_fields() {
    static const std::vector<Field> f = {{"health_check", "HealthCheck"},
                                         {"min_healthy_time", "MinHealthyTime", Kind::Duration},
                                         {"healthy_deadline", "HealthyDeadline", Kind::Duration},
                                         {"max_parallel", "MaxParallel", Kind::Int},
                                         {"stagger", "Stagger", Kind::Duration},
                                         {"progress_deadline", "ProgressDeadline", Kind::Duration},
                                         {"canary", "Canary", Kind::Int},
                                         {"auto_revert", "AutoRevert", Kind::Bool},
                                         {"auto_promote", "AutoPromote", Kind::Bool}};
    return f;
  }

  static const std::vector<Field>& restart_fields() {
    static const std::vector<Field> f = {{"attempts", "Attempts", Kind::Int},
                                         {"interval", "Interval", Kind::Duration},
                                         {"delay", "Delay", Kind::Duration},
                                         {"mode", "Mode"},
                                         {"render_templates", "RenderTemplates", Kind::Bool}};
    return f;
  }

  json job(const hcl::Block& b) {
    Scope s{"Job", "job " + quote(b.labels.empty() ? "" : b.labels[0]), ""};
    map_.add("Job", {s.where, "", b.pos.line});
    json j = json::object();
    if (labels(s, b, 1)) {
      j["ID"] = b.labels[0];
      map_.add("Job.ID", {s.where, "", b.pos.line});
    }
    const std::vector<std::string_view> blocks = {
        "group",    "task",   "update",   "meta",         "reschedule", "migrate",
        "constraint", "affinity", "spread", "periodic", "parameterized", "ui"};
    attributes(b.body, s,
               {{"name", "Name"},
                {"type", "Type"},
                {"datacenters", "Datacenters"},
                {"priority", "Priority", Kind::Int},
                {"region", "Region"},
                {"namespace", "Namespace"},
                {"node_pool", "NodePool"},
                {"all_at_once", "AllAtOnce", Kind::Bool},
                {"meta", "Meta", Kind::StringMap}},
               j, blocks);
    std::map<std::string, int> seen;
    json groups = json::array();
    // A task written in the job itself is a group of its own, named after it, ahead of the
    // job's groups (Nomad's jobspec2 parse_job.go).
    for (const auto& t : b.body.blocks) {
      if (t.type != "task" || !labels(s, t, 1)) continue;
      Scope gs{"Job.TaskGroups[" + std::to_string(groups.size()) + "]",
               "group " + quote(t.labels[0]), ""};
      map_.add(gs.json_path, {gs.where, "", t.pos.line});
      groups.push_back({{"Name", t.labels[0]}, {"Tasks", json::array({task(t, gs, 0)})}});
    }
    for (const auto& g : b.body.blocks) {
      if (g.type == "task") {
        continue;  // above
      } else if (g.type == "group") {
        if (labels(s, g, 1)) groups.push_back(group(g, groups.size(), b.labels[0]));
      } else if (g.type == "update") {
        if (labels(s, g, 0) && once(seen, s, g))
          j["Update"] = simple_block(g, s, "Update", update_fields());
      } else if (g.type == "meta") {
        block_or_attribute(g, s, j, "Meta", seen,
                           [&](const hcl::Block& m) { return map_block(m, s); });
      } else if (g.type == "periodic") {
        if (labels(s, g, 0) && once(seen, s, g))
          j["Periodic"] = simple_block(g, s, "Periodic",
                                       {{"cron", "Spec"},
                                        {"crons", "Specs"},
                                        {"prohibit_overlap", "ProhibitOverlap", Kind::Bool},
                                        {"time_zone", "TimeZone"},
                                        {"enabled", "Enabled", Kind::Bool}});
      } else if (g.type == "parameterized") {
        if (labels(s, g, 0) && once(seen, s, g))
          j["ParameterizedJob"] = simple_block(g, s, "ParameterizedJob",
                                               {{"payload", "Payload"},
                                                {"meta_required", "MetaRequired"},
                                                {"meta_optional", "MetaOptional"}});
      } else if (g.type == "ui") {
        // Nomad 1.8's `ui { description = "..." link { label = "..." url = "..." } }`.
        if (labels(s, g, 0) && once(seen, s, g)) {
          Scope us = s.child("UI", "ui");
          map_.add(us.json_path, {s.where, "ui", g.pos.line});
          json ui = json::object();
          attributes(g.body, us, {{"description", "Description"}}, ui, {"link"});
          json links = json::array();
          for (const auto& l : g.body.blocks) {
            if (l.type != "link") {
              unknown_block(us, l, {"link"});
            } else if (labels(us, l, 0)) {
              links.push_back(simple_block(l, us, "Links[" + std::to_string(links.size()) + "]",
                                           {{"label", "Label"}, {"url", "URL"}}));
            }
          }
          if (!links.empty()) ui["Links"] = std::move(links);
          j["UI"] = std::move(ui);
        }
      } else if (placement_block(g, s, j, /*spreads=*/true)) {
      } else if (g.type == "reschedule") {
        // Nomad's job-level Reschedule: each group's ReschedulePolicy is merged over it.
        if (labels(s, g, 0) && once(seen, s, g))
          j["Reschedule"] = simple_block(g, s, "Reschedule", reschedule_fields());
      } else if (g.type == "migrate") {
        // A job-level migrate block is accepted and ignored (docs/jobspec.md); the names are
        // still checked.
        if (labels(s, g, 0) && once(seen, s, g))
          (void)simple_block(g, s, "Migrate", migrate_fields());
      } else {
        unknown_block(s, g, blocks);
      }
    }
    j["TaskGroups"] = std::move(groups);
    map_.add("Job.TaskGroups", {s.where, "", b.pos.line});
    return j;
  }

  static const std::vector<Field>& reschedule_fields() {
    static const std::vector<Field> f = {
        {"attempts", "Attempts", Kind::Int},       {"interval", "Interval", Kind::Duration},
        {"delay", "Delay", Kind::Duration},        {"delay_function", "DelayFunction"},
        {"max_delay", "MaxDelay", Kind::Duration}, {"unlimited", "Unlimited", Kind::Bool}};
    return f;
  }

  static const std::vector<Field>& migrate_fields() {
    static const std::vector<Field> f = {{"max_parallel", "MaxParallel", Kind::Int},
                                         {"health_check", "HealthCheck"},
                                         {"min_healthy_time", "MinHealthyTime", Kind::Duration},
                                         {"healthy_deadline", "HealthyDeadline", Kind::Duration}};
    return f;
  }

  // An autoscaler's policy as Nomad hands it over: attributes as they are, each block appended
  // to a list under its type, a labelled one wrapped once per label ({"check": [{"cpu":
  // [{...}]}]}), the nesting Nomad's HCL decoding of the opaque policy gives.
  json policy_body(const hcl::Body& body) {
    json obj = json::object();
    for (const auto& a : body.attributes) obj[a.name] = a.value;
    for (const auto& b : body.blocks) {
      json inner = policy_body(b.body);
      for (auto l = b.labels.rbegin(); l != b.labels.rend(); ++l)
        inner = json{{*l, json::array({std::move(inner)})}};
      if (!obj[b.type].is_array()) obj[b.type] = json::array();
      obj[b.type].push_back(std::move(inner));
    }
    return obj;
  }

  // A group's `scaling`: its bounds as attributes, and at most one `policy` block kept for an
  // autoscaler (policy_body); drover never reads the policy.
  json scaling(const hcl::Block& b, const Scope& group) {
    Scope s = group.child("Scaling", "scaling");
    map_.add(s.json_path, {group.where, group.prefix + "scaling", b.pos.line});
    json out = json::object();
    attributes(b.body, s,
               {{"enabled", "Enabled", Kind::Bool}, {"min", "Min", Kind::Int}, {"max", "Max", Kind::Int},
                {"type", "Type"}},
               out, {"policy"});
    std::map<std::string, int> seen;
    for (const auto& p : b.body.blocks) {
      if (p.type != "policy") {
        unknown_block(s, p, {"policy"});
      } else if (labels(s, p, 0) && once(seen, s, p)) {
        map_.add(s.json_path + ".Policy", {s.where, s.prefix + "policy", p.pos.line});
        out["Policy"] = policy_body(p.body);
      }
    }
    return out;
  }

  json group(const hcl::Block& b, std::size_t index, const std::string& job_id) {
    (void)job_id;
    Scope s{"Job.TaskGroups[" + std::to_string(index) + "]", "group " + quote(b.labels[0]), ""};
    map_.add(s.json_path, {s.where, "", b.pos.line});
    json g = json::object();
    g["Name"] = b.labels[0];
    map_.add(s.json_path + ".Name", {s.where, "", b.pos.line});
    const std::vector<std::string_view> blocks = {
        "task",           "restart",    "update",   "meta",   "reschedule", "migrate",
        "ephemeral_disk", "constraint", "affinity", "spread", "network",    "service",
        "volume",         "scaling",    "disconnect"};
    attributes(b.body, s,
               {{"count", "Count", Kind::Int},
                {"meta", "Meta", Kind::StringMap},
                {"shutdown_delay", "ShutdownDelay", Kind::Duration},
                {"max_run_duration", "MaxRunDuration", Kind::Duration},
                // The disconnect block's older spellings (Nomad 1.8 and before).
                {"max_client_disconnect", "MaxClientDisconnect", Kind::Duration},
                {"stop_after_client_disconnect", "StopAfterClientDisconnect", Kind::Duration},
                {"prevent_reschedule_on_lost", "PreventRescheduleOnLost", Kind::Bool}},
               g, blocks);
    std::map<std::string, int> seen;
    json tasks = json::array();
    json services = json::array();
    for (const auto& t : b.body.blocks) {
      if (t.type == "task") {
        if (labels(s, t, 1)) tasks.push_back(task(t, s, tasks.size()));
      } else if (t.type == "restart") {
        if (labels(s, t, 0) && once(seen, s, t))
          g["RestartPolicy"] = simple_block(t, s, "RestartPolicy", restart_fields());
      } else if (t.type == "update") {
        if (labels(s, t, 0) && once(seen, s, t))
          g["Update"] = simple_block(t, s, "Update", update_fields());
      } else if (t.type == "ephemeral_disk") {
        if (labels(s, t, 0) && once(seen, s, t))
          g["EphemeralDisk"] =
              simple_block(t, s, "EphemeralDisk",
                           {{"size", "SizeMB", Kind::Int}, {"sticky", "Sticky", Kind::Bool}, {"migrate", "Migrate", Kind::Bool}});
      } else if (t.type == "volume") {
        // Nomad's VolumeRequest, keyed by its label (docs/jobspec.md, "volumes").
        if (labels(s, t, 1)) {
          if (!g.contains("Volumes")) g["Volumes"] = json::object();
          if (g["Volumes"].contains(t.labels[0]))
            problem(s, "volume " + quote(t.labels[0]), t.pos.line, "is declared twice");
          json v = simple_block(t, s, "Volumes." + t.labels[0],
                                {{"type", "Type"},
                                 {"source", "Source"},
                                 {"read_only", "ReadOnly", Kind::Bool},
                                 {"sticky", "Sticky", Kind::Bool},
                                 {"access_mode", "AccessMode"},
                                 {"attachment_mode", "AttachmentMode"},
                                 {"per_alloc", "PerAlloc"}});
          v["Name"] = t.labels[0];
          g["Volumes"][t.labels[0]] = std::move(v);
        }
      } else if (t.type == "reschedule") {
        if (labels(s, t, 0) && once(seen, s, t))
          g["ReschedulePolicy"] = simple_block(t, s, "ReschedulePolicy", reschedule_fields());
      } else if (t.type == "migrate") {
        if (labels(s, t, 0) && once(seen, s, t))
          g["Migrate"] = simple_block(t, s, "Migrate", migrate_fields());
      } else if (t.type == "scaling") {
        if (labels(s, t, 0) && once(seen, s, t)) g["Scaling"] = scaling(t, s);
      } else if (t.type == "disconnect") {
        if (labels(s, t, 0) && once(seen, s, t))
          g["Disconnect"] = simple_block(t, s, "Disconnect",
                                        {{"lost_after", "LostAfter", Kind::Duration},
                                         {"stop_on_client_after", "StopOnClientAfter", Kind::Duration},
                                         {"replace", "Replace", Kind::Bool},
                                         {"reconcile", "Reconcile"}});
      } else if (t.type == "meta") {
        block_or_attribute(t, s, g, "Meta", seen,
                           [&](const hcl::Block& m) { return map_block(m, s); });
      } else if (t.type == "network") {
        if (labels(s, t, 0) && once(seen, s, t))
          g["Networks"] = json::array({network(t, s.child("Networks[0]", "network"))});
      } else if (placement_block(t, s, g, /*spreads=*/true)) {
      } else if (t.type == "service") {
        if (t.labels.size() <= 1)
          services.push_back(service(t, s, services.size()));
        else
          labels(s, t, 1);
      } else {
        unknown_block(s, t, blocks);
      }
    }
    g["Tasks"] = std::move(tasks);
    if (!services.empty()) g["Services"] = std::move(services);
    map_.add(s.json_path + ".Tasks", {s.where, "", b.pos.line});
    return g;
  }

  json task(const hcl::Block& b, const Scope& group, std::size_t index) {
    Scope s{group.json_path + ".Tasks[" + std::to_string(index) + "]",
            group.where + " task " + quote(b.labels[0]), ""};
    map_.add(s.json_path, {s.where, "", b.pos.line});
    json t = json::object();
    t["Name"] = b.labels[0];
    map_.add(s.json_path + ".Name", {s.where, "", b.pos.line});
    const std::vector<std::string_view> blocks = {
        "config",  "env",     "meta",       "resources", "lifecycle",        "logs",
        "restart", "service", "constraint", "affinity",  "dispatch_payload", "volume_mount",
        "identity", "artifact", "template", "action"};
    attributes(b.body, s,
               {{"driver", "Driver"},
                {"user", "User", Kind::String},
                {"config", "Config"},
                {"env", "Env", Kind::StringMap},
                {"meta", "Meta", Kind::StringMap},
                {"leader", "Leader", Kind::Bool},
                {"kill_timeout", "KillTimeout", Kind::Duration},
                {"kill_signal", "KillSignal"},
                {"shutdown_delay", "ShutdownDelay", Kind::Duration}},
               t, blocks);
    std::map<std::string, int> seen;
    json services = json::array();
    json artifacts = json::array();
    json templates = json::array();
    json actions = json::array();
    for (const auto& c : b.body.blocks) {
      if (c.type == "action") {
        // Nomad 1.7's `action "name" { command, args }` (docs/jobspec.md, "actions").
        if (labels(s, c, 1)) {
          json a = simple_block(c, s, "Actions[" + std::to_string(actions.size()) + "]",
                                {{"command", "Command", Kind::String}, {"args", "Args"}});
          a["Name"] = c.labels[0];
          actions.push_back(std::move(a));
        }
      } else if (c.type == "artifact") {
        if (labels(s, c, 0)) artifacts.push_back(artifact(c, s, artifacts.size()));
      } else if (c.type == "template") {
        if (labels(s, c, 0)) templates.push_back(template_block(c, s, templates.size()));
      } else if (c.type == "config") {
        block_or_attribute(c, s, t, "Config", seen,
                           [&](const hcl::Block& m) { return config_body(m.body, s, "config"); });
      } else if (c.type == "env") {
        block_or_attribute(c, s, t, "Env", seen,
                           [&](const hcl::Block& m) { return map_block(m, s); });
      } else if (c.type == "meta") {
        block_or_attribute(c, s, t, "Meta", seen,
                           [&](const hcl::Block& m) { return map_block(m, s); });
      } else if (c.type == "resources") {
        if (labels(s, c, 0) && once(seen, s, c)) t["Resources"] = resources(c, s);
      } else if (c.type == "lifecycle") {
        if (labels(s, c, 0) && once(seen, s, c))
          t["Lifecycle"] =
              simple_block(c, s, "Lifecycle", {{"hook", "Hook"}, {"sidecar", "Sidecar", Kind::Bool}});
      } else if (c.type == "logs") {
        if (labels(s, c, 0) && once(seen, s, c))
          t["LogConfig"] = simple_block(c, s, "LogConfig",
                                        {{"max_files", "MaxFiles", Kind::Int},
                                         {"max_file_size", "MaxFileSizeMB", Kind::Int},
                                         {"disabled", "Disabled", Kind::Bool},
                                         {"enabled", "Enabled", Kind::Bool}});
      } else if (c.type == "restart") {
        if (labels(s, c, 0) && once(seen, s, c))
          t["RestartPolicy"] = simple_block(c, s, "RestartPolicy", restart_fields());
      } else if (c.type == "dispatch_payload") {
        if (labels(s, c, 0) && once(seen, s, c))
          t["DispatchPayload"] = simple_block(c, s, "DispatchPayload", {{"file", "File"}});
      } else if (c.type == "identity") {
        if (!labels(s, c, 0)) continue;
        // The block without a name (or named "default") is the default identity; the others
        // are named ones for other audiences (docs/variables.md, "Workload identities").
        const std::string at = "Identities[" +
                               std::to_string(t.contains("Identities") ? t["Identities"].size() : 0) + "]";
        bool named = false;
        for (const auto& a : c.body.attributes)
          if (a.name == "name" && a.value.is_string() && !a.value.get<std::string>().empty() &&
              a.value.get<std::string>() != "default")
            named = true;
        if (!named && !once(seen, s, c)) continue;
        json block = simple_block(c, s, named ? at : "Identity",
                                  {{"name", "Name"},
                                   {"aud", "Audience"},
                                   {"env", "Env", Kind::Bool},
                                   {"file", "File", Kind::Bool},
                                   {"filepath", "Filepath"},
                                   {"ttl", "TTL", Kind::Duration},
                                   {"change_mode", "ChangeMode"},
                                   {"change_signal", "ChangeSignal"},
                                   {"extra_claims", "ExtraClaims", Kind::StringMap}});
        if (!named) {
          t["Identity"] = std::move(block);
        } else {
          if (!t.contains("Identities")) t["Identities"] = json::array();
          t["Identities"].push_back(std::move(block));
        }
      } else if (c.type == "volume_mount") {
        if (labels(s, c, 0)) {
          if (!t.contains("VolumeMounts")) t["VolumeMounts"] = json::array();
          t["VolumeMounts"].push_back(
              simple_block(c, s, "VolumeMounts[" + std::to_string(t["VolumeMounts"].size()) + "]",
                           {{"volume", "Volume"},
                                {"destination", "Destination"},
                                {"read_only", "ReadOnly", Kind::Bool},
                                {"propagation_mode", "PropagationMode"},
                                {"selinux_label", "SELinuxLabel"}}));
        }
      } else if (placement_block(c, s, t, /*spreads=*/false)) {
      } else if (c.type == "service") {
        if (c.labels.size() <= 1)
          services.push_back(service(c, s, services.size()));
        else
          labels(s, c, 1);
      } else {
        unknown_block(s, c, blocks);
      }
    }
    if (!services.empty()) t["Services"] = std::move(services);
    if (!artifacts.empty()) t["Artifacts"] = std::move(artifacts);
    if (!templates.empty()) t["Templates"] = std::move(templates);
    if (!actions.empty()) t["Actions"] = std::move(actions);
    return t;
  }

  // An artifact block (docs/artifacts.md): options and headers as a block or a map attribute.
  json artifact(const hcl::Block& b, const Scope& task, std::size_t index) {
    Scope s{task.json_path + ".Artifacts[" + std::to_string(index) + "]", task.where, "artifact."};
    map_.add(s.json_path, {task.where, "artifact", b.pos.line});
    json out = json::object();
    attributes(b.body, s,
               {{"source", "GetterSource"},
                {"destination", "RelativeDest"},
                {"mode", "GetterMode"},
                {"chown", "Chown", Kind::Bool},
                {"options", "GetterOptions", Kind::StringMap},
                {"headers", "GetterHeaders", Kind::StringMap}},
               out, {"options", "headers"});
    std::map<std::string, int> seen;
    for (const auto& c : b.body.blocks) {
      if (c.type == "options") {
        block_or_attribute(c, s, out, "GetterOptions", seen,
                           [&](const hcl::Block& m) { return map_block(m, s); });
      } else if (c.type == "headers") {
        block_or_attribute(c, s, out, "GetterHeaders", seen,
                           [&](const hcl::Block& m) { return map_block(m, s); });
      } else {
        unknown_block(s, c, {"options", "headers"});
      }
    }
    return out;
  }

  // A task's `template` block (docs/templates.md) as one of Nomad's Templates.
  json template_block(const hcl::Block& b, const Scope& task, std::size_t index) {
    Scope s{task.json_path + ".Templates[" + std::to_string(index) + "]", task.where, "template."};
    map_.add(s.json_path, {task.where, "template", b.pos.line});
    json out = json::object();
    attributes(b.body, s,
               {{"data", "EmbeddedTmpl"},
                {"source", "SourcePath"},
                {"destination", "DestPath"},
                {"env", "Envvars", Kind::Bool},
                {"change_mode", "ChangeMode"},
                {"change_signal", "ChangeSignal"},
                {"perms", "Perms", Kind::String},
                {"uid", "Uid", Kind::Int},
                {"gid", "Gid", Kind::Int},
                {"left_delimiter", "LeftDelim"},
                {"right_delimiter", "RightDelim"},
                {"splay", "Splay", Kind::Duration},
                {"error_on_missing_key", "ErrMissingKey", Kind::Bool},
                {"once", "Once", Kind::Bool}},
               out, {"change_script", "wait"});
    std::map<std::string, int> seen;
    for (const auto& c : b.body.blocks) {
      if (c.type == "change_script") {
        if (labels(s, c, 0) && once(seen, s, c))
          out["ChangeScript"] = simple_block(c, s, "ChangeScript",
                                             {{"command", "Command"},
                                              {"args", "Args"},
                                              {"timeout", "Timeout", Kind::Duration},
                                              {"fail_on_error", "FailOnError", Kind::Bool}});
      } else if (c.type == "wait") {
        if (labels(s, c, 0) && once(seen, s, c))
          out["Wait"] = simple_block(
              c, s, "Wait", {{"min", "Min", Kind::Duration}, {"max", "Max", Kind::Duration}});
      } else {
        unknown_block(s, c, {"change_script", "wait"});
      }
    }
    return out;
  }

  json resources(const hcl::Block& b, const Scope& task) {
    Scope s = task.child("Resources", "resources");
    map_.add(s.json_path, {task.where, "resources", b.pos.line});
    json r = json::object();
    attributes(b.body, s,
               {{"cpu", "CPU", Kind::Int},
                {"cores", "Cores", Kind::Int},
                {"memory", "MemoryMB", Kind::Int},
                {"memory_max", "MemoryMaxMB", Kind::Int},
                {"pids", "Pids", Kind::Int},
                {"disk", "DiskMB"},
                {"iops", "IOPS"}},
               r, {"device", "network", "numa"});
    json devices = json::array();
    std::map<std::string, int> seen;
    for (const auto& d : b.body.blocks) {
      if (d.type == "numa") {  // Nomad's numa { affinity, devices }
        if (!labels(s, d, 0) || !once(seen, s, d)) continue;
        Scope ns = s.child("NUMA", "numa");
        map_.add(ns.json_path, {task.where, "resources.numa", d.pos.line});
        json numa = json::object();
        attributes(d.body, ns, {{"affinity", "Affinity", Kind::String}, {"devices", "Devices"}}, numa);
        for (const auto& inner : d.body.blocks) unknown_block(ns, inner, {});
        r["NUMA"] = std::move(numa);
        continue;
      }
      if (d.type == "network") {
        if (labels(s, d, 0) && once(seen, s, d))
          r["Networks"] = json::array({network(d, s.child("Networks[0]", "network"))});
        continue;
      }
      if (d.type != "device") {
        unknown_block(s, d, {"device", "network", "numa"});
        continue;
      }
      if (!labels(s, d, 1)) continue;
      Scope ds{s.json_path + ".Devices[" + std::to_string(devices.size()) + "]", s.where,
               s.prefix + "device " + quote(d.labels[0]) + "."};
      map_.add(ds.json_path, {s.where, s.prefix + "device " + quote(d.labels[0]), d.pos.line});
      json dev = {{"Name", d.labels[0]}};
      attributes(d.body, ds, {{"count", "Count", Kind::Int}}, dev, {"constraint", "affinity"});
      json constraints = json::array();
      for (const auto& c : d.body.blocks) {
        if (c.type == "affinity") {
          placement_block(c, ds, dev, /*spreads=*/false);
          continue;
        }
        if (c.type != "constraint") {
          unknown_block(ds, c, {"constraint", "affinity"});
          continue;
        }
        Scope cs =
            ds.child("Constraints[" + std::to_string(constraints.size()) + "]", "constraint");
        map_.add(cs.json_path, {s.where, ds.prefix + "constraint", c.pos.line});
        json con = json::object();
        attributes(c.body, cs,
                   {{"attribute", "LTarget"}, {"value", "RTarget", Kind::String}, {"operator", "Operand"}}, con);
        for (const auto& inner : c.body.blocks) unknown_block(cs, inner, {});
        constraints.push_back(std::move(con));
      }
      if (!constraints.empty()) dev["Constraints"] = std::move(constraints);
      devices.push_back(std::move(dev));
    }
    if (!devices.empty()) r["Devices"] = std::move(devices);
    return r;
  }

  // A network block (group level, or a task's resources): `port "label" { static, to,
  // host_network }` blocks become Nomad's ReservedPorts (with static) and DynamicPorts.
  json network(const hcl::Block& b, const Scope& s) {
    map_.add(s.json_path, {s.where, s.prefix.substr(0, s.prefix.size() - 1), b.pos.line});
    json out = json::object();
    attributes(b.body, s, {{"mode", "Mode"}, {"mbits", "MBits", Kind::Int}, {"hostname", "Hostname"}}, out,
               {"port", "dns", "cni"});
    json reserved = json::array(), dynamic = json::array();
    std::map<std::string, int> labels_seen;
    std::map<std::string, int> seen;
    for (const auto& p : b.body.blocks) {
      if (p.type == "dns") {
        if (!labels(s, p, 0) || !once(seen, s, p)) continue;
        Scope ds{s.json_path + ".DNS", s.where, s.prefix + "dns."};
        map_.add(ds.json_path, {s.where, s.prefix + "dns", p.pos.line});
        json dns = json::object();
        attributes(p.body, ds, {{"servers", "Servers"}, {"searches", "Searches"}, {"options", "Options"}}, dns);
        for (const auto& inner : p.body.blocks) unknown_block(ds, inner, {});
        out["DNS"] = std::move(dns);
        continue;
      }
      if (p.type == "cni") {  // Nomad's `cni { args = { ... } }`
        if (!labels(s, p, 0) || !once(seen, s, p)) continue;
        Scope cs{s.json_path + ".CNI", s.where, s.prefix + "cni."};
        map_.add(cs.json_path, {s.where, s.prefix + "cni", p.pos.line});
        json cni = json::object();
        attributes(p.body, cs, {{"args", "Args", Kind::StringMap}}, cni);
        for (const auto& inner : p.body.blocks) unknown_block(cs, inner, {});
        out["CNI"] = std::move(cni);
        continue;
      }
      if (p.type != "port") {
        unknown_block(s, p, {"port", "dns", "cni"});
        continue;
      }
      if (!labels(s, p, 1)) continue;
      if (auto [it, fresh] = labels_seen.emplace(p.labels[0], p.pos.line); !fresh) {
        problem(s, "port " + quote(p.labels[0]) + " block", p.pos.line,
                "appears twice (the first is at line " + std::to_string(it->second) + ")");
        continue;
      }
      bool is_static = false;
      for (const auto& a : p.body.attributes) is_static = is_static || a.name == "static";
      json& list = is_static ? reserved : dynamic;
      Scope ps{s.json_path + (is_static ? ".ReservedPorts[" : ".DynamicPorts[") +
                   std::to_string(list.size()) + "]",
               s.where, s.prefix + "port " + quote(p.labels[0]) + "."};
      map_.add(ps.json_path, {s.where, s.prefix + "port " + quote(p.labels[0]), p.pos.line});
      json port = {{"Label", p.labels[0]}};
      attributes(p.body, ps,
                 {{"static", "Value", Kind::Int},
                  {"to", "To", Kind::Int},
                  {"host_network", "HostNetwork"}},
                 port);
      for (const auto& inner : p.body.blocks) unknown_block(ps, inner, {});
      list.push_back(std::move(port));
    }
    if (!reserved.empty()) out["ReservedPorts"] = std::move(reserved);
    if (!dynamic.empty()) out["DynamicPorts"] = std::move(dynamic);
    return out;
  }

  json service(const hcl::Block& b, const Scope& task, std::size_t index) {
    Scope s{task.json_path + ".Services[" + std::to_string(index) + "]", task.where,
            "service" + std::string(b.labels.empty() ? "" : " " + quote(b.labels[0])) + "."};
    map_.add(s.json_path, {task.where, "service", b.pos.line});
    json out = json::object();
    if (!b.labels.empty()) out["Name"] = b.labels[0];
    attributes(b.body, s,
               {{"name", "Name", Kind::String},
                {"port", "PortLabel", Kind::String},
                {"address", "Address", Kind::String},
                {"provider", "Provider"},
                {"tags", "Tags"},
                {"address_mode", "AddressMode"},
                {"on_update", "OnUpdate"},
                {"task", "TaskName"},
                {"canary_tags", "CanaryTags"},
                {"enable_tag_override", "EnableTagOverride", Kind::Bool},
                {"meta", "Meta", Kind::StringMap},
                {"canary_meta", "CanaryMeta", Kind::StringMap},
                {"tagged_addresses", "TaggedAddresses", Kind::StringMap}},
               out, {"check", "check_restart", "meta", "canary_meta", "tagged_addresses"});
    json checks = json::array();
    std::map<std::string, int> service_seen;
    for (const auto& c : b.body.blocks) {
      // Nomad writes these maps as blocks as often as attributes.
      if (c.type == "meta" || c.type == "canary_meta" || c.type == "tagged_addresses") {
        const char* key = c.type == "meta" ? "Meta" : c.type == "canary_meta" ? "CanaryMeta" : "TaggedAddresses";
        block_or_attribute(c, s, out, key, service_seen,
                           [&](const hcl::Block& m) { return map_block(m, s); });
        continue;
      }
      if (c.type == "check_restart") {
        if (labels(s, c, 0) && once(service_seen, s, c))
          out["CheckRestart"] = simple_block(c, s, "CheckRestart",
                                             {{"limit", "Limit"},
                                              {"grace", "Grace", Kind::Duration},
                                              {"ignore_warnings", "IgnoreWarnings", Kind::Bool}});
        continue;
      }
      if (c.type != "check") {
        unknown_block(s, c, {"check", "check_restart", "meta", "canary_meta", "tagged_addresses"});
        continue;
      }
      if (!labels(s, c, 0)) continue;
      Scope cs{s.json_path + ".Checks[" + std::to_string(checks.size()) + "]", s.where,
               s.prefix + "check."};
      map_.add(cs.json_path, {s.where, s.prefix + "check", c.pos.line});
      json check = json::object();
      attributes(c.body, cs,
                 {{"name", "Name", Kind::String},
                  {"type", "Type"},
                  {"command", "Command"},
                  {"args", "Args"},
                  {"task", "TaskName"},
                  {"path", "Path"},
                  {"protocol", "Protocol"},
                  {"port", "PortLabel", Kind::String},
                  {"method", "Method"},
                  {"header", "Header"},
                  {"interval", "Interval", Kind::Duration},
                  {"timeout", "Timeout", Kind::Duration},
                  {"address_mode", "AddressMode"},
                  {"on_update", "OnUpdate"},
                  {"initial_status", "InitialStatus"}},
                 check, {"header", "check_restart"});
      std::map<std::string, int> seen;
      for (const auto& inner : c.body.blocks) {
        if (inner.type == "header") {
          if (!labels(cs, inner, 0) || !once(seen, cs, inner)) continue;
          map_.add(cs.json_path + ".Header", {s.where, cs.prefix + "header", inner.pos.line});
          json h = json::object();
          for (const auto& a : inner.body.attributes) h[a.name] = a.value;
          for (const auto& x : inner.body.blocks) unknown_block(cs, x, {});
          check["Header"] = std::move(h);
        } else if (inner.type == "check_restart") {
          if (labels(cs, inner, 0) && once(seen, cs, inner))
            check["CheckRestart"] = simple_block(inner, cs, "CheckRestart",
                                                 {{"limit", "Limit"},
                                                  {"grace", "Grace", Kind::Duration},
                                                  {"ignore_warnings", "IgnoreWarnings", Kind::Bool}});
        } else {
          unknown_block(cs, inner, {"header", "check_restart"});
        }
      }
      checks.push_back(std::move(check));
    }
    if (!checks.empty()) out["Checks"] = std::move(checks);
    return out;
  }
};

}  // namespace

void HclSourceMap::add(std::string json_path, Origin origin) {
  origins_.insert_or_assign(std::move(json_path), std::move(origin));
}

Problem HclSourceMap::locate(const Problem& p) const {
  if (p.path.empty()) return p;
  const Origin* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& [path, origin] : origins_) {
    if (path.size() <= best_len || p.path.compare(0, path.size(), path) != 0) continue;
    if (p.path.size() != path.size() && p.path[path.size()] != '.' && p.path[path.size()] != '[')
      continue;
    best = &origin;
    best_len = path.size();
  }
  if (!best) return p;
  std::string field = best->field;
  std::string rest = p.path.substr(best_len);
  if (!rest.empty() && rest[0] == '.') rest.erase(0, 1);
  if (!rest.empty()) field += (field.empty() || rest[0] == '[' ? "" : ".") + rest;
  std::string message = (field.empty() ? "" : field + " ") + "at line " +
                        std::to_string(best->line) + ": " + p.message;
  return {best->where, std::move(message)};
}

std::optional<json> map_hcl_job(std::string_view text, const HclJobOptions& options,
                                std::vector<Problem>& problems, HclSourceMap& map) {
  auto file = hcl::evaluate_file(text, options.variables, options.base_dir, kMaxJobNestingDepth);
  if (!file.syntax_ok) {
    problems.push_back({"", "malformed HCL at " + file.errors.front()});
    return std::nullopt;
  }
  for (auto& e : file.errors) problems.push_back({"", std::move(e)});
  if (!file.body_evaluated) return std::nullopt;
  std::vector<Problem> mapping;
  HclMapper mapper(mapping, map);
  auto doc = mapper.file(file.body);
  problems.insert(problems.end(), mapping.begin(), mapping.end());
  // A value that failed to evaluate is missing from the JSON; reading it would only report
  // the gap again, less clearly.
  if (!file.errors.empty()) return std::nullopt;
  return doc;
}

bool read_hcl_job(std::string_view text, const HclJobOptions& options, Job& job,
                  std::vector<Problem>& problems, HclSourceMap& map) {
  auto doc = map_hcl_job(text, options, problems, map);
  if (!doc) return false;
  return read_nomad_json_job(*doc, job, problems);
}

}  // namespace drover::jobspec::detail

namespace drover::jobspec {

HclJsonResult hcl_to_nomad_json(std::string_view text, const HclJobOptions& options) {
  HclJsonResult result;
  detail::HclSourceMap map;
  auto doc = detail::map_hcl_job(text, options, result.problems, map);
  if (result.problems.empty()) result.doc = std::move(doc);
  return result;
}

}  // namespace drover::jobspec
