// Cron expressions in cronexpr's syntax and their next launch time (see cron.hpp).
#include "jobspec/cron.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "drover/common/split.hpp"

namespace drover::jobspec {

namespace {

struct FieldSpec {
  const char* name;
  int min, max;
  int max_digits;  // 2, or 4 for years
  const char* what;
  const std::map<std::string, int>* names;
};

const std::map<std::string, int>& month_names() {
  static const std::map<std::string, int> m = {
      {"jan", 1},       {"january", 1},   {"feb", 2},      {"february", 2}, {"mar", 3},
      {"march", 3},     {"apr", 4},       {"april", 4},    {"may", 5},      {"jun", 6},
      {"june", 6},      {"jul", 7},       {"july", 7},     {"aug", 8},      {"august", 8},
      {"sep", 9},       {"september", 9}, {"oct", 10},     {"october", 10}, {"nov", 11},
      {"november", 11}, {"dec", 12},      {"december", 12}};
  return m;
}

const std::map<std::string, int>& day_names() {
  static const std::map<std::string, int> m = {
      {"sun", 0},     {"sunday", 0}, {"mon", 1},       {"monday", 1},  {"tue", 2},
      {"tuesday", 2}, {"wed", 3},    {"wednesday", 3}, {"thu", 4},     {"thursday", 4},
      {"fri", 5},     {"friday", 5}, {"sat", 6},       {"saturday", 6}};
  return m;
}

const FieldSpec kSecond{"second", 0, 59, 2, "a second (0-59)", nullptr};
const FieldSpec kMinute{"minute", 0, 59, 2, "a minute (0-59)", nullptr};
const FieldSpec kHour{"hour", 0, 23, 2, "an hour (0-23)", nullptr};
const FieldSpec kDom{"day-of-month", 1, 31, 2, "a day of the month (1-31)", nullptr};
const FieldSpec kMonth{"month", 1, 12, 2, "a month (1-12 or JAN-DEC)", &month_names()};
// 7 is Sunday too, as in crontab(5).
const FieldSpec kDow{"day-of-week", 0, 7, 2, "a day (0-7 or SUN-SAT)", &day_names()};
const FieldSpec kYear{"year", CronExpr::kFirstYear, CronExpr::kLastYear,
                      4,      "a year (1970-2099)", nullptr};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A value of the field: digits within its range, or a name.
std::optional<int> value(const FieldSpec& f, std::string_view s) {
  if (f.names) {
    auto it = f.names->find(std::string(s));
    if (it != f.names->end()) return it->second;
  }
  if (!all_digits(s)) return std::nullopt;
  if (f.max_digits == 4 ? s.size() != 4 : s.size() > 2) return std::nullopt;
  int v = std::stoi(std::string(s));
  if (v < f.min || v > f.max) return std::nullopt;
  return v;
}

class FieldParser {
 public:
  FieldParser(const FieldSpec& f, std::string_view text) : f_(f), text_(text) {}

  Status error(std::string_view entry, const std::string& why) const {
    return make_error(std::string(f_.name) + " field: \"" + std::string(entry) + "\" " + why,
                      Errc::Invalid);
  }

  // Each entry of the list: calls `one(v)` for every value it names; `special(entry)` for what
  // is not a value, range or step (L, W, #), which says whether it understood it.
  template <typename One, typename Special>
  Status parse(bool& wildcard, One one, Special special) const {
    wildcard = false;
    for (auto raw : split(text_, ',')) {
      std::string entry = lower(raw);
      if (entry.empty()) return error(raw, "is empty (a list has an empty item)");
      if (entry == "*" || entry == "?") {
        wildcard = true;
        for (int v = f_.min; v <= f_.max; ++v) one(v);
        continue;
      }
      std::string_view e = entry;
      int step = 0;
      if (auto slash = e.find('/'); slash != std::string_view::npos) {
        auto s = e.substr(slash + 1);
        int limit = std::min(f_.max, 59);
        if (!all_digits(s) || s.size() > 2 || std::stoi(std::string(s)) < 1 ||
            std::stoi(std::string(s)) > limit)
          return error(raw, "has a bad step (1-" + std::to_string(limit) + ")");
        step = std::stoi(std::string(s));
        e = e.substr(0, slash);
      }
      int first = 0, last = 0;
      if (e == "*") {
        first = f_.min;
        last = f_.max == 7 ? 6 : f_.max;
      } else if (auto dash = e.find('-'); dash != std::string_view::npos) {
        auto a = value(f_, e.substr(0, dash));
        auto b = value(f_, e.substr(dash + 1));
        if (!a || !b) return error(raw, std::string("is not a range of ") + f_.what);
        first = *a;
        last = *b;
        if (first > last)
          return error(raw, "is an empty range (" + std::to_string(first) + " comes after " +
                                std::to_string(last) + ")");
      } else if (auto v = value(f_, e)) {
        first = *v;
        // `5/15`: from 5 to the end of the field, as cronexpr reads it.
        last = step ? (f_.max == 7 ? 6 : f_.max) : *v;
      } else if (!step && special(entry)) {
        continue;
      } else {
        return error(raw, std::string("is not ") + f_.what);
      }
      for (int v = first; v <= last; v += step ? step : 1) one(v);
    }
    return {};
  }

