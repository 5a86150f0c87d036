// Durations in job files: Go's time.ParseDuration syntax ("1h30m", "250ms", "1.5s"), the one
// Nomad users already write, and the inverse used when drover prints a job back.
#include <cstdint>
#include <limits>
#include <string>

#include "jobspec/parse.hpp"

namespace drover::jobspec {

namespace {

struct Unit {
  std::string_view name;
  std::int64_t ns;
};

// Longest names first, so "ms" is not read as "m" followed by garbage.
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000} /* µs */,
    {"\xCE\xBCs", 1000} /* μs */,
    {"ms", 1000000},
    {"s", 1000000000LL},
    {"m", 60LL * 1000000000LL},
    {"h", 3600LL * 1000000000LL},
};

drover::Error bad(std::string_view text, const std::string& why) {
  return drover::make_error("invalid duration \"" + std::string(text) + "\": " + why);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

drover::Result<Duration> parse_duration(std::string_view text) {
  std::string_view s = text;
  if (s.empty()) return bad(text, "empty (write e.g. \"10s\", \"5m\", \"1h30m\")");
  bool negative = false;
  if (s.front() == '-' || s.front() == '+') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return bad(text, "no number");

  constexpr __int128 kMax = std::numeric_limits<std::int64_t>::max();
  __int128 total = 0;
  while (!s.empty()) {
    // number: digits, optionally '.' and more digits; at least one digit overall
    __int128 whole = 0;
    std::size_t i = 0;
    bool any_digit = false;
    while (i < s.size() && is_digit(s[i])) {
      whole = whole * 10 + (s[i] - '0');
      if (whole > kMax) return bad(text, "too large");
      any_digit = true;
      ++i;
    }
    __int128 frac = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && is_digit(s[i])) {
        if (scale < 1000000000000000000LL) {  // digits past 1e-18 cannot change whole ns
          frac = frac * 10 + (s[i] - '0');
          scale *= 10;
        }
        any_digit = true;
        ++i;
      }
    }
    if (!any_digit) return bad(text, "expected a number at \"" + std::string(s) + "\"");
    s.remove_prefix(i);
    std::size_t u = 0;
    while (u < s.size() && !is_digit(s[u]) && s[u] != '.') ++u;
    std::string_view unit_text = s.substr(0, u);
    if (unit_text.empty())
      return bad(text, "missing unit (use ns, us, ms, s, m or h, e.g. \"30s\")");
    const Unit* unit = nullptr;
    for (const auto& candidate : kUnits)
      if (candidate.name == unit_text) unit = &candidate;
    if (!unit)
      return bad(text,
                 "unknown unit \"" + std::string(unit_text) + "\" (use ns, us, ms, s, m or h)");
    s.remove_prefix(u);
    total += whole * unit->ns + frac * unit->ns / scale;
    if (total > kMax) return bad(text, "too large");
  }
  return Duration(static_cast<std::int64_t>(negative ? -total : total));
}

std::string format_duration(Duration d) {
  std::int64_t n = d.count();
  if (n == 0) return "0s";
  std::string out;
  // Negative values print with a sign; the magnitude is computed unsigned to allow INT64_MIN.
  std::uint64_t v = n < 0 ? std::uint64_t(0) - std::uint64_t(n) : std::uint64_t(n);
  if (n < 0) out += '-';
  if (v % 1000000000ULL != 0 && v < 1000000000ULL) {
    if (v % 1000000ULL == 0) return out + std::to_string(v / 1000000ULL) + "ms";
    if (v % 1000ULL == 0) return out + std::to_string(v / 1000ULL) + "us";
    return out + std::to_string(v) + "ns";
  }
  const std::uint64_t h = v / 3600000000000ULL;
  v %= 3600000000000ULL;
  const std::uint64_t m = v / 60000000000ULL;
  v %= 60000000000ULL;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (v) {
    std::string secs = std::to_string(v / 1000000000ULL);
    std::uint64_t frac = v % 1000000000ULL;
    if (frac) {
      std::string f = std::to_string(frac);
      f.insert(0, 9 - f.size(), '0');
      while (f.back() == '0') f.pop_back();
      secs += "." + f;
    }
    out += secs + "s";
  }
  return out;
}

}  // namespace drover::jobspec
