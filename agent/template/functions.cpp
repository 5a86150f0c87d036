// The function table (functions.hpp) and Go's builtin functions: not, len, index, slice, eq, ne,
// lt, le, gt, ge, print, printf, println, html, urlquery, js (and/or live in the evaluator).
#include "template/functions.hpp"

#include <cstdio>

#include "template/printf.hpp"
#include "template/value.hpp"

namespace drover::tmpl {

using nlohmann::json;

Status want_args(const std::vector<json>& args, std::size_t min, std::size_t max) {
  if (args.size() < min || args.size() > max) {
    std::string want = min == max        ? std::to_string(min)
                       : max == SIZE_MAX ? "at least " + std::to_string(min)
                                         : std::to_string(min) + " to " + std::to_string(max);
    return make_error("wrong number of args: want " + want + " got " + std::to_string(args.size()),
                      Errc::Invalid);
  }
  return {};
}

Result<std::string> string_arg(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return make_error("wrong type for value; expected string; got " + go_type(v), Errc::Invalid);
}

Result<int64_t> int_arg(const json& v) {
  int64_t i = 0;
  if (v.is_number_integer() && to_int(v, i)) return i;
  return make_error("wrong type for value; expected int; got " + go_type(v), Errc::Invalid);
}

namespace {

using Table = std::map<std::string, Function, std::less<>>;

Result<json> fn_not(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 1, 1); !st) return st.error();
  return json(!truth(a[0]));
}

Result<json> fn_len(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 1, 1); !st) return st.error();
  const json& v = a[0];
  if (v.is_string()) return json(static_cast<int64_t>(v.get_ref<const std::string&>().size()));
  if (v.is_array() || v.is_object()) return json(static_cast<int64_t>(v.size()));
  return make_error("len of type " + go_type(v), Errc::Invalid);
}

Result<json> fn_index(CallContext& c, std::vector<json>& a) {
  if (auto st = want_args(a, 1, SIZE_MAX); !st) return st.error();
  json v = a[0];
  for (std::size_t i = 1; i < a.size(); ++i) {
    if (v.is_null() || is_no_value(v)) return make_error("index of untyped nil", Errc::Invalid);
    if (v.is_object()) {
      if (!a[i].is_string())
        return make_error("value has type " + go_type(a[i]) + "; should be string", Errc::Invalid);
      auto it = v.find(a[i].get<std::string>());
      if (it == v.end()) {
        if (c.error_on_missing_key)
          return make_error("map has no entry for key \"" + a[i].get<std::string>() + "\"",
                            Errc::Invalid);
        v = no_value();
        continue;
      }
      json next = *it;
      v = std::move(next);
    } else if (v.is_array() || v.is_string()) {
      int64_t k = 0;
      if (!to_int(a[i], k) || !a[i].is_number_integer())
        return make_error("cannot index slice/array with type " + go_type(a[i]), Errc::Invalid);
      const std::size_t n = v.is_array() ? v.size() : v.get_ref<const std::string&>().size();
      if (k < 0 || static_cast<std::size_t>(k) >= n)
        return make_error("index out of range: " + std::to_string(k), Errc::Invalid);
      if (v.is_array()) {
        json next = v[static_cast<std::size_t>(k)];
        v = std::move(next);
      } else {
        v = json(static_cast<int64_t>(static_cast<unsigned char>(
            v.get_ref<const std::string&>()[static_cast<std::size_t>(k)])));
      }
    } else {
      return make_error("can't index item of type " + go_type(v), Errc::Invalid);
    }
  }
  return v;
}

Result<json> fn_slice(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 1, 4); !st) return st.error();
  const json& v = a[0];
  if (!v.is_array() && !v.is_string())
    return make_error("can't slice item of type " + go_type(v), Errc::Invalid);
  if (v.is_string() && a.size() > 3)
    return make_error("cannot 3-index slice a string", Errc::Invalid);
  const int64_t n =
      static_cast<int64_t>(v.is_array() ? v.size() : v.get_ref<const std::string&>().size());
  int64_t idx[3] = {0, n, n};
  for (std::size_t i = 1; i < a.size(); ++i) {
    int64_t k = 0;
    if (!a[i].is_number_integer() || !to_int(a[i], k))
      return make_error("cannot index slice/array with type " + go_type(a[i]), Errc::Invalid);
    if (k < 0 || k > n)
      return make_error("index out of range: " + std::to_string(k), Errc::Invalid);
    idx[i - 1] = k;
  }
  if (idx[0] > idx[1])
    return make_error(
        "invalid slice index: " + std::to_string(idx[0]) + " > " + std::to_string(idx[1]),
        Errc::Invalid);
  if (v.is_string())
    return json(v.get_ref<const std::string&>().substr(static_cast<std::size_t>(idx[0]),
                                                       static_cast<std::size_t>(idx[1] - idx[0])));
  json out = json::array();
  for (int64_t i = idx[0]; i < idx[1]; ++i) out.push_back(v[static_cast<std::size_t>(i)]);
  return out;
}

