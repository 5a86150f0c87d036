// The HCL expression evaluator (eval.hpp): operators, conditionals, for expressions, splats,
// indexing, attribute access and function calls, following hclsyntax's spec ("Expression
// Evaluation"), and the value conversions every part of the evaluator shares.
#include <charconv>
#include <cmath>
#include <limits>

#include "jobspec/did_you_mean.hpp"
#include "jobspec/hcl/eval.hpp"

namespace drover::jobspec::hcl {

using nlohmann::json;

namespace {

[[noreturn]] void fail(Pos at, std::string message) { throw EvalError{at, std::move(message)}; }

// Roots Nomad resolves on the client when the task starts (docs/jobspec.md, "HCL job files").
bool is_runtime_root(std::string_view name) {
  return name == "attr" || name == "node" || name == "meta" || name == "env" || name == "device" ||
         name.substr(0, 6) == "NOMAD_";
}

}  // namespace

std::string describe(const EvalError& e) { return at(e.pos) + e.message; }

const json* Scope::find(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent_) {
    auto it = s->names_.find(name);
    if (it != s->names_.end()) return &it->second;
  }
  return nullptr;
}

// ---- values ----

std::string type_name(const json& v) {
  if (v.is_string()) return "string";
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "bool";
  if (v.is_null()) return "null";
  if (v.is_array()) return "list";
  return "object";
}

json normalize_number(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
    return static_cast<std::int64_t>(d);
  return d;
}

std::string number_text(const json& v) {
  if (v.is_number_integer()) return v.dump();
  double d = v.get<double>();
  json n = normalize_number(d);
  if (n.is_number_integer()) return n.dump();
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, p) : v.dump();
}

std::string as_string(const json& v, Pos at, std::string_view what) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return number_text(v);
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) fail(at, std::string(what) + ": a string is required, got null");
  fail(at, std::string(what) + ": a string is required, got a " + type_name(v));
}

json as_number(const json& v, Pos at, std::string_view what) {
  if (v.is_number()) return v;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    std::int64_t i = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return i;
    double d = 0;
    auto [q, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec2 == std::errc() && q == s.data() + s.size() && !s.empty()) return d;
    fail(at, std::string(what) + ": a number is required, got the string \"" + s + "\"");
  }
  fail(at, std::string(what) + ": a number is required, got " +
               (v.is_null() ? "null" : "a " + type_name(v)));
}

double as_double(const json& v, Pos at, std::string_view what) {
  return as_number(v, at, what).get<double>();
}

std::int64_t as_integer(const json& v, Pos at, std::string_view what) {
  json n = as_number(v, at, what);
  if (n.is_number_integer()) return n.get<std::int64_t>();
  json whole = normalize_number(n.get<double>());
  if (!whole.is_number_integer())
    fail(at, std::string(what) + ": a whole number is required, got " + number_text(n));
  return whole.get<std::int64_t>();
}

bool as_bool(const json& v, Pos at, std::string_view what) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    if (v == "true") return true;
    if (v == "false") return false;
  }
  fail(at, std::string(what) + ": a bool is required, got " +
               (v.is_null()     ? "null"
                : v.is_string() ? "the string " + v.dump()
                                : "a " + type_name(v)));
}

void Evaluator::check_size(std::size_t bytes, Pos at) const {
  if (bytes > limits_.max_value_bytes)
    throw EvalError{at, "value is larger than " + std::to_string(limits_.max_value_bytes) + " bytes",
                    true};
}

// ---- the evaluator ----

