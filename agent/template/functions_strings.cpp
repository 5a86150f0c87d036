// consul-template's string helpers, with its argument order (the string last, so that it reads
// in a pipeline: `{{ .x | trimPrefix "v" }}`): toUpper, toLower, toTitle, trimSpace, trim,
// trimPrefix, trimSuffix, hasPrefix, hasSuffix, split, join, replaceAll, indent, contains,
// containsAll, containsAny, containsNone, containsNotAll, in, regexMatch, regexReplaceAll, env,
// mustEnv, envOrDefault, timestamp.
#include <chrono>
#include <ctime>
#include <regex>

#include "template/functions.hpp"
#include "template/value.hpp"

namespace drover::tmpl {

using nlohmann::json;

namespace {

using Table = std::map<std::string, Function, std::less<>>;

// Runs `f` over string arguments after checking their count.
template <std::size_t N, typename F>
Result<json> strings(std::vector<json>& a, F f) {
  if (auto st = want_args(a, N, N); !st) return st.error();
  std::array<std::string, N> s;
  for (std::size_t i = 0; i < N; ++i) {
    auto v = string_arg(a[i]);
    if (!v) return v.error();
    s[i] = std::move(*v);
  }
  return json(f(s));
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string trim_space(std::string s) {
  std::size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

Result<json> to_upper(CallContext&, std::vector<json>& a) {
  return strings<1>(a, [](auto& s) {
    for (auto& c : s[0]) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s[0];
  });
}
Result<json> to_lower(CallContext&, std::vector<json>& a) {
  return strings<1>(a, [](auto& s) {
    for (auto& c : s[0]) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s[0];
  });
}
// The first letter of each word upper-cased, the rest left as they are.
Result<json> to_title(CallContext&, std::vector<json>& a) {
  return strings<1>(a, [](auto& s) {
    bool start = true;
    for (auto& c : s[0]) {
      unsigned char u = static_cast<unsigned char>(c);
      if (start && std::isalpha(u)) c = static_cast<char>(std::toupper(u));
      start = !(std::isalnum(u) || u == '\'' || u >= 0x80 || u == '_');
    }
    return s[0];
  });
}
Result<json> trim_space_fn(CallContext&, std::vector<json>& a) {
  return strings<1>(a, [](auto& s) { return trim_space(s[0]); });
}
Result<json> trim(CallContext&, std::vector<json>& a) {
  return strings<2>(a, [](auto& s) {
    const std::string& cut = s[0];
    std::string& v = s[1];
    std::size_t b = 0, e = v.size();
    while (b < e && cut.find(v[b]) != std::string::npos) ++b;
    while (e > b && cut.find(v[e - 1]) != std::string::npos) --e;
    return v.substr(b, e - b);
  });
}
Result<json> trim_prefix(CallContext&, std::vector<json>& a) {
  return strings<2>(
      a, [](auto& s) { return s[1].starts_with(s[0]) ? s[1].substr(s[0].size()) : s[1]; });
}
Result<json> trim_suffix(CallContext&, std::vector<json>& a) {
  return strings<2>(a, [](auto& s) {
    return s[1].ends_with(s[0]) ? s[1].substr(0, s[1].size() - s[0].size()) : s[1];
  });
}
Result<json> has_prefix(CallContext&, std::vector<json>& a) {
  return strings<2>(a, [](auto& s) { return s[1].starts_with(s[0]); });
}
Result<json> has_suffix(CallContext&, std::vector<json>& a) {
  return strings<2>(a, [](auto& s) { return s[1].ends_with(s[0]); });
}
// split SEP S: the string trimmed first, and "" gives an empty list (consul-template).
Result<json> split(CallContext&, std::vector<json>& a) {
  return strings<2>(a, [](auto& s) {
    json out = json::array();
    std::string v = trim_space(s[1]);
    if (v.empty()) return out;
    if (s[0].empty()) {
      for (char c : v) out.push_back(std::string(1, c));
      return out;
    }
    std::size_t from = 0;
    for (;;) {
      auto at = v.find(s[0], from);
      out.push_back(v.substr(from, at == std::string::npos ? std::string::npos : at - from));
      if (at == std::string::npos) break;
      from = at + s[0].size();
    }
    return out;
  });
}
Result<json> join(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 2, 2); !st) return st.error();
  auto sep = string_arg(a[0]);
  if (!sep) return sep.error();
  if (!a[1].is_array())
    return make_error("wrong type for value; expected []string; got " + go_type(a[1]),
                      Errc::Invalid);
  std::string out;
  bool first = true;
  for (const auto& e : a[1]) {
    if (!first) out += *sep;
    first = false;
    out += format_value(e);
  }
  return json(out);
}
Result<json> replace_all(CallContext&, std::vector<json>& a) {
  return strings<3>(a, [](auto& s) {
    const std::string &from = s[0], &to = s[1];
    std::string v = s[2], out;
    if (from.empty()) {
      // Go: an empty old string matches before each character and at the end.
      for (char c : v) out += to + c;
      return out + to;
    }
    std::size_t pos = 0;
    for (;;) {
      auto at = v.find(from, pos);
      if (at == std::string::npos) break;
      out += v.substr(pos, at - pos) + to;
      pos = at + from.size();
    }
    return out + v.substr(pos);
  });
}
Result<json> indent(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 2, 2); !st) return st.error();
  auto n = int_arg(a[0]);
  if (!n) return n.error();
  if (*n < 0) return make_error("indent value must be a positive integer", Errc::Invalid);
  auto s = string_arg(a[1]);
  if (!s) return s.error();
  std::string pad(static_cast<std::size_t>(std::min<int64_t>(*n, 1024)), ' '), out;
  bool line_start = true;
  for (char c : *s) {
    if (line_start) out += pad;
    out += c;
    line_start = c == '\n';
  }
  return json(out);
}

