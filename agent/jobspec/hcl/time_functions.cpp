// HCL's time functions in Nomad's jobspec2 set: formatdate (Terraform's format spec) and
// timeadd (a Go duration added to an RFC 3339 timestamp). Both keep the timestamp's own UTC
// offset. No timestamp(): a job file evaluates to the same job every time.
#include <chrono>
#include <cmath>

#include "jobspec/hcl/function_call.hpp"

namespace drover::jobspec::hcl {

namespace {

struct Stamp {
  std::int64_t seconds = 0;  // since the epoch, UTC
  std::int64_t nanos = 0;
  int offset_minutes = 0;    // the timestamp's UTC offset
  bool zulu = true;
};

constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};
constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                 "Thursday", "Friday", "Saturday"};

// Howard Hinnant's civil-date algorithms.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp + (mp < 10 ? 3 : -9);
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

Stamp parse_rfc3339(const Call& c, std::size_t i) {
  const std::string s = c.str(i);
  auto bad = [&]() { c.fail("\"" + s + "\" is not an RFC 3339 timestamp such as 2024-05-01T12:00:00Z"); };
  auto num = [&](std::size_t at, std::size_t n) {
    if (at + n > s.size()) bad();
    int v = 0;
    for (std::size_t k = at; k < at + n; ++k) {
      if (!std::isdigit(static_cast<unsigned char>(s[k]))) bad();
      v = v * 10 + (s[k] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':')
    bad();
  int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) bad();
  Stamp st;
  std::size_t p = 19;
  if (p < s.size() && s[p] == '.') {
    std::size_t digits = 0;
    for (++p; p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])); ++p, ++digits)
      if (digits < 9) st.nanos = st.nanos * 10 + (s[p] - '0');
    if (digits == 0) bad();
    for (; digits < 9; ++digits) st.nanos *= 10;
  }
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z') && p + 1 == s.size()) {
    st.zulu = true;
  } else if (p + 6 == s.size() && (s[p] == '+' || s[p] == '-') && s[p + 3] == ':') {
    st.zulu = false;
    st.offset_minutes = (num(p + 1, 2) * 60 + num(p + 4, 2)) * (s[p] == '-' ? -1 : 1);
  } else {
    bad();
  }
  st.seconds = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
               h * 3600 + mi * 60 + se - st.offset_minutes * 60;
  return st;
}

struct Local {
  std::int64_t year;
  unsigned month, day, hour, minute, second, weekday;
};

Local local_time(const Stamp& st) {
  std::int64_t t = st.seconds + st.offset_minutes * 60;
  std::int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  std::int64_t rem = t - days * 86400;
  Local l{};
  civil_from_days(days, l.year, l.month, l.day);
  l.hour = static_cast<unsigned>(rem / 3600);
  l.minute = static_cast<unsigned>(rem % 3600 / 60);
  l.second = static_cast<unsigned>(rem % 60);
  l.weekday = static_cast<unsigned>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  return l;
}

std::string two(unsigned v) { return (v < 10 ? "0" : "") + std::to_string(v); }

std::string offset_text(const Stamp& st, bool colon, bool z_for_utc) {
  if (z_for_utc && st.offset_minutes == 0) return "Z";
  int m = st.offset_minutes;
  std::string sign = m < 0 ? "-" : "+";
  m = std::abs(m);
  return sign + two(static_cast<unsigned>(m / 60)) + (colon ? ":" : "") + two(static_cast<unsigned>(m % 60));
}