Result<json> fn_eq(CallContext&, std::vector<json>& a) {
  if (a.size() < 2) return make_error("missing argument for comparison", Errc::Invalid);
  for (std::size_t i = 1; i < a.size(); ++i) {
    auto r = values_equal(a[0], a[i]);
    if (!r) return r.error();
    if (*r) return json(true);
  }
  return json(false);
}

Result<json> fn_ne(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 2, 2); !st) return st.error();
  auto r = values_equal(a[0], a[1]);
  if (!r) return r.error();
  return json(!*r);
}

template <int Which>  // 0 lt, 1 le, 2 gt, 3 ge
Result<json> fn_order(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 2, 2); !st) return st.error();
  auto lt = values_less(a[0], a[1]);
  if (!lt) return lt.error();
  auto eq = values_equal(a[0], a[1]);
  if (!eq) return eq.error();
  switch (Which) {
    case 0:
      return json(*lt);
    case 1:
      return json(*lt || *eq);
    case 2:
      return json(!*lt && !*eq);
    default:
      return json(!*lt);
  }
}

Result<json> fn_print(CallContext&, std::vector<json>& a) { return json(go_sprint(a)); }
Result<json> fn_println(CallContext&, std::vector<json>& a) { return json(go_sprintln(a)); }
Result<json> fn_printf(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 1, SIZE_MAX); !st) return st.error();
  auto f = string_arg(a[0]);
  if (!f) return f.error();
  std::vector<json> rest(a.begin() + 1, a.end());
  return json(go_sprintf(*f, rest));
}

Result<json> fn_html(CallContext&, std::vector<json>& a) {
  std::string s = go_sprint(a), out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\0':
        out += "\uFFFD";
        break;
      default:
        out += c;
    }
  }
  return json(out);
}

Result<json> fn_urlquery(CallContext&, std::vector<json>& a) {
  std::string s = go_sprint(a), out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return json(out);
}

Result<json> fn_js(CallContext&, std::vector<json>& a) {
  std::string s = go_sprint(a), out;
  for (unsigned char c : s) {
    if (const char* e = shared_escape(c)) {
      out += e;
      continue;
    }
    switch (c) {
      case '\'':
        out += "\\'";
        break;
      case '<':
        out += "\\u003C";
        break;
      case '>':
        out += "\\u003E";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '=':
        out += "\\u003D";
        break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04X", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return json(out);
}

const Table& table() {
  static const Table t = [] {
    Table t;
    add_builtin_functions(t);
    add_string_functions(t);
    add_math_functions(t);
    add_encoding_functions(t);
    add_data_functions(t);
    return t;
  }();
  return t;
}

}  // namespace

void add_builtin_functions(Table& t) {
  t["not"] = fn_not;
  t["len"] = fn_len;
  t["index"] = fn_index;
  t["slice"] = fn_slice;
  t["eq"] = fn_eq;
  t["ne"] = fn_ne;
  t["lt"] = fn_order<0>;
  t["le"] = fn_order<1>;
  t["gt"] = fn_order<2>;
  t["ge"] = fn_order<3>;
  t["print"] = fn_print;
  t["printf"] = fn_printf;
  t["println"] = fn_println;
  t["html"] = fn_html;
  t["urlquery"] = fn_urlquery;
  t["js"] = fn_js;
}

Function find_function(std::string_view name) {
  const auto& t = table();
  auto it = t.find(name);
  return it == t.end() ? nullptr : it->second;
}

bool is_lazy_builtin(std::string_view name) { return name == "and" || name == "or"; }

}  // namespace drover::tmpl
