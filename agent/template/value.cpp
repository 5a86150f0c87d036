// Template values (value.hpp): truth, printing and comparison as Go's text/template does them.
#include "template/value.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace drover::tmpl {

using nlohmann::json;

bool truth(const json& v) {
  switch (v.type()) {
    case json::value_t::boolean:
      return v.get<bool>();
    case json::value_t::number_integer:
      return v.get<int64_t>() != 0;
    case json::value_t::number_unsigned:
      return v.get<uint64_t>() != 0;
    case json::value_t::number_float:
      return v.get<double>() != 0;
    case json::value_t::string:
      return !v.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object:
      return !v.empty();
    default:
      return false;
  }
}

std::string format_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  // Shortest round-trip digits in scientific form, then laid out as Go's %v does.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  bool neg = s[0] == '-';
  if (neg) s.erase(0, 1);
  auto e = s.find('e');
  int exp = std::stoi(s.substr(e + 1));
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits += c;
  std::string out;
  if (exp < -4 || exp >= 6) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
  } else if (exp < 0) {
    out = "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
  } else if (static_cast<std::size_t>(exp) + 1 >= digits.size()) {
    out = digits + std::string(static_cast<std::size_t>(exp) + 1 - digits.size(), '0');
  } else {
    out = digits.substr(0, static_cast<std::size_t>(exp) + 1) + "." +
          digits.substr(static_cast<std::size_t>(exp) + 1);
  }
  return neg ? "-" + out : out;
}

std::string format_value(const json& v) {
  switch (v.type()) {
    case json::value_t::discarded:
      return "<no value>";
    case json::value_t::null:
      return "<nil>";
    case json::value_t::string:
      return v.get<std::string>();
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case json::value_t::number_float:
      return format_float(v.get<double>());
    case json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ' ';
        first = false;
        out += format_value(e);
      }
      return out + "]";
    }
    case json::value_t::object: {
      // nlohmann's object keeps its keys sorted, as Go's fmt prints a map.
      std::string out = "map[";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ' ';
        first = false;
        out += it.key() + ":" + format_value(it.value());
      }
      return out + "]";
    }
    default:
      return "<binary>";
  }
}

std::string go_type(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::number_integer:
      return "int";
    case json::value_t::number_unsigned:
      return "uint64";
    case json::value_t::number_float:
      return "float64";
    case json::value_t::array:
      return "[]interface {}";
    case json::value_t::object:
      return "map[string]interface {}";
    default:
      return "<nil>";
  }
}

bool to_int(const json& v, int64_t& out) {
  if (v.is_number_integer()) {
    out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::trunc(d) != d) return false;
    out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

bool to_double(const json& v, double& out) {
  if (!v.is_number()) return false;
  out = v.get<double>();
  return true;
}

namespace {
enum class Basic { Bool, Number, String, Nil, Other };
Basic basic(const json& v) {
  if (v.is_boolean()) return Basic::Bool;
  if (v.is_number()) return Basic::Number;
  if (v.is_string()) return Basic::String;
  if (v.is_null() || v.is_discarded()) return Basic::Nil;
  return Basic::Other;
}
int compare_numbers(const json& a, const json& b) {
  if (a.is_number_float() || b.is_number_float()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_number_unsigned() || b.is_number_unsigned()) {
    // One may be negative: compare signs first.
    if (a.is_number_integer() && a.get<int64_t>() < 0) return -1;
    if (b.is_number_integer() && b.get<int64_t>() < 0) return 1;
    auto x = a.get<uint64_t>(), y = b.get<uint64_t>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  auto x = a.get<int64_t>(), y = b.get<int64_t>();
  return x < y ? -1 : x > y ? 1 : 0;
}
}  // namespace

Result<bool> values_equal(const json& a, const json& b) {
  Basic ka = basic(a), kb = basic(b);
  if (ka == Basic::Other || kb == Basic::Other) {
    if (ka == Basic::Nil || kb == Basic::Nil) return false;
    return make_error("non-comparable type " + go_type(ka == Basic::Other ? a : b) + ": " +
                          format_value(ka == Basic::Other ? a : b),
                      Errc::Invalid);
  }
  if (ka == Basic::Nil || kb == Basic::Nil) return ka == kb;
  if (ka != kb) return make_error("incompatible types for comparison", Errc::Invalid);
  if (ka == Basic::Number) return compare_numbers(a, b) == 0;
  return a == b;
}

Result<bool> values_less(const json& a, const json& b) {
  Basic ka = basic(a), kb = basic(b);
  if (ka == Basic::Bool || ka == Basic::Nil || ka == Basic::Other || kb == Basic::Bool ||
      kb == Basic::Nil || kb == Basic::Other)
    return make_error("invalid type for comparison", Errc::Invalid);
  if (ka != kb) return make_error("incompatible types for comparison", Errc::Invalid);
  if (ka == Basic::Number) return compare_numbers(a, b) < 0;
  return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
}

}  // namespace drover::tmpl