// consul-template's `in`: an element of a list (same type and value), or a substring.
bool in(const json& l, const json& v) {
  if (l.is_array()) {
    for (const auto& e : l) {
      if (e.is_string() && v.is_string() && e == v) return true;
      if (e.is_number() && v.is_number() && e.is_number_float() == v.is_number_float()) {
        auto eq = values_equal(e, v);
        if (eq && *eq) return true;
      }
    }
    return false;
  }
  if (l.is_string() && v.is_string())
    return l.get_ref<const std::string&>().find(v.get_ref<const std::string&>()) !=
           std::string::npos;
  return false;
}
Result<json> in_fn(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 2, 2); !st) return st.error();
  return json(in(a[0], a[1]));
}
Result<json> contains(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 2, 2); !st) return st.error();
  return json(in(a[1], a[0]));
}
template <bool RetTrue, bool Invert>
Result<json> contains_some(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 2, 2); !st) return st.error();
  if (!a[0].is_array())
    return make_error("wrong type for value; expected []interface {}; got " + go_type(a[0]),
                      Errc::Invalid);
  for (const auto& v : a[0])
    if (in(a[1], v) != Invert) return json(!RetTrue);
  return json(RetTrue);
}

Result<json> regex_match(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 2, 2); !st) return st.error();
  auto re = string_arg(a[0]);
  auto s = string_arg(a[1]);
  if (!re) return re.error();
  if (!s) return s.error();
  try {
    return json(std::regex_search(*s, std::regex(*re, std::regex::ECMAScript)));
  } catch (const std::regex_error& e) {
    return make_error("bad regular expression \"" + *re + "\": " + e.what(), Errc::Invalid);
  }
}
Result<json> regex_replace_all(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 3, 3); !st) return st.error();
  auto re = string_arg(a[0]);
  auto repl = string_arg(a[1]);
  auto s = string_arg(a[2]);
  if (!re) return re.error();
  if (!repl) return repl.error();
  if (!s) return s.error();
  try {
    return json(std::regex_replace(*s, std::regex(*re, std::regex::ECMAScript), *repl));
  } catch (const std::regex_error& e) {
    return make_error("bad regular expression \"" + *re + "\": " + e.what(), Errc::Invalid);
  }
}

// env reads the task's environment (RenderInput::env), never the agent's own.
Result<json> env(CallContext& c, std::vector<json>& a) {
  if (auto st = want_args(a, 1, 1); !st) return st.error();
  auto k = string_arg(a[0]);
  if (!k) return k.error();
  auto it = c.in.env.find(*k);
  return json(it == c.in.env.end() ? std::string() : it->second);
}
Result<json> must_env(CallContext& c, std::vector<json>& a) {
  if (auto st = want_args(a, 1, 1); !st) return st.error();
  auto k = string_arg(a[0]);
  if (!k) return k.error();
  auto it = c.in.env.find(*k);
  if (it == c.in.env.end())
    return make_error("environment variable \"" + *k + "\" is not set", Errc::Invalid);
  return json(it->second);
}
Result<json> env_or_default(CallContext& c, std::vector<json>& a) {
  if (auto st = want_args(a, 2, 2); !st) return st.error();
  auto k = string_arg(a[0]);
  auto d = string_arg(a[1]);
  if (!k) return k.error();
  if (!d) return d.error();
  auto it = c.in.env.find(*k);
  return json(it == c.in.env.end() ? *d : it->second);
}

