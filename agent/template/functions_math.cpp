// consul-template's math and parsing helpers: add, subtract, multiply, divide, modulo, minimum,
// maximum (the pipeline's value is the left operand: `{{ 10 | subtract 3 }}` is 7), loop,
// parseInt, parseUint, parseFloat, parseBool.
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "template/functions.hpp"
#include "template/value.hpp"

namespace drover::tmpl {

using nlohmann::json;

namespace {

using Table = std::map<std::string, Function, std::less<>>;

// loop makes a list; a bound keeps `loop 1000000000` from eating the agent's memory.
constexpr int64_t kMaxLoop = 1'000'000;

enum class Op { Add, Sub, Mul, Div, Mod, Min, Max };

template <Op O>
Result<json> arith(CallContext&, std::vector<json>& args) {
  if (auto st = want_args(args, 2, 2); !st) return st.error();
  const json& b = args[0];
  const json& a = args[1];
  static const char* kNames[] = {"add",    "subtract", "multiply", "divide",
                                 "modulo", "minimum",  "maximum"};
  const char* name = kNames[static_cast<int>(O)];
  if (!a.is_number())
    return make_error(
        std::string(name) + ": unknown type for " + format_value(a) + " (" + go_type(a) + ")",
        Errc::Invalid);
  if (!b.is_number())
    return make_error(
        std::string(name) + ": unknown type for " + format_value(b) + " (" + go_type(b) + ")",
        Errc::Invalid);
  if (a.is_number_float() || b.is_number_float()) {
    if (O == Op::Mod) return make_error("modulo: unknown type for float64", Errc::Invalid);
    double x = a.get<double>(), y = b.get<double>();
    switch (O) {
      case Op::Add:
        return json(x + y);
      case Op::Sub:
        return json(x - y);
      case Op::Mul:
        return json(x * y);
      case Op::Div:
        return json(x / y);
      case Op::Min:
        return x < y ? a : b;
      case Op::Max:
        return x > y ? a : b;
      default:
        break;
    }
    return json(0);
  }
  int64_t x = a.get<int64_t>(), y = b.get<int64_t>(), r = 0;
  switch (O) {
    case Op::Add:
      if (__builtin_add_overflow(x, y, &r))
        return make_error("add: integer overflow", Errc::Invalid);
      return json(r);
    case Op::Sub:
      if (__builtin_sub_overflow(x, y, &r))
        return make_error("subtract: integer overflow", Errc::Invalid);
      return json(r);
    case Op::Mul:
      if (__builtin_mul_overflow(x, y, &r))
        return make_error("multiply: integer overflow", Errc::Invalid);
      return json(r);
    case Op::Div:
    case Op::Mod:
      if (y == 0) return make_error("runtime error: integer divide by zero", Errc::Invalid);
      if (x == INT64_MIN && y == -1) return make_error("integer overflow", Errc::Invalid);
      return json(O == Op::Div ? x / y : x % y);
    case Op::Min:
      return json(std::min(x, y));
    case Op::Max:
      return json(std::max(x, y));
  }
  return json(0);
}

Result<int64_t> loop_bound(const json& v) {
  int64_t i = 0;
  if (v.is_number_integer() && to_int(v, i)) return i;
  if (v.is_string()) {
    errno = 0;
    char* end = nullptr;
    const std::string& s = v.get_ref<const std::string&>();
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && *end == '\0' && errno == 0) return static_cast<int64_t>(n);
  }
  return make_error("loop: bad argument type: " + go_type(v), Errc::Invalid);
}

// loop N: 0..N-1; loop A B: A..B-1.
Result<json> loop(CallContext&, std::vector<json>& a) {
  if (a.empty() || a.size() > 2)
    return make_error(
        "loop: wrong number of arguments, expected 1 or 2, but got " + std::to_string(a.size()),
        Errc::Invalid);
  int64_t start = 0;
  if (a.size() == 2) {
    auto s = loop_bound(a[0]);
    if (!s) return s.error();
    start = *s;
  }
  auto stop = loop_bound(a.back());
  if (!stop) return stop.error();
  if (*stop > start && *stop - start > kMaxLoop)
    return make_error("loop: more than " + std::to_string(kMaxLoop) + " steps", Errc::Invalid);
  json out = json::array();
  for (int64_t i = start; i < *stop; ++i) out.push_back(i);
  return out;
}

// The one string argument of a parse function.
Result<std::string> parse_arg(std::vector<json>& a) {
  if (auto st = want_args(a, 1, 1); !st) return st.error();
  return string_arg(a[0]);
}

// consul-template's numeric parses: "" is 0; what `parse` does not consume whole, what
// overflows, or what starts with a character Go's strconv refuses there is "invalid syntax".
template <typename T, typename Parse>
Result<json> parse_number(std::vector<json>& a, const char* what, Parse parse,
                          bool (*first_ok)(unsigned char)) {
  auto s = parse_arg(a);
  if (!s) return s.error();
  if (s->empty()) return json(T{});
  errno = 0;
  char* end = nullptr;
  T v = parse(s->c_str(), &end);
  if (*end != '\0' || errno != 0 || !first_ok(static_cast<unsigned char>((*s)[0])))
    return make_error(std::string(what) + ": parsing \"" + *s + "\": invalid syntax",
                      Errc::Invalid);
  return json(v);
}

bool not_space(unsigned char c) { return !std::isspace(c); }
bool is_digit(unsigned char c) { return std::isdigit(c) != 0; }

Result<json> parse_int(CallContext&, std::vector<json>& a) {
  return parse_number<int64_t>(
      a, "parseInt: strconv.ParseInt",
      [](const char* s, char** end) { return static_cast<int64_t>(std::strtoll(s, end, 10)); },
      not_space);
}

Result<json> parse_uint(CallContext&, std::vector<json>& a) {
  return parse_number<uint64_t>(
      a, "parseUint: strconv.ParseUint",
      [](const char* s, char** end) { return static_cast<uint64_t>(std::strtoull(s, end, 10)); },
      is_digit);
}

Result<json> parse_float(CallContext&, std::vector<json>& a) {
  return parse_number<double>(a, "parseFloat: strconv.ParseFloat", std::strtod, not_space);
}

// Go's strconv.ParseBool words.
Result<json> parse_bool(CallContext&, std::vector<json>& a) {
  auto s = parse_arg(a);
  if (!s) return s.error();
  if (s->empty()) return json(false);
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"})
    if (*s == t) return json(true);
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"})
    if (*s == f) return json(false);
  return make_error("parseBool: strconv.ParseBool: parsing \"" + *s + "\": invalid syntax",
                    Errc::Invalid);
}

}  // namespace

void add_math_functions(Table& t) {
  t["add"] = arith<Op::Add>;
  t["subtract"] = arith<Op::Sub>;
  t["multiply"] = arith<Op::Mul>;
  t["divide"] = arith<Op::Div>;
  t["modulo"] = arith<Op::Mod>;
  t["minimum"] = arith<Op::Min>;
  t["maximum"] = arith<Op::Max>;
  t["loop"] = loop;
  t["parseInt"] = parse_int;
  t["parseUint"] = parse_uint;
  t["parseFloat"] = parse_float;
  t["parseBool"] = parse_bool;
}

}  // namespace drover::tmpl