std::string rfc3339(const Stamp& st) {
  Local l = local_time(st);
  std::string out = std::to_string(l.year) + "-" + two(l.month) + "-" + two(l.day) + "T" +
                    two(l.hour) + ":" + two(l.minute) + ":" + two(l.second);
  if (st.nanos) {
    std::string frac = std::to_string(st.nanos);
    frac.insert(0, 9 - frac.size(), '0');
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + (st.zulu && st.offset_minutes == 0 ? "Z" : offset_text(st, true, false));
}

// Go's time.ParseDuration: "1h30m", "-15s", "2.5h", "300ms", "1us".
std::int64_t go_duration_ns(const Call& c, const std::string& s) {
  auto bad = [&]() { c.fail("\"" + s + "\" is not a duration such as \"1h30m\""); };
  std::size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (i == s.size()) bad();
  if (s.substr(i) == "0") return 0;
  double total = 0;
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) bad();
    double v = std::stod(s.substr(start, i - start));
    std::size_t u = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
    const std::string unit = s.substr(u, i - u);
    double scale = unit == "ns" ? 1 : unit == "us" || unit == "\u00b5s" ? 1e3 : unit == "ms" ? 1e6
                 : unit == "s" ? 1e9 : unit == "m" ? 60e9 : unit == "h" ? 3600e9 : -1;
    if (scale < 0) bad();
    total += v * scale;
  }
  if (total > 9.2e18) bad();
  return static_cast<std::int64_t>(neg ? -total : total);
}

}  // namespace

void add_time_functions(FunctionTable& t) {
  t["timeadd"] = {2, 2, [](const Call& c) -> json {
    Stamp st = parse_rfc3339(c, 0);
    std::int64_t ns = go_duration_ns(c, c.str(1)) + st.nanos;
    std::int64_t carry = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
    st.seconds += carry;
    st.nanos = ns - carry * 1000000000;
    return rfc3339(st);
  }};
  t["formatdate"] = {2, 2, [](const Call& c) -> json {
    const std::string spec = c.str(0);
    const Stamp st = parse_rfc3339(c, 1);
    const Local l = local_time(st);
    std::string out;
    for (std::size_t i = 0; i < spec.size();) {
      char ch = spec[i];
      if (ch == '\'') {  // a quoted literal; '' is one quote
        std::size_t j = i + 1;
        std::string lit;
        for (;; ++j) {
          if (j >= spec.size()) c.fail("the format has an unclosed quote");
          if (spec[j] == '\'') {
            if (j + 1 < spec.size() && spec[j + 1] == '\'') { lit += '\''; ++j; continue; }
            break;
          }
          lit += spec[j];
        }
        out += (j == i + 1) ? "'" : lit;
        i = j + 1;
        continue;
      }
      if (!std::isalpha(static_cast<unsigned char>(ch))) {
        out += ch;
        ++i;
        continue;
      }
      std::size_t n = 1;
      while (i + n < spec.size() && spec[i + n] == ch) ++n;
      const std::string tok = spec.substr(i, n);
      if (tok == "YYYY") out += std::to_string(l.year);
      else if (tok == "YY") out += two(static_cast<unsigned>(l.year % 100));
      else if (tok == "MMMM") out += kMonths[l.month - 1];
      else if (tok == "MMM") out += std::string(kMonths[l.month - 1]).substr(0, 3);
      else if (tok == "MM") out += two(l.month);
      else if (tok == "M") out += std::to_string(l.month);
      else if (tok == "DD") out += two(l.day);
      else if (tok == "D") out += std::to_string(l.day);
      else if (tok == "EEEE") out += kDays[l.weekday];
      else if (tok == "EEE") out += std::string(kDays[l.weekday]).substr(0, 3);
      else if (tok == "hh") out += two(l.hour);
      else if (tok == "h") out += std::to_string(l.hour);
      else if (tok == "HH") out += two(l.hour % 12 == 0 ? 12 : l.hour % 12);
      else if (tok == "H") out += std::to_string(l.hour % 12 == 0 ? 12 : l.hour % 12);
      else if (tok == "AA") out += l.hour < 12 ? "AM" : "PM";
      else if (tok == "aa") out += l.hour < 12 ? "am" : "pm";
      else if (tok == "mm") out += two(l.minute);
      else if (tok == "m") out += std::to_string(l.minute);
      else if (tok == "ss") out += two(l.second);
      else if (tok == "s") out += std::to_string(l.second);
      else if (tok == "ZZZZZ") out += offset_text(st, true, false);
      else if (tok == "ZZZZ") out += offset_text(st, false, false);
      else if (tok == "ZZZ") out += st.offset_minutes == 0 ? "UTC" : offset_text(st, false, false);
      else if (tok == "Z") out += offset_text(st, true, true);
      else c.fail("\"" + tok + "\" is not a date or time token (quote literal letters: 'T')");
      i += n;
    }
    return out;
  }};
}

}  // namespace drover::jobspec::hcl