json Evaluator::eval(const Expr& e, const Scope& scope) {
  if (++steps_ > limits_.max_steps)
    throw EvalError{e.pos, "evaluation takes more than " + std::to_string(limits_.max_steps) + " steps",
                    true};
  if (e.kind == ExprKind::Variable || e.kind == ExprKind::GetAttr || e.kind == ExprKind::Index)
    if (const json* found = reference(e, scope)) return *found;
  switch (e.kind) {
    case ExprKind::Literal:
      return e.value;
    case ExprKind::Variable: {
      if (const json* v = scope.find(e.name)) return *v;
      if (is_runtime_root(e.name)) return "${" + e.name + "}";
      if (e.name == "var" || e.name == "local") return json::object();  // none declared
      fail(e.pos, "unknown name \"" + e.name +
                      "\" (a string needs quotes; references are var., local., attr., node., "
                      "meta., env., device. and NOMAD_*)");
    }
    case ExprKind::GetAttr:
      return get_attr(e, scope);
    case ExprKind::Index:
      return index(e, scope);
    case ExprKind::Splat:
      return eval_splat(e, scope);
    case ExprKind::SplatItem:
      if (splat_items_.empty()) fail(e.pos, "splat item outside a splat");
      return *splat_items_.back();
    case ExprKind::Call:
      return eval_call(e, scope);
    case ExprKind::Unary: {
      json v = eval(*e.a, scope);
      if (e.name == "!") return !as_bool(v, e.pos, "operand of !");
      json n = as_number(v, e.pos, "operand of -");
      if (n.is_number_integer() &&
          n.get<std::int64_t>() != std::numeric_limits<std::int64_t>::min())
        return -n.get<std::int64_t>();
      return normalize_number(-n.get<double>());
    }
    case ExprKind::Binary:
      return eval_binary(e, scope);
    case ExprKind::Conditional:
      return as_bool(eval(*e.a, scope), e.pos, "condition of ? :") ? eval(*e.b, scope)
                                                                   : eval(*e.c, scope);
    case ExprKind::Tuple: {
      json out = json::array();
      for (const auto& item : e.items) out.push_back(eval(*item, scope));
      return out;
    }
    case ExprKind::Object: {
      json out = json::object();
      for (const auto& [k, v] : e.pairs) {
        json key = eval(*k, scope);
        std::string name = as_string(key, k->pos, "object key");
        if (out.contains(name)) fail(k->pos, "object key \"" + name + "\" appears twice");
        out[name] = eval(*v, scope);
      }
      return out;
    }
    case ExprKind::For:
      return eval_for(e, scope);
    case ExprKind::Template:
    case ExprKind::TemplateIf:
    case ExprKind::TemplateFor:
      return eval_template(e, scope);
  }
  fail(e.pos, "unknown expression");
}

// A plain reference that exists (var.x.y, local.z[0]), as a pointer into the scope: reading
// one attribute must not copy the whole object it is in. nullptr for anything else, which
// eval() then evaluates (and reports) the long way.
const json* Evaluator::reference(const Expr& e, const Scope& scope) {
  switch (e.kind) {
    case ExprKind::Variable:
      return scope.find(e.name);
    case ExprKind::GetAttr: {
      const json* base = reference(*e.a, scope);
      if (!base || !base->is_object()) return nullptr;
      auto it = base->find(e.name);
      return it == base->end() ? nullptr : &*it;
    }
    case ExprKind::Index: {
      if (e.b->kind != ExprKind::Literal) return nullptr;
      const json* base = reference(*e.a, scope);
      if (!base) return nullptr;
      const json& key = e.b->value;
      if (base->is_array() && key.is_number_integer()) {
        auto i = key.get<std::int64_t>();
        return i >= 0 && static_cast<std::size_t>(i) < base->size() ? &(*base)[i] : nullptr;
      }
      if (base->is_object() && key.is_string()) {
        auto it = base->find(key.get<std::string>());
        return it == base->end() ? nullptr : &*it;
      }
      return nullptr;
    }
    default:
      return nullptr;
  }
}

std::optional<std::string> Evaluator::runtime_reference(const Expr& e, const Scope& scope,
                                                        bool any_root) {
  switch (e.kind) {
    case ExprKind::Variable:
      if (scope.find(e.name)) return std::nullopt;
      if (is_runtime_root(e.name) || (any_root && e.name != "var" && e.name != "local"))
        return e.name;
      return std::nullopt;
    case ExprKind::GetAttr: {
      auto base = runtime_reference(*e.a, scope, any_root);
      if (!base) return std::nullopt;
      return *base + "." + e.name;
    }
    case ExprKind::Index: {
      auto base = runtime_reference(*e.a, scope, any_root);
      if (!base) return std::nullopt;
      json key = eval(*e.b, scope);
      if (key.is_number()) return *base + "[" + number_text(key) + "]";
      return *base + "[" + json(as_string(key, e.b->pos, "index")).dump() + "]";
    }
    default:
      return std::nullopt;
  }
}

