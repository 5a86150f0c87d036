// Template values: JSON, plus Go's "no value" (a missing map key), which nlohmann's
// `discarded` stands for. How Go prints them (%v), what is true, and Go's type names for
// error messages. Internal to agent/template/.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "drover/common/result.hpp"

namespace drover::tmpl {

inline nlohmann::json no_value() { return nlohmann::json(nlohmann::json::value_t::discarded); }
inline bool is_no_value(const nlohmann::json& v) { return v.is_discarded(); }

// Go's truth: false, 0, "", nil, an empty list or map, and no value are false.
bool truth(const nlohmann::json& v);
// fmt's %v: strings as they are, `[a b]`, `map[k:v]` (sorted keys), `<nil>`, `<no value>`.
std::string format_value(const nlohmann::json& v);
// A float as Go's %v prints it (strconv 'g', shortest; exponent from 1e6 and below 1e-4).
std::string format_float(double d);
// The Go type the value would have: string, int, float64, bool, []interface {},
// map[string]interface {}, <nil>.
std::string go_type(const nlohmann::json& v);

// eq, lt (Go's rules, with integers and floats compared by value); errors as Go's.
Result<bool> values_equal(const nlohmann::json& a, const nlohmann::json& b);
Result<bool> values_less(const nlohmann::json& a, const nlohmann::json& b);

// A value as an int64 / as a float when it is a number (ints, or whole floats for to_int).
bool to_int(const nlohmann::json& v, int64_t& out);
bool to_double(const nlohmann::json& v, double& out);

}  // namespace drover::tmpl
