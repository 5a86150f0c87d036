// Nomad's ACL policy rules: reading them and merging a token's; see acl_policy.hpp.
#include "api/acl_policy.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "jobspec/hcl/hcl.hpp"

namespace drover::api {
namespace {

using nlohmann::json;

// Nomad's names (acl/policy.go); the policy shorthands expand as Nomad 1.10 expands them.
const std::set<std::string> kNamespaceCapabilities = {"deny",
                                                      "list-jobs",
                                                      "parse-job",
                                                      "read-job",
                                                      "submit-job",
                                                      "dispatch-job",
                                                      "read-logs",
                                                      "read-fs",
                                                      "alloc-exec",
                                                      "alloc-node-exec",
                                                      "alloc-lifecycle",
                                                      "csi-register-plugin",
                                                      "csi-write-volume",
                                                      "csi-read-volume",
                                                      "csi-list-volume",
                                                      "csi-mount-volume",
                                                      "list-scaling-policies",
                                                      "read-scaling-policy",
                                                      "read-job-scaling",
                                                      "scale-job",
                                                      "submit-recommendation",
                                                      "sentinel-override",
                                                      "host-volume-create",
                                                      "host-volume-register",
                                                      "host-volume-read",
                                                      "host-volume-write",
                                                      "host-volume-delete"};

std::vector<std::string> expand_namespace_policy(const std::string& policy) {
  const std::vector<std::string> read = {
      "list-jobs",           "parse-job",        "read-job",
      "csi-list-volume",     "csi-read-volume",  "list-scaling-policies",
      "read-scaling-policy", "read-job-scaling", "host-volume-read"};
  if (policy == "deny") return {"deny"};
  if (policy == "read") return read;
  if (policy == "scale")
    return {"list-scaling-policies", "read-scaling-policy", "read-job-scaling", "scale-job"};
  if (policy == "write") {
    auto write = read;
    for (const char* c : {"scale-job", "submit-job", "dispatch-job", "read-logs", "read-fs",
                          "alloc-exec", "alloc-lifecycle", "csi-mount-volume", "csi-write-volume",
                          "submit-recommendation", "host-volume-create", "host-volume-delete"})
      write.push_back(c);
    return write;
  }
  return {};
}

// A glob of Nomad's: `*` stands for any run of characters, everything else for itself.
bool glob_match(std::string_view pattern, std::string_view s) {
  std::size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pattern.size() && pattern[p] == s[i]) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// The rule that decides for `name`: an exact label, else the matching glob with the most
// literal characters (the first written on a tie).
template <typename Rule>
const Rule* rule_for(const std::vector<Rule>& rules, std::string_view name) {
  for (const auto& r : rules)
    if (r.pattern == name) return &r;
  const Rule* best = nullptr;
  std::ptrdiff_t best_literal = -1;
  for (const auto& r : rules) {
    if (r.pattern.find('*') == std::string::npos || !glob_match(r.pattern, name)) continue;
    auto literal = static_cast<std::ptrdiff_t>(r.pattern.size()) -
                   std::count(r.pattern.begin(), r.pattern.end(), '*');
    if (literal > best_literal) {
      best = &r;
      best_literal = literal;
    }
  }
  return best;
}

bool grants(const std::set<std::string>& caps, std::string_view capability) {
  return !caps.count("deny") && caps.count(std::string(capability));
}

// ---- reading -------------------------------------------------------------------------------

// An HCL body in the JSON form Nomad's policy JSON has: a block type maps to a list of its
// blocks, a labelled one as {label: body}.
json body_json(const jobspec::hcl::Body& body) {
  json j = json::object();
  for (const auto& a : body.attributes) j[a.name] = a.value;
  for (const auto& b : body.blocks) {
    json inner = body_json(b.body);
    for (auto l = b.labels.rbegin(); l != b.labels.rend(); ++l) inner = json{{*l, inner}};
    j[b.type].push_back(inner);
  }
  return j;
}

// A block's bodies, given as an object or a list of objects.
Result<std::vector<json>> bodies(const json& v, const std::string& where) {
  std::vector<json> out;
  if (v.is_object())
    out.push_back(v);
  else if (v.is_array())
    for (const auto& e : v) {
      if (!e.is_object()) return make_error(where + ": must be a block", Errc::Invalid);
      out.push_back(e);
    }
  else
    return make_error(where + ": must be a block", Errc::Invalid);
  return out;
}

// A labelled block's {label: body} pairs, in the order written.
Result<std::vector<std::pair<std::string, json>>> labelled(const json& v, const std::string& type) {
  auto list = bodies(v, type);
  if (!list) return list.error();
  std::vector<std::pair<std::string, json>> out;
  for (const auto& o : list.value())
    for (const auto& [label, body] : o.items()) out.emplace_back(label, body);
  return out;
}

Result<std::string> text_field(const json& body, const char* key, const std::string& where) {
  if (!body.contains(key) || body[key].is_null()) return std::string{};
  if (!body[key].is_string())
    return make_error(where + "." + key + ": must be a string", Errc::Invalid);
  return body[key].get<std::string>();
}

Result<std::vector<std::string>> capability_list(const json& body, const std::string& where) {
  std::vector<std::string> out;
  if (!body.contains("capabilities") || body["capabilities"].is_null()) return out;
  const auto& c = body["capabilities"];
  if (!c.is_array())
    return make_error(where + ".capabilities: must be a list of strings", Errc::Invalid);
  for (const auto& e : c) {
    if (!e.is_string())
      return make_error(where + ".capabilities: must be a list of strings", Errc::Invalid);
    out.push_back(e.get<std::string>());
  }
  return out;
}

Status known_keys(const json& body, std::initializer_list<const char*> keys,
                  const std::string& where) {
  for (const auto& [k, v] : body.items())
    if (std::none_of(keys.begin(), keys.end(), [&k = k](const char* x) { return k == x; }))
      return make_error(where + ": unknown field \"" + k + "\"", Errc::Invalid);
  return {};
}

// A labelled rule of `policy` and/or `capabilities`, its shorthand expanded by `expand`.
template <typename Expand>
Result<GlobRule> glob_rule(const std::string& label, const json& body, const std::string& where,
                           const std::regex& valid_label, const std::set<std::string>& policies,
                           const std::set<std::string>& capabilities, Expand expand) {
  if (!std::regex_match(label, valid_label))
    return make_error(where + ": invalid name (letters, digits, '-' and '*' globs)", Errc::Invalid);
  auto policy = text_field(body, "policy", where);
  if (!policy) return policy.error();
  if (!policy->empty() && !policies.count(*policy)) {
    std::string list;
    for (const auto& p : policies) list += (list.empty() ? "" : ", ") + p;
    return make_error(where + ".policy: \"" + *policy + "\" is not one of " + list, Errc::Invalid);
  }
  auto caps = capability_list(body, where);
  if (!caps) return caps.error();
  GlobRule rule{label, {}};
  for (const auto& c : caps.value()) {
    if (!capabilities.count(c))
      return make_error(where + ".capabilities: unknown capability \"" + c + "\"", Errc::Invalid);
    rule.capabilities.insert(c);
  }
  if (!policy->empty())
    for (const auto& c : expand(*policy)) rule.capabilities.insert(c);
  if (rule.capabilities.empty())
    return make_error(where + ": grants nothing (give a policy or capabilities)", Errc::Invalid);
  return rule;
}

Result<NamespaceRule> namespace_rule(const std::string& label, const json& body) {
  const std::string where = "namespace \"" + label + "\"";
  if (auto st = known_keys(body, {"policy", "capabilities", "variables"}, where); !st)
    return st.error();
  static const std::regex valid("^[a-zA-Z0-9*-]{1,128}$");
  auto rule = glob_rule(label, body.is_object() ? body : json::object(), where, valid,
                        {"deny", "read", "write", "scale"}, kNamespaceCapabilities,
                        expand_namespace_policy);
  // A namespace block of variables alone grants no namespace capability.
  NamespaceRule out;
  if (rule)
    static_cast<GlobRule&>(out) = rule.value();
  else if (!body.contains("variables") || body.contains("policy") || body.contains("capabilities"))
    return rule.error();
  else
    out.pattern = label;
  if (body.contains("variables")) {
    auto vars = bodies(body["variables"], where + ".variables");
    if (!vars) return vars.error();
    for (const auto& v : vars.value()) {
      if (auto st = known_keys(v, {"path"}, where + ".variables"); !st) return st.error();
      if (!v.contains("path"))
        return make_error(where + ".variables: needs path blocks", Errc::Invalid);
      auto paths = labelled(v["path"], where + ".variables.path");
      if (!paths) return paths.error();
      for (const auto& [path, pbody] : paths.value()) {
        const std::string pwhere = where + " variables path \"" + path + "\"";
        if (path.empty()) return make_error(pwhere + ": the path is empty", Errc::Invalid);
        if (auto st = known_keys(pbody, {"capabilities"}, pwhere); !st) return st.error();
        auto caps = capability_list(pbody, pwhere);
        if (!caps) return caps.error();
        GlobRule p{path, {}};
        for (const auto& c : caps.value()) {
          if (c != "read" && c != "write" && c != "list" && c != "destroy" && c != "deny")
            return make_error(pwhere + ".capabilities: unknown capability \"" + c +
                                  "\" (read, write, list, destroy, deny)",
                              Errc::Invalid);
          p.capabilities.insert(c);
        }
        if (p.capabilities.empty()) return make_error(pwhere + ": grants nothing", Errc::Invalid);
        if (p.capabilities.count("read")) p.capabilities.insert("list");  // as Nomad's
        out.variables.push_back(std::move(p));
      }
    }
  }
  return out;
}

}  // namespace

Result<AclRules> parse_acl_rules(std::string_view text) {
  json doc;
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
      return make_error("rules: not valid JSON (a policy's JSON is an object of blocks)",
                        Errc::Invalid);
  } else {
    auto body = jobspec::hcl::parse(text);
    if (!body) return make_error("rules: " + body.message(), Errc::Invalid);
    for (const auto& a : body->attributes)
      return make_error("rules: line " + std::to_string(a.pos.line) + ": \"" + a.name +
                            "\" outside a block (a policy is made of blocks: namespace, node, ...)",
                        Errc::Invalid);
    doc = body_json(body.value());
  }
  AclRules rules;
  for (const auto& [type, value] : doc.items()) {
    if (type == "namespace") {
      auto list = labelled(value, type);
      if (!list) return list.error();
      for (const auto& [label, body] : list.value()) {
        auto r = namespace_rule(label, body);
        if (!r) return r.error();
        rules.namespaces.push_back(std::move(r.value()));
      }
    } else if (type == "host_volume" || type == "node_pool") {
      auto list = labelled(value, type);
      if (!list) return list.error();
      const bool volume = type == "host_volume";
      static const std::regex valid_volume("^[a-zA-Z0-9*_-]{1,128}$");
      static const std::regex valid_pool("^[a-zA-Z0-9*_.-]{1,128}$");
      for (const auto& [label, body] : list.value()) {
        const std::string where = type + " \"" + label + "\"";
        if (auto st = known_keys(body, {"policy", "capabilities"}, where); !st) return st.error();
        auto r = volume ? glob_rule(label, body, where, valid_volume, {"deny", "read", "write"},
                                    {"deny", "mount-readonly", "mount-readwrite"},
                                    [](const std::string& p) -> std::vector<std::string> {
                                      if (p == "deny") return {"deny"};
                                      if (p == "read") return {"mount-readonly"};
                                      return {"mount-readonly", "mount-readwrite"};
                                    })
                        : glob_rule(label, body, where, valid_pool, {"deny", "read", "write"},
                                    {"deny", "read", "write", "delete"},
                                    [](const std::string& p) -> std::vector<std::string> {
                                      if (p == "deny") return {"deny"};
                                      if (p == "read") return {"read"};
                                      return {"read", "write", "delete"};
                                    });
        if (!r) return r.error();
        (volume ? rules.host_volumes : rules.node_pools).push_back(std::move(r.value()));
      }
    } else if (type == "node" || type == "agent" || type == "operator" || type == "quota" ||
               type == "plugin") {
      auto list = bodies(value, type);
      if (!list) return list.error();
      for (const auto& body : list.value()) {
        if (auto st = known_keys(body, {"policy"}, type); !st) return st.error();
        auto level = text_field(body, "policy", type);
        if (!level) return level.error();
        const bool plugin = type == "plugin";
        const std::set<std::string> ok = plugin ? std::set<std::string>{"deny", "list", "read"}
                                                : std::set<std::string>{"deny", "read", "write"};
        if (!ok.count(*level))
          return make_error(type + ".policy: \"" + *level + "\" is not one of " +
                                (plugin ? "deny, list, read" : "deny, read, write"),
                            Errc::Invalid);
        rules.levels[type] = *level;
      }
    } else {
      return make_error("rules: unknown block \"" + type +
                            "\" (namespace, host_volume, node_pool, node, agent, operator, "
                            "quota, plugin)",
                        Errc::Invalid);
    }
  }
  if (rules.namespaces.empty() && rules.host_volumes.empty() && rules.node_pools.empty() &&
      rules.levels.empty())
    return make_error("rules: the policy grants nothing (no block)", Errc::Invalid);
  return rules;
}

