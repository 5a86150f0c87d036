// The function library's shared parts, internal to hcl/: a call's arguments with the checks
// every function uses, and the table each functions file adds its functions to
// (functions.cpp, set_functions.cpp, net_functions.cpp, time_functions.cpp).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobspec/hcl/eval.hpp"

namespace drover::jobspec::hcl {

using nlohmann::json;
using Args = std::vector<json>;

struct Call {
  Evaluator& ev;
  Args& args;
  Pos at;
  std::string_view name;

  [[noreturn]] void fail(const std::string& message) const {
    throw EvalError{at, std::string(name) + "(): " + message};
  }
  std::string what(std::size_t i) const {
    return std::string(name) + "() argument " + std::to_string(i + 1);
  }
  std::string str(std::size_t i) const { return as_string(args[i], at, what(i)); }
  std::int64_t integer(std::size_t i) const { return as_integer(args[i], at, what(i)); }
  double number(std::size_t i) const { return as_double(args[i], at, what(i)); }
  const json& list(std::size_t i) const {
    if (!args[i].is_array())
      fail("argument " + std::to_string(i + 1) + " must be a list, got " +
           (args[i].is_null() ? "null" : "a " + type_name(args[i])));
    return args[i];
  }
  const json& map(std::size_t i) const {
    if (!args[i].is_object())
      fail("argument " + std::to_string(i + 1) + " must be a map, got " +
           (args[i].is_null() ? "null" : "a " + type_name(args[i])));
    return args[i];
  }
  json sized(json v) const {
    ev.check_size(v.is_string() ? v.get_ref<const std::string&>().size() : v.size(), at);
    return v;
  }
};

using Fn = json (*)(const Call&);

struct Function {
  int min_args;
  int max_args;  // -1: any number
  Fn fn;
};

// HCL's set and sort order for strings; numbers by value.
inline bool value_less(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() < b.get<double>();
  return a.dump() < b.dump();
}

inline bool values_equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

// Which values were seen, in O(1) each: distinct() of range(1048576) must not take n².
struct Distinct {
  std::set<std::string> keys;
  static std::string key(const json& v) { return v.is_number() ? "n" + number_text(v) : v.dump(); }
  bool first(const json& v) { return keys.insert(key(v)).second; }
  bool has(const json& v) const { return keys.count(key(v)) > 0; }
};

using FunctionTable = std::map<std::string_view, Function>;

FunctionTable core_functions();  // functions.cpp
void add_set_functions(FunctionTable& t);   // set_functions.cpp
void add_net_functions(FunctionTable& t);   // net_functions.cpp
void add_time_functions(FunctionTable& t);  // time_functions.cpp

}  // namespace drover::jobspec::hcl