 private:
  const FieldSpec& f_;
  std::string_view text_;
};

template <std::size_t N>
Status simple_field(const FieldSpec& f, std::string_view text, std::bitset<N>& bits,
                    int offset = 0) {
  bool wildcard = false;
  return FieldParser(f, text).parse(
      wildcard, [&](int v) { bits.set(static_cast<std::size_t>(v - offset)); },
      [](const std::string&) { return false; });
}

std::string alias(std::string_view text) {
  static const std::map<std::string, std::string> aliases = {
      {"@yearly", "0 0 0 1 1 * *"}, {"@annually", "0 0 0 1 1 * *"}, {"@monthly", "0 0 0 1 * * *"},
      {"@weekly", "0 0 0 * * 0 *"}, {"@daily", "0 0 0 * * * *"},    {"@hourly", "0 0 * * * * *"}};
  auto it = aliases.find(lower(text));
  return it == aliases.end() ? std::string() : it->second;
}

}  // namespace

Result<CronExpr> CronExpr::parse(std::string_view text) {
  std::string expanded;
  auto trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())))
    trimmed.remove_prefix(1);
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.remove_suffix(1);
  if (!trimmed.empty() && trimmed.front() == '@') {
    expanded = alias(trimmed);
    if (expanded.empty())
      return make_error("\"" + std::string(trimmed) +
                            "\" is not a cron alias (@yearly, @annually, @monthly, @weekly, "
                            "@daily, @hourly; there is no @midnight or @reboot)",
                        Errc::Invalid);
    trimmed = expanded;
  }
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < trimmed.size()) {
    while (i < trimmed.size() && std::isspace(static_cast<unsigned char>(trimmed[i]))) ++i;
    std::size_t start = i;
    while (i < trimmed.size() && !std::isspace(static_cast<unsigned char>(trimmed[i]))) ++i;
    if (i > start) fields.push_back(trimmed.substr(start, i - start));
  }
  if (fields.size() < 5 || fields.size() > 7)
    return make_error("has " + std::to_string(fields.size()) +
                          " fields; a cron expression has 5 (minute hour day-of-month month "
                          "day-of-week), 6 (and year) or 7 (second first, year last)",
                      Errc::Invalid);
  CronExpr e;
  std::size_t f = 0;
  if (fields.size() == 7) {
    if (auto st = simple_field(kSecond, fields[f++], e.seconds_); !st) return st.error();
  } else {
    e.seconds_.set(0);
  }
  if (auto st = simple_field(kMinute, fields[f++], e.minutes_); !st) return st.error();
  if (auto st = simple_field(kHour, fields[f++], e.hours_); !st) return st.error();

  bool wildcard = false;
  auto dom =
      FieldParser(kDom, fields[f++])
          .parse(
              wildcard, [&](int v) { e.days_.set(static_cast<std::size_t>(v)); },
              [&](const std::string& entry) {
                if (entry == "l") return e.last_day_ = true;
                if (entry == "lw") return e.last_workday_ = true;
                if (entry.size() >= 2 && entry.back() == 'w') {
                  if (auto v = value(kDom, std::string_view(entry).substr(0, entry.size() - 1))) {
                    e.workdays_.set(static_cast<std::size_t>(*v));
                    return true;
                  }
                }
                return false;
              });
  if (!dom) return dom.error();
  e.dom_restricted_ = !wildcard;

  if (auto st = simple_field(kMonth, fields[f++], e.months_); !st) return st.error();

  auto dow = FieldParser(kDow, fields[f++])
                 .parse(
                     wildcard, [&](int v) { e.weekdays_.set(static_cast<std::size_t>(v % 7)); },
                     [&](const std::string& entry) {
                       std::string_view s = entry;
                       if (s.size() >= 2 && s.back() == 'l') {
                         if (auto v = value(kDow, s.substr(0, s.size() - 1))) {
                           e.last_weekdays_.set(static_cast<std::size_t>(*v % 7));
                           return true;
                         }
                       }
                       if (auto hash = s.find('#'); hash != std::string_view::npos) {
                         auto v = value(kDow, s.substr(0, hash));
                         auto n = s.substr(hash + 1);
                         if (v && n.size() == 1 && n[0] >= '1' && n[0] <= '5') {
                           e.nth_weekdays_.set(static_cast<std::size_t>((n[0] - '1') * 7 + *v % 7));
                           return true;
                         }
                       }
                       return false;
                     });
  if (!dow) return dow.error();
  e.dow_restricted_ = !wildcard;

  if (f < fields.size()) {
    if (auto st = simple_field(kYear, fields[f], e.years_, kFirstYear); !st) return st.error();
  } else {
    e.years_.set();
  }
  return e;
}