namespace {

int level_rank(const std::string& l) {
  if (l == "write") return 3;
  if (l == "read") return 2;
  if (l == "list") return 1;
  return 0;
}

void merge_rule(std::vector<GlobRule>& into, const GlobRule& r) {
  for (auto& e : into)
    if (e.pattern == r.pattern) {
      e.capabilities.insert(r.capabilities.begin(), r.capabilities.end());
      return;
    }
  into.push_back(r);
}

}  // namespace

Acl Acl::merge(const std::vector<const AclRules*>& policies) {
  Acl acl;
  for (const auto* p : policies) {
    if (!p) continue;
    for (const auto& ns : p->namespaces) {
      auto it = std::find_if(acl.namespaces_.begin(), acl.namespaces_.end(),
                             [&](const NamespaceRule& e) { return e.pattern == ns.pattern; });
      if (it == acl.namespaces_.end()) {
        acl.namespaces_.push_back(ns);
        continue;
      }
      it->capabilities.insert(ns.capabilities.begin(), ns.capabilities.end());
      for (const auto& v : ns.variables) merge_rule(it->variables, v);
    }
    for (const auto& v : p->host_volumes) merge_rule(acl.host_volumes_, v);
    for (const auto& v : p->node_pools) merge_rule(acl.node_pools_, v);
    for (const auto& [what, level] : p->levels) {
      auto& have = acl.levels_[what];
      if (have == "deny") continue;
      if (level == "deny" || level_rank(level) > level_rank(have)) have = level;
    }
  }
  return acl;
}

