// Nomad's constraint operators on resolved values: the one implementation of `=`, `!=`, `<`,
// `regexp`, `set_contains*`, `version`, `semver`, `is_set` and the rest, used by job
// constraints (runner/constraints.hpp) and by device constraints (runner/device_manager.cpp),
// and by validate() to refuse a right-hand side that can never be read (a bad regexp, a bad
// version constraint) at submit.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace drover::jobspec {

// Every operator Nomad's `constraint` block takes, `distinct_hosts` and `distinct_property`
// included (they count allocs instead of comparing values).
bool known_constraint_operator(std::string_view op);

// Why `value` can never be read as the right-hand side of `op` ("regexp: missing ')'", "not a
// version constraint: ..."); nullopt when it can, or when the operator takes any value.
std::optional<std::string> constraint_value_problem(const std::string& op,
                                                    const std::string& value);

// Nomad's checkConstraint: does `op` hold between the resolved left and right values (nullopt:
// the target resolved to nothing on this node)? distinct_hosts and distinct_property are not
// value comparisons and hold here; the caller counts allocs for them.
bool check_operand(const std::string& op, const std::optional<std::string>& left,
                   const std::optional<std::string>& right);

// hashicorp/go-version: `version` is lenient (any number of segments, "v" prefix, prerelease
// with or without "-"), `semver` strict (at most three segments, prerelease after "-"). The
// constraint is a comma-separated list of `[op] version`, all of which must hold; `~>` (the
// pessimistic operator) only with `version`. A version with a prerelease never satisfies a
// `version` constraint without one (go-version's rule); `semver` orders it as SemVer 2.0 does.
// nullopt: the constraint or the version cannot be read.
std::optional<bool> version_matches(std::string_view version, std::string_view constraint,
                                    bool strict_semver);

}  // namespace drover::jobspec