// A Go time layout ("2006-01-02T15:04:05Z07:00") applied to a UTC time.
std::string go_time_format(const std::string& layout, std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  const std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  static const char* kMonths[] = {"January",   "February", "March",    "April",
                                  "May",       "June",     "July",     "August",
                                  "September", "October",  "November", "December"};
  static const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                "Thursday", "Friday", "Saturday"};
  auto two = [](int v) {
    char b[12];  // room for any int, though v is a clock field (0..60)
    std::snprintf(b, sizeof b, "%02d", v);
    return std::string(b);
  };
  // Longest tokens first, as Go's layout parser matches them.
  const std::vector<std::pair<std::string, std::string>> tokens = {
      {"January", kMonths[tm.tm_mon]},
      {"Monday", kDays[tm.tm_wday]},
      {"Z07:00", "Z"},
      {"-07:00", "+00:00"},
      {"-0700", "+0000"},
      {"Z0700", "Z"},
      {"2006", std::to_string(tm.tm_year + 1900)},
      {".000", "." + std::string(ms < 100 ? (ms < 10 ? "00" : "0") : "") + std::to_string(ms)},
      {"Jan", std::string(kMonths[tm.tm_mon]).substr(0, 3)},
      {"Mon", std::string(kDays[tm.tm_wday]).substr(0, 3)},
      {"MST", "UTC"},
      {"01", two(tm.tm_mon + 1)},
      {"02", two(tm.tm_mday)},
      {"_2", (tm.tm_mday < 10 ? " " : "") + std::to_string(tm.tm_mday)},
      {"15", two(tm.tm_hour)},
      {"03", two(tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12)},
      {"04", two(tm.tm_min)},
      {"05", two(tm.tm_sec)},
      {"06", two(tm.tm_year % 100)},
      {"PM", tm.tm_hour >= 12 ? "PM" : "AM"},
      {"pm", tm.tm_hour >= 12 ? "pm" : "am"},
      {"1", std::to_string(tm.tm_mon + 1)},
      {"2", std::to_string(tm.tm_mday)},
      {"3", std::to_string(tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12)},
      {"4", std::to_string(tm.tm_min)},
      {"5", std::to_string(tm.tm_sec)},
  };
  std::string out;
  for (std::size_t i = 0; i < layout.size();) {
    bool matched = false;
    for (const auto& [tok, val] : tokens) {
      if (layout.compare(i, tok.size(), tok) == 0) {
        out += val;
        i += tok.size();
        matched = true;
        break;
      }
    }
    if (!matched) out += layout[i++];
  }
  return out;
}

// timestamp: now in RFC 3339 (UTC); `timestamp "unix"`; `timestamp LAYOUT` (a Go layout).
Result<json> timestamp(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 0, 1); !st) return st.error();
  auto now = std::chrono::system_clock::now();
  if (a.empty()) return json(go_time_format("2006-01-02T15:04:05Z07:00", now));
  auto f = string_arg(a[0]);
  if (!f) return f.error();
  if (*f == "unix")
    return json(std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()));
  return json(go_time_format(*f, now));
}

}  // namespace

void add_string_functions(Table& t) {
  t["toUpper"] = to_upper;
  t["toLower"] = to_lower;
  t["toTitle"] = to_title;
  t["trimSpace"] = trim_space_fn;
  t["trim"] = trim;
  t["trimPrefix"] = trim_prefix;
  t["trimSuffix"] = trim_suffix;
  t["hasPrefix"] = has_prefix;
  t["hasSuffix"] = has_suffix;
  t["split"] = split;
  t["join"] = join;
  t["replaceAll"] = replace_all;
  t["indent"] = indent;
  t["in"] = in_fn;
  t["contains"] = contains;
  t["containsAll"] = contains_some<true, true>;
  t["containsAny"] = contains_some<false, false>;
  t["containsNone"] = contains_some<true, false>;
  t["containsNotAll"] = contains_some<false, true>;
  t["regexMatch"] = regex_match;
  t["regexReplaceAll"] = regex_replace_all;
  t["env"] = env;
  t["mustEnv"] = must_env;
  t["envOrDefault"] = env_or_default;
  t["timestamp"] = timestamp;
}

}  // namespace drover::tmpl