bool Acl::allow_namespace(std::string_view ns, std::string_view capability) const {
  const auto* r = rule_for(namespaces_, ns);
  return r && grants(r->capabilities, capability);
}

std::vector<std::string> Acl::namespace_capabilities(std::string_view ns) const {
  std::vector<std::string> out;
  for (const auto& c : kNamespaceCapabilities)  // a std::set: sorted
    if (c != "deny" && allow_namespace(ns, c)) out.push_back(c);
  return out;
}

bool Acl::any_in_namespace(std::string_view ns) const {
  const auto* r = rule_for(namespaces_, ns);
  if (!r || r->capabilities.count("deny")) return false;
  if (!r->capabilities.empty()) return true;
  return std::any_of(r->variables.begin(), r->variables.end(), [](const GlobRule& v) {
    return !v.capabilities.count("deny") && !v.capabilities.empty();
  });
}

bool Acl::allow_some_namespace(std::string_view capability) const {
  return std::any_of(namespaces_.begin(), namespaces_.end(),
                     [&](const NamespaceRule& r) { return grants(r.capabilities, capability); });
}

bool Acl::allow_variable(std::string_view ns, std::string_view path,
                         std::string_view capability) const {
  const auto* r = rule_for(namespaces_, ns);
  if (!r || r->capabilities.count("deny")) return false;
  const auto* p = rule_for(r->variables, path);
  return p && grants(p->capabilities, capability);
}

bool Acl::allow_variable_somewhere(std::string_view ns, std::string_view capability) const {
  const auto* r = rule_for(namespaces_, ns);
  if (!r || r->capabilities.count("deny")) return false;
  return std::any_of(r->variables.begin(), r->variables.end(),
                     [&](const GlobRule& v) { return grants(v.capabilities, capability); });
}

bool Acl::allow_host_volume(std::string_view name, std::string_view capability) const {
  const auto* r = rule_for(host_volumes_, name);
  return r && grants(r->capabilities, capability);
}

bool Acl::allow_node_pool(std::string_view name, std::string_view capability) const {
  const auto* r = rule_for(node_pools_, name);
  return r && grants(r->capabilities, capability);
}

bool Acl::allow_some_node_pool(std::string_view capability) const {
  return std::any_of(node_pools_.begin(), node_pools_.end(),
                     [&](const GlobRule& r) { return grants(r.capabilities, capability); });
}

bool Acl::allow_level(std::string_view what, std::string_view need) const {
  auto it = levels_.find(std::string(what));
  if (it == levels_.end() || it->second == "deny") return false;
  return level_rank(it->second) >= level_rank(std::string(need));
}

}  // namespace drover::api
