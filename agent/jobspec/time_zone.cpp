// IANA time zones from the system's TZif files (see time_zone.hpp).
#include "jobspec/time_zone.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace drover::jobspec {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

int weekday_from_days(int64_t days) {
  // 1970-01-01 was a Thursday.
  return static_cast<int>(((days % 7) + 7 + 4) % 7);
}

unsigned days_in_month(int64_t year, unsigned month) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

namespace {

constexpr std::size_t kMaxTzifBytes = 1 << 20;

bool plain_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.back() == '/') return false;
  for (unsigned char c : name)
    if (!(std::isalnum(c) || c == '/' || c == '_' || c == '-' || c == '+')) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    auto slash = name.find('/', start);
    auto part = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool has(std::size_t n) const { return pos_ + n <= data_.size(); }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(data_[pos_++]);
    return v;
  }
  int64_t i64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(data_[pos_++]);
    return static_cast<int64_t>(v);
  }
  uint8_t u8() { return static_cast<unsigned char>(data_[pos_++]); }
  void skip(std::size_t n) { pos_ += n; }
  std::size_t pos() const { return pos_; }
  std::string_view rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

// POSIX TZ string pieces.
class RuleParser {
 public:
  explicit RuleParser(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  bool name() {
    if (eat('<')) {
      auto close = s_.find('>', i_);
      if (close == std::string_view::npos) return false;
      i_ = close + 1;
      return true;
    }
    std::size_t start = i_;
    while (!done() && std::isalpha(static_cast<unsigned char>(peek()))) ++i_;
    return i_ - start >= 3;
  }
  bool number(int& out, int max_digits) {
    std::size_t start = i_;
    out = 0;
    while (!done() && std::isdigit(static_cast<unsigned char>(peek())) &&
           i_ - start < static_cast<std::size_t>(max_digits))
      out = out * 10 + (s_[i_++] - '0');
    return i_ > start;
  }
  // [+-]hh[:mm[:ss]] in seconds, with its sign.
  bool time(int& out) {
    int sign = 1;
    if (eat('-'))
      sign = -1;
    else
      eat('+');
    int h = 0, m = 0, sec = 0;
    if (!number(h, 3)) return false;
    if (eat(':')) {
      if (!number(m, 2)) return false;
      if (eat(':') && !number(sec, 2)) return false;
    }
    out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
  bool change(TimeZone::Rule::Change& c) {
    if (eat('M')) {
      c.kind = 'M';
      if (!number(c.month, 2) || !eat('.') || !number(c.week, 1) || !eat('.') || !number(c.day, 1))
        return false;
      if (c.month < 1 || c.month > 12 || c.week < 1 || c.week > 5 || c.day > 6) return false;
    } else if (eat('J')) {
      c.kind = 'J';
      if (!number(c.day, 3) || c.day < 1 || c.day > 365) return false;
    } else {
      c.kind = 'D';
      if (!number(c.day, 3) || c.day > 365) return false;
    }
    c.time = 7200;
    if (eat('/') && !time(c.time)) return false;
    return true;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

// The local (wall clock, standard-time-based) second a rule's change happens in `year`.
int64_t change_local(const TimeZone::Rule::Change& c, int64_t year) {
  int64_t day = 0;
  if (c.kind == 'J') {
    // 1..365, February 29 is never counted.
    int n = c.day;
    bool leap = days_in_month(year, 2) == 29;
    day = days_from_civil(year, 1, 1) + n - 1 + (leap && n >= 60 ? 1 : 0);
  } else if (c.kind == 'D') {
    day = days_from_civil(year, 1, 1) + c.day;
  } else {
    int64_t first = days_from_civil(year, c.month, 1);
    int wd = weekday_from_days(first);
    int64_t d = first + ((c.day - wd) % 7 + 7) % 7 + 7 * (c.week - 1);
    int64_t last = first + days_in_month(year, c.month) - 1;
    while (d > last) d -= 7;  // week 5: the last such weekday
    day = d;
  }
  return day * 86400 + c.time;
}

}  // namespace

Result<TimeZone::Rule> TimeZone::parse_rule(std::string_view text) {
  Rule r;
  RuleParser p(text);
  auto bad = [&] {
    return make_error("time zone rule \"" + std::string(text) + "\" is not a POSIX TZ string",
                      Errc::Invalid);
  };
  int off = 0;
  if (!p.name() || !p.time(off)) return bad();
  r.std_offset = -off;  // POSIX counts west of UTC as positive
  if (p.done()) return r;
  if (!p.name()) return bad();
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (p.peek() != ',' && !p.done()) {
    if (!p.time(off)) return bad();
    r.dst_offset = -off;
  }
  if (p.done()) {
    // No rule: POSIX leaves it to the implementation; glibc and Go use the US rules.
    r.start = {'M', 3, 2, 0, 7200};
    r.end = {'M', 11, 1, 0, 7200};
    return r;
  }
  if (!p.eat(',') || !p.change(r.start) || !p.eat(',') || !p.change(r.end) || !p.done())
    return bad();
  return r;
}

int TimeZone::rule_offset(int64_t unix) const {
  if (!rule_.has_dst) return rule_.std_offset;
  int64_t local_std = unix + rule_.std_offset;
  int64_t year = civil_from_days((local_std >= 0 ? local_std : local_std - 86399) / 86400).year;
  // The start is told in standard time, the end in daylight time.
  int64_t start = change_local(rule_.start, year) - rule_.std_offset;
  int64_t end = change_local(rule_.end, year) - rule_.dst_offset;
  bool dst = start < end ? (unix >= start && unix < end) : !(unix >= end && unix < start);
  return dst ? rule_.dst_offset : rule_.std_offset;
}

TimeZone TimeZone::utc() {
  TimeZone z;
  z.name_ = "UTC";
  z.types_.push_back({0});
  return z;
}

Result<TimeZone> TimeZone::load(std::string_view name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC") {
    TimeZone z = utc();
    if (!name.empty()) z.name_ = std::string(name);
    return z;
  }
  std::string path;
  if (name == "Local") {
    path = "/etc/localtime";
  } else {
    if (!plain_zone_name(name))
      return make_error("\"" + std::string(name) +
                            "\" is not a time zone name (IANA names look like \"Europe/Berlin\")",
                        Errc::Invalid);
    const char* dir = std::getenv("TZDIR");
    path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error("unknown time zone \"" + std::string(name) + "\" (no " + path + ")",
                      Errc::Invalid);
  std::string data;
  data.resize(kMaxTzifBytes + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  auto bad = [&](const std::string& why) {
    return make_error("time zone \"" + std::string(name) + "\": " + path + " " + why,
                      Errc::Invalid);
  };
  if (data.size() > kMaxTzifBytes) return bad("is too large for a TZif file");
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0) return bad("is not a TZif file");

  Reader r(data);
  auto header = [&](uint32_t counts[6]) {
    r.skip(20);
    for (int i = 0; i < 6; ++i) counts[i] = r.u32();
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  const char version = data[4];
  header(c);
  auto v1_size = [&](int time_bytes) {
    return static_cast<std::size_t>(c[3]) * time_bytes + c[3] + c[4] * 6ull + c[5] +
           c[2] * (time_bytes + 4ull) + c[1] + c[0];
  };
  int time_bytes = 4;
  if (version >= '2') {
    if (!r.has(v1_size(4) + 44)) return bad("is cut short");
    r.skip(v1_size(4));
    if (r.rest().substr(0, 4) != "TZif") return bad("has no second header");
    header(c);
    time_bytes = 8;
  }
  if (c[4] == 0 || c[4] > 256 || c[3] > 100000) return bad("has impossible counts");
  if (!r.has(v1_size(time_bytes))) return bad("is cut short");
  TimeZone z;
  z.name_ = std::string(name);
  for (uint32_t i = 0; i < c[3]; ++i)
    z.transitions_.push_back(time_bytes == 8 ? r.i64() : static_cast<int32_t>(r.u32()));
  for (uint32_t i = 0; i < c[3]; ++i) {
    uint8_t t = r.u8();
    if (t >= c[4]) return bad("names a time type that does not exist");
    z.transition_types_.push_back(t);
  }
  for (uint32_t i = 0; i < c[4]; ++i) {
    int32_t off = static_cast<int32_t>(r.u32());
    r.skip(2);  // isdst, abbreviation index
    if (off < -25 * 3600 || off > 26 * 3600) return bad("has an impossible UTC offset");
    z.types_.push_back({off});
  }
  if (!std::is_sorted(z.transitions_.begin(), z.transitions_.end()))
    return bad("has transitions out of order");
  r.skip(v1_size(time_bytes) - c[3] * (time_bytes + 1ull) - c[4] * 6ull);
  if (time_bytes == 8) {
    auto footer = r.rest();
    if (footer.size() >= 2 && footer[0] == '\n') {
      auto end = footer.find('\n', 1);
      auto text = footer.substr(1, end == std::string_view::npos ? 0 : end - 1);
      if (!text.empty()) {
        auto rule = parse_rule(text);
        if (!rule) return bad(rule.message());
        z.rule_ = *rule;
        z.has_rule_ = true;
      }
    }
  }
  return z;
}

int TimeZone::offset_at(int64_t unix) const {
  if (transitions_.empty()) return has_rule_ ? rule_offset(unix) : types_.front().offset;
  if (unix < transitions_.front()) return types_.front().offset;
  if (unix >= transitions_.back() && has_rule_) return rule_offset(unix);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix);
  return types_[transition_types_[static_cast<std::size_t>(it - transitions_.begin()) - 1]].offset;
}

std::vector<int64_t> TimeZone::from_local(int64_t local) const {
  // Offsets stay within about a day of UTC and change at most once in any such window, so
  // the offsets in force a day either side are the only candidates.
  std::vector<int> offsets = {offset_at(local - 93600), offset_at(local + 93600)};
  std::vector<int64_t> out;
  for (int o : offsets) {
    int64_t t = local - o;
    if (offset_at(t) == o && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace drover::jobspec