std::vector<unsigned> CronExpr::days_of(int64_t year, unsigned month) const {
  const unsigned last = days_in_month(year, month);
  std::bitset<32> hit;
  // As in crontab(5): with both day fields restricted, a day matching either one matches.
  if (!dom_restricted_ && !dow_restricted_) {
    for (unsigned d = 1; d <= last; ++d) hit.set(d);
  }
  const int64_t first_day = days_from_civil(year, month, 1);
  auto workday = [&](unsigned d) {
    int wd = weekday_from_days(first_day + d - 1);
    if (wd == 6) return d > 1 ? d - 1 : d + 2;     // Saturday: the Friday, not across the month
    if (wd == 0) return d < last ? d + 1 : d - 2;  // Sunday: the Monday
    return d;
  };
  if (dom_restricted_) {
    for (unsigned d = 1; d <= last; ++d)
      if (days_[d]) hit.set(d);
    if (last_day_) hit.set(last);
    if (last_workday_) hit.set(workday(last));
    for (unsigned d = 1; d <= last; ++d)
      if (workdays_[d]) hit.set(workday(d));
  }
  if (dow_restricted_) {
    const int wd1 = weekday_from_days(first_day);
    for (int w = 0; w < 7; ++w) {
      unsigned first = 1 + static_cast<unsigned>(((w - wd1) % 7 + 7) % 7);
      if (weekdays_[w])
        for (unsigned d = first; d <= last; d += 7) hit.set(d);
      for (int n = 0; n < 5; ++n)
        if (nth_weekdays_[n * 7 + w] && first + 7 * n <= last) hit.set(first + 7 * n);
      if (last_weekdays_[w]) {
        unsigned d = first;
        while (d + 7 <= last) d += 7;
        hit.set(d);
      }
    }
  }
  std::vector<unsigned> out;
  for (unsigned d = 1; d <= last; ++d)
    if (hit[d]) out.push_back(d);
  return out;
}

std::optional<int64_t> CronExpr::next_local(int64_t local) const {
  auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  auto at = [](int64_t year, unsigned month, unsigned day, int64_t seconds) {
    return days_from_civil(year, month, day) * 86400 + seconds;
  };
  // Each turn either returns or moves `local` forward to the start of the next candidate
  // year, month, day, hour, minute or second; at most a few thousand turns up to 2099.
  for (int turns = 0; turns < 1000000; ++turns) {
    int64_t days = floor_div(local, 86400);
    int64_t sod = local - days * 86400;
    CivilDate date = civil_from_days(days);
    int h = static_cast<int>(sod / 3600), m = static_cast<int>(sod % 3600 / 60),
        s = static_cast<int>(sod % 60);
    if (date.year > kLastYear) return std::nullopt;
    if (date.year < kFirstYear) {
      local = at(kFirstYear, 1, 1, 0);
      continue;
    }
    auto next_month = [&] {
      return date.month == 12 ? at(date.year + 1, 1, 1, 0) : at(date.year, date.month + 1, 1, 0);
    };
    if (!years_[static_cast<std::size_t>(date.year - kFirstYear)]) {
      local = at(date.year + 1, 1, 1, 0);
      continue;
    }
    if (!months_[date.month]) {
      local = next_month();
      continue;
    }
    auto days_hit = days_of(date.year, date.month);
    auto d = std::lower_bound(days_hit.begin(), days_hit.end(), date.day);
    if (d == days_hit.end()) {
      local = next_month();
      continue;
    }
    if (*d != date.day) {
      local = at(date.year, date.month, *d, 0);
      continue;
    }
    if (!hours_[h]) {
      int nh = h + 1;
      while (nh < 24 && !hours_[nh]) ++nh;
      local = days * 86400 + nh * 3600;  // hour 24 is the next day's midnight
      continue;
    }
    if (!minutes_[m]) {
      int nm = m + 1;
      while (nm < 60 && !minutes_[nm]) ++nm;
      local = days * 86400 + h * 3600 + nm * 60;
      continue;
    }
    if (!seconds_[s]) {
      int ns = s + 1;
      while (ns < 60 && !seconds_[ns]) ++ns;
      local = days * 86400 + h * 3600 + m * 60 + ns;
      continue;
    }
    return local;
  }
  return std::nullopt;
}

std::optional<int64_t> CronExpr::next(int64_t after, const TimeZone& zone) const {
  int64_t local = after + 1 + zone.offset_at(after + 1);
  for (int turns = 0; turns < 200000; ++turns) {
    auto match = next_local(local);
    if (!match) return std::nullopt;
    // A skipped wall clock time gives no instant; a repeated one two: the first after `after`.
    for (int64_t t : zone.from_local(*match))
      if (t > after) return t;
    local = *match + 1;
  }
  return std::nullopt;
}

}  // namespace drover::jobspec
