// A binding rule's Selector: the boolean expressions of HashiCorp's go-bexpr that Nomad's
// binding rules use, over the claims a login token's auth method mapped (auth/claims.hpp):
//   value.team == "gpu"        value.team != "ops"       "admins" in list.groups
//   list.groups contains admins  "x" not in list.g       list.groups is empty
//   value.email matches "@corp\.example$"              not (a or b) and c
// A field is `value.NAME` (a ClaimMappings target, a string) or `list.NAME` (a
// ListClaimMappings target, a list of strings); a literal is "quoted", `backquoted`, or a bare
// word. `in` and `contains` on a string test for a substring, as bexpr's do.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::auth {

// What a selector is evaluated against.
struct SelectorInput {
  std::map<std::string, std::string> values;              // value.NAME
  std::map<std::string, std::vector<std::string>> lists;  // list.NAME
};

class Selector {
 public:
  // The empty text selects every login (Nomad's catch-all rule). The error names the offset
  // and what was expected there.
  static Result<Selector> parse(std::string_view text);
  // Whether `in` matches. A field `in` does not have makes its comparison false (bexpr's
  // evaluation error, which Nomad takes as no match).
  bool matches(const SelectorInput& in) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;  // null: matches everything
};

}  // namespace drover::auth