json Evaluator::get_attr(const Expr& e, const Scope& scope) {
  if (auto ref = runtime_reference(e, scope, false)) return "${" + *ref + "}";
  json base = eval(*e.a, scope);
  if (base.is_object()) {
    auto it = base.find(e.name);
    if (it != base.end()) return *it;
    std::vector<std::string_view> known;
    for (const auto& [k, v] : base.items()) known.push_back(k);
    std::string hint = detail::did_you_mean(e.name, known);
    if (e.a->kind == ExprKind::Variable && e.a->name == "var")
      fail(e.pos, "no variable \"" + e.name + "\" is declared (var." + e.name + ")" + hint);
    if (e.a->kind == ExprKind::Variable && e.a->name == "local")
      fail(e.pos, "no local \"" + e.name + "\" is defined (local." + e.name + ")" + hint);
    fail(e.pos, "object has no attribute \"" + e.name + "\"" + hint);
  }
  if (base.is_null()) fail(e.pos, "cannot read attribute \"" + e.name + "\" of null");
  if (base.is_array())
    fail(e.pos, "cannot read attribute \"" + e.name + "\" of a list (index it, or use [*]." +
                    e.name + ")");
  fail(e.pos, "cannot read attribute \"" + e.name + "\" of a " + type_name(base));
}

json Evaluator::index(const Expr& e, const Scope& scope) {
  if (auto ref = runtime_reference(e, scope, false)) return "${" + *ref + "}";
  json base = eval(*e.a, scope);
  json key = eval(*e.b, scope);
  if (base.is_array()) {
    std::int64_t i = as_integer(key, e.b->pos, "list index");
    if (i < 0 || static_cast<std::size_t>(i) >= base.size())
      fail(e.b->pos, "index " + std::to_string(i) + " is out of range (the list has " +
                         std::to_string(base.size()) + " elements)");
    return base[static_cast<std::size_t>(i)];
  }
  if (base.is_object()) {
    std::string k = as_string(key, e.b->pos, "map key");
    auto it = base.find(k);
    if (it == base.end()) fail(e.b->pos, "no key \"" + k + "\" in the map");
    return *it;
  }
  if (base.is_null()) fail(e.pos, "cannot index null");
  fail(e.pos, "cannot index a " + type_name(base));
}

json Evaluator::eval_splat(const Expr& e, const Scope& scope) {
  json source = eval(*e.a, scope);
  if (source.is_null()) return json::array();
  if (!source.is_array()) source = json::array({source});
  json out = json::array();
  for (const auto& item : source) {
    splat_items_.push_back(&item);
    try {
      out.push_back(eval(*e.b, scope));
    } catch (...) {
      splat_items_.pop_back();
      throw;
    }
    splat_items_.pop_back();
  }
  return out;
}

json Evaluator::eval_call(const Expr& e, const Scope& scope) {
  // try() and can() see their arguments' errors, so they evaluate them themselves, in order
  // (HCL's tryfunc). A limit hit (size, depth) is no error of the expression: it goes on.
  if ((e.name == "try" || e.name == "can") && !e.expand_last) {
    if (e.name == "can" && e.items.size() != 1)
      fail(e.pos, "can() takes 1 argument, got " + std::to_string(e.items.size()));
    if (e.items.empty()) fail(e.pos, "try() takes at least 1 argument, got 0");
    std::string last;
    for (const auto& a : e.items) {
      try {
        json v = eval(*a, scope);
        return e.name == "can" ? json(true) : v;
      } catch (const EvalError& err) {
        if (err.limit) throw;
        last = describe(err);
      }
    }
    if (e.name == "can") return false;
    fail(e.pos, "try(): no argument could be evaluated; the last: " + last);
  }
  std::vector<json> args;
  args.reserve(e.items.size());
  for (const auto& a : e.items) args.push_back(eval(*a, scope));
  if (e.expand_last && !args.empty()) {
    json last = std::move(args.back());
    args.pop_back();
    if (!last.is_array())
      fail(e.items.back()->pos,
           "the argument expanded with ... must be a list, got a " + type_name(last));
    for (auto& item : last) args.push_back(std::move(item));
  }
  return call_function(*this, e.name, args, e.pos);
}

