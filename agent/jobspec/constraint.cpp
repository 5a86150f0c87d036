// Nomad's constraint operators (scheduler/feasible.go's checkConstraint) and go-version's
// version constraints, on values already resolved against a node or a device.
#include "jobspec/constraint.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <regex>
#include <set>
#include <vector>

#include "drover/common/split.hpp"

namespace drover::jobspec {

namespace {

constexpr std::array<std::string_view, 19> kOperators = {"=",
                                                         "==",
                                                         "is",
                                                         "!=",
                                                         "not",
                                                         "<",
                                                         "<=",
                                                         ">",
                                                         ">=",
                                                         "regexp",
                                                         "set_contains",
                                                         "set_contains_all",
                                                         "set_contains_any",
                                                         "version",
                                                         "semver",
                                                         "is_set",
                                                         "is_not_set",
                                                         "distinct_hosts",
                                                         "distinct_property"};

// --- go-version ---

struct Version {
  std::vector<std::int64_t> segments;  // padded to at least 3
  std::size_t specified = 0;           // segments written
  std::string prerelease;
};

// hashicorp/go-version's VersionRegexpRaw and SemverRegexpRaw, anchored.
const std::regex& lenient_version_re() {
  static const std::regex re(
      R"(^v?([0-9]+(\.[0-9]+)*?)(-([0-9]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)))?(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))?$)");
  return re;
}
const std::regex& semver_re() {
  static const std::regex re(
      R"(^v?([0-9]+(\.[0-9]+){0,2})(-([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))?(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))?$)");
  return re;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::optional<Version> parse_version(const std::string& text, bool strict) {
  std::smatch m;
  if (!std::regex_match(text, m, strict ? semver_re() : lenient_version_re())) return std::nullopt;
  Version v;
  std::string segs = m[1].str();
  std::size_t start = 0;
  while (start <= segs.size()) {
    auto dot = segs.find('.', start);
    std::string part =
        segs.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    errno = 0;
    char* end = nullptr;
    long long n = std::strtoll(part.c_str(), &end, 10);
    if (errno == ERANGE || part.empty()) return std::nullopt;
    v.segments.push_back(n);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  v.specified = v.segments.size();
  while (v.segments.size() < 3) v.segments.push_back(0);
  if (strict) {
    v.prerelease = m[4].str();
  } else {
    v.prerelease = m[4].matched ? m[4].str() : m[7].str();
  }
  return v;
}

bool numeric(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// go-version's comparePart.
int compare_part(const std::string& a, const std::string& b) {
  if (a == b) return 0;
  bool an = numeric(a), bn = numeric(b);
  if (a.empty()) return an ? -1 : 1;
  if (b.empty()) return bn ? 1 : -1;
  if (an && bn) {
    auto x = std::strtoll(a.c_str(), nullptr, 10), y = std::strtoll(b.c_str(), nullptr, 10);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (an) return -1;
  if (bn) return 1;
  return a > b ? 1 : -1;
}

int compare(const Version& a, const Version& b) {
  std::size_t n = std::max(a.segments.size(), b.segments.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto x = i < a.segments.size() ? a.segments[i] : 0;
    auto y = i < b.segments.size() ? b.segments[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.prerelease == b.prerelease) return 0;
  if (a.prerelease.empty()) return 1;
  if (b.prerelease.empty()) return -1;
  auto pa = split(a.prerelease, '.'), pb = split(b.prerelease, '.');
  for (std::size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    int c = compare_part(std::string(i < pa.size() ? pa[i] : ""),
                         std::string(i < pb.size() ? pb[i] : ""));
    if (c != 0) return c;
  }
  return 0;
}

// go-version's prereleaseCheck: a prerelease satisfies only constraints that name a
// prerelease of the same release.
bool prerelease_check(const Version& v, const Version& c) {
  bool vp = !v.prerelease.empty(), cp = !c.prerelease.empty();
  if (vp && cp) {
    std::size_t n = std::max(v.segments.size(), c.segments.size());
    for (std::size_t i = 0; i < n; ++i)
      if ((i < v.segments.size() ? v.segments[i] : 0) !=
          (i < c.segments.size() ? c.segments[i] : 0))
        return false;
    return true;
  }
  return !(vp && !cp);
}

struct VersionTerm {
  std::string op;
  Version version;
};

std::optional<std::vector<VersionTerm>> parse_version_constraint(std::string_view text,
                                                                 bool strict) {
  std::vector<VersionTerm> terms;
  for (const auto& raw : split(text, ',')) {
    std::string t = trim(raw);
    std::string op;
    for (std::string_view candidate : {">=", "<=", "!=", "~>", "=", ">", "<"}) {
      if (t.rfind(candidate, 0) == 0) {
        op = candidate;
        break;
      }
    }
    if (strict && op == "~>") return std::nullopt;
    auto v = parse_version(trim(std::string_view(t).substr(op.size())), strict);
    if (!v) return std::nullopt;
    terms.push_back({op.empty() ? "=" : op, *v});
  }
  if (terms.empty()) return std::nullopt;
  return terms;
}

bool term_holds(const VersionTerm& t, const Version& v, bool strict) {
  const Version& c = t.version;
  int cmp = compare(v, c);
  if (t.op == "=") return cmp == 0;
  if (t.op == "!=") return cmp != 0;
  // semver orders prereleases as SemVer 2.0 does; go-version keeps them out.
  if (!strict && !prerelease_check(v, c)) return false;
  if (t.op == ">") return cmp > 0;
  if (t.op == "<") return cmp < 0;
  if (t.op == ">=") return cmp >= 0;
  if (t.op == "<=") return cmp <= 0;
  // ~>: at least c, and the same in every written segment but the last.
  if (cmp < 0 || c.specified > v.specified) return false;
  for (std::size_t i = 0; i + 1 < c.specified; ++i)
    if (v.segments[i] != c.segments[i]) return false;
  return true;
}

// --- the other operators ---

std::set<std::string> set_of(const std::string& s) {
  std::set<std::string> out;
  for (const auto& item : split(s, ',')) out.insert(trim(item));
  return out;
}

template <typename T>
bool ordered(const std::string& op, T a, T b) {
  if (op == "<") return a < b;
  if (op == "<=") return a <= b;
  if (op == ">") return a > b;
  return a >= b;
}

// Nomad's checkOrder: as integers when both are, else as floats, else as strings.
bool check_order(const std::string& op, const std::string& l, const std::string& r) {
  auto as_int = [](const std::string& s) -> std::optional<long long> {
    if (s.empty()) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE) return std::nullopt;
    return v;
  };
  auto as_float = [](const std::string& s) -> std::optional<double> {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (*end != '\0') return std::nullopt;
    return v;
  };
  if (auto a = as_int(l), b = as_int(r); a && b) return ordered(op, *a, *b);
  if (auto a = as_float(l), b = as_float(r); a && b) return ordered(op, *a, *b);
  return ordered(op, l, r);
}

std::optional<std::regex> compile(const std::string& pattern, std::string* error) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

}  // namespace

bool known_constraint_operator(std::string_view op) {
  return std::find(kOperators.begin(), kOperators.end(), op) != kOperators.end();
}

std::optional<std::string> constraint_value_problem(const std::string& op,
                                                    const std::string& value) {
  // A value naming a node target is only known on the node.
  if (value.rfind("${", 0) == 0) return std::nullopt;
  if (op == "regexp") {
    std::string error;
    if (!compile(value, &error)) return "not a regular expression: " + error;
  } else if (op == "version" || op == "semver") {
    if (!parse_version_constraint(value, op == "semver"))
      return "not a " + op + " constraint (e.g. \">= 1.2, < 2.0\"" +
             (op == "version" ? std::string(" or \"~> 1.2\"") : "") + ")";
  } else if (op == "distinct_property" && !value.empty()) {
    char* end = nullptr;
    long v = std::strtol(value.c_str(), &end, 10);
    if (*end != '\0' || v < 1) return "must be a positive number of allocs per value";
  }
  return std::nullopt;
}

bool check_operand(const std::string& op, const std::optional<std::string>& left,
                   const std::optional<std::string>& right) {
  if (op == "distinct_hosts" || op == "distinct_property") return true;
  if (op == "=" || op == "==" || op == "is") return left && right && *left == *right;
  if (op == "!=" || op == "not") return left.value_or("") != right.value_or("");
  if (op == "<" || op == "<=" || op == ">" || op == ">=")
    return left && right && check_order(op, *left, *right);
  if (op == "is_set") return left.has_value();
  if (op == "is_not_set") return !left.has_value();
  if (!left || !right) return false;
  if (op == "version" || op == "semver")
    return version_matches(*left, *right, op == "semver").value_or(false);
  if (op == "regexp") {
    auto re = compile(*right, nullptr);
    return re && std::regex_search(*left, *re);
  }
  if (op == "set_contains" || op == "set_contains_all") {
    auto have = set_of(*left);
    for (const auto& want : set_of(*right))
      if (!have.count(want)) return false;
    return true;
  }
  if (op == "set_contains_any") {
    auto have = set_of(*left);
    for (const auto& want : set_of(*right))
      if (have.count(want)) return true;
    return false;
  }
  return false;
}

std::optional<bool> version_matches(std::string_view version, std::string_view constraint,
                                    bool strict_semver) {
  auto v = parse_version(std::string(version), strict_semver);
  auto terms = parse_version_constraint(constraint, strict_semver);
  if (!v || !terms) return std::nullopt;
  return std::all_of(terms->begin(), terms->end(),
                     [&](const VersionTerm& t) { return term_holds(t, *v, strict_semver); });
}

}  // namespace drover::jobspec
