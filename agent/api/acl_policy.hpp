// Nomad's ACL policies: rules written in HCL (or Nomad's JSON form of them) that grant a
// token capabilities per namespace, per variable path, per host volume and node pool, and a
// level over nodes, agents, operators and plugins (docs/security.md, "ACL policies"). A
// token holds one or more policies by name; AclRules is one policy's rules, Acl what a
// token's policies grant together.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::api {

// A labelled rule (`namespace "team-*"`, `path "db/*"`, `host_volume "scratch"`): its glob and
// its capabilities, the `policy` shorthand already expanded into them.
struct GlobRule {
  std::string pattern;
  std::set<std::string> capabilities;
};

struct NamespaceRule : GlobRule {
  std::vector<GlobRule> variables;  // `variables { path "..." { capabilities = [...] } }`
};

struct AclRules {
  std::vector<NamespaceRule> namespaces;
  std::vector<GlobRule> host_volumes;
  std::vector<GlobRule> node_pools;
  // `node`, `agent`, `operator`, `quota`: deny, read or write; `plugin`: deny, list, read.
  // Empty: the policy says nothing of it.
  std::map<std::string, std::string> levels;
};

// Reads a policy's rules as Nomad's `acl policy apply` takes them: HCL, or JSON (an object
// whose keys are the block names). Errors name the block and what is wrong with it (an
// unknown capability, an invalid name, a policy that grants nothing).
Result<AclRules> parse_acl_rules(std::string_view text);

// What a token's policies grant together, as Nomad merges them: capabilities add up, and
// `deny` (a capability or a level) wins over anything another policy grants.
class Acl {
 public:
  static Acl merge(const std::vector<const AclRules*>& policies);

  // The one rule for `ns` decides: an exact label, else the glob that matches with the most
  // literal characters (Nomad's choice).
  bool allow_namespace(std::string_view ns, std::string_view capability) const;
  // Every capability granted in `ns` (Nomad's names, sorted): what the web UI offers there.
  std::vector<std::string> namespace_capabilities(std::string_view ns) const;
  // Any capability in `ns` at all (the namespace is listed for this token).
  bool any_in_namespace(std::string_view ns) const;
  // Whether `capability` is granted in some namespace: what a request that names none yet
  // (a list of every namespace, a job whose body says where it goes) needs before its handler
  // checks each namespace it touches.
  bool allow_some_namespace(std::string_view capability) const;
  // A variable path's capability (read, write, list, destroy) in `ns`: the namespace's rule,
  // then its most specific path glob.
  bool allow_variable(std::string_view ns, std::string_view path,
                      std::string_view capability) const;
  bool allow_variable_somewhere(std::string_view ns, std::string_view capability) const;
  bool allow_host_volume(std::string_view name, std::string_view capability) const;
  bool allow_node_pool(std::string_view name, std::string_view capability) const;
  bool allow_some_node_pool(std::string_view capability) const;
  // node, agent, operator, quota: "read" or "write"; plugin: "list" or "read".
  bool allow_level(std::string_view what, std::string_view need) const;

 private:
  std::vector<NamespaceRule> namespaces_;
  std::vector<GlobRule> host_volumes_, node_pools_;
  std::map<std::string, std::string> levels_;
};

}  // namespace drover::api