json Evaluator::eval_binary(const Expr& e, const Scope& scope) {
  const std::string& op = e.name;
  if (op == "&&" || op == "||") {  // short-circuits, so `x != null && x.y` works
    bool left = as_bool(eval(*e.a, scope), e.a->pos, "operand of " + op);
    if (op == "&&" && !left) return false;
    if (op == "||" && left) return true;
    return as_bool(eval(*e.b, scope), e.b->pos, "operand of " + op);
  }
  json a = eval(*e.a, scope);
  json b = eval(*e.b, scope);
  if (op == "==" || op == "!=") {
    bool same = a.is_number() && b.is_number() ? a.get<double>() == b.get<double>() : a == b;
    return op == "==" ? same : !same;
  }
  json x = as_number(a, e.a->pos, "operand of " + op);
  json y = as_number(b, e.b->pos, "operand of " + op);
  if (op == "<") return x.get<double>() < y.get<double>();
  if (op == "<=") return x.get<double>() <= y.get<double>();
  if (op == ">") return x.get<double>() > y.get<double>();
  if (op == ">=") return x.get<double>() >= y.get<double>();
  const bool ints = x.is_number_integer() && y.is_number_integer();
  if (ints) {
    std::int64_t p = x.get<std::int64_t>(), q = y.get<std::int64_t>(), r = 0;
    if (op == "+" && !__builtin_add_overflow(p, q, &r)) return r;
    if (op == "-" && !__builtin_sub_overflow(p, q, &r)) return r;
    if (op == "*" && !__builtin_mul_overflow(p, q, &r)) return r;
    if ((op == "/" || op == "%") && q == 0) fail(e.pos, "division by zero");
    if (op == "/" && q != -1 && p % q == 0) return p / q;
    if (op == "%" && q != -1) return p % q;
  }
  double p = x.get<double>(), q = y.get<double>();
  if (op == "+") return normalize_number(p + q);
  if (op == "-") return normalize_number(p - q);
  if (op == "*") return normalize_number(p * q);
  if (q == 0) fail(e.pos, "division by zero");
  if (op == "/") return normalize_number(p / q);
  return normalize_number(std::fmod(p, q));
}

json Evaluator::eval_for(const Expr& e, const Scope& scope) {
  json collection = eval(*e.a, scope);
  if (!collection.is_array() && !collection.is_object())
    fail(e.a->pos, "a for expression needs a list or a map, got " +
                       (collection.is_null() ? std::string("null") : "a " + type_name(collection)));
  json out = e.object ? json::object() : json::array();
  auto one = [&](const json& key, const json& value) {
    Scope inner(&scope);
    if (!e.key_var.empty()) inner.set(e.key_var, key);
    inner.set(e.value_var, value);
    if (e.cond && !as_bool(eval(*e.cond, inner), e.cond->pos, "if of a for expression")) return;
    if (!e.object) {
      out.push_back(eval(*e.b, inner));
      return;
    }
    std::string k = as_string(eval(*e.key, inner), e.key->pos, "key of a for expression");
    json v = eval(*e.b, inner);
    if (e.grouping) {
      out[k].push_back(std::move(v));
    } else {
      if (out.contains(k))
        fail(e.key->pos, "key \"" + k +
                             "\" comes twice in the for expression (end the value "
                             "with ... to group the values by key)");
      out[k] = std::move(v);
    }
  };
  if (collection.is_array()) {
    for (std::size_t i = 0; i < collection.size(); ++i)
      one(static_cast<std::int64_t>(i), collection[i]);
  } else {
    for (const auto& [k, v] : collection.items()) one(k, v);
  }
  return out;
}

}  // namespace drover::jobspec::hcl
