// Nomad's input variables and locals (variables.hpp): declarations, values by precedence, type
// conversion (string, number, bool, any, list, set, map, object, tuple, optional), validation
// blocks, and locals evaluated in dependency order without recursion, so a long chain cannot
// overflow the stack and a circle is found rather than followed.
#include "jobspec/hcl/variables.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "jobspec/did_you_mean.hpp"
#include "jobspec/hcl/eval.hpp"

namespace drover::jobspec::hcl {

using nlohmann::json;

namespace {

struct Declared {
  std::string name;
  Pos pos;
  ExprPtr type;
  ExprPtr default_value;
  std::vector<const SyntaxBlock*> validations;
  json value;
  bool has_value = false;
};

[[noreturn]] void type_error(Pos p, const std::string& what, const std::string& message) {
  throw EvalError{p, what + ": " + message};
}

std::string got(const json& v) { return v.is_null() ? "null" : "a " + type_name(v); }

// `value` as the type `type` says (cty's conversions: numbers and bools from strings and back).
json convert(const json& value, const Expr* type, Pos p, const std::string& what, int depth = 0) {
  if (!type || value.is_null()) return value;
  if (depth > 32) type_error(p, what, "type nested too deep");
  if (type->kind == ExprKind::Variable) {
    if (type->name == "any") return value;
    if (type->name == "string") {
      if (value.is_array() || value.is_object())
        type_error(p, what, "must be a string, got " + got(value));
      return as_string(value, p, what);
    }
    if (type->name == "number") return as_number(value, p, what);
    if (type->name == "bool") return as_bool(value, p, what);
  }
  if (type->kind == ExprKind::Call && type->items.size() == 1) {
    const Expr& inner = *type->items[0];
    const std::string& kind = type->name;
    if (kind == "optional") return convert(value, &inner, p, what, depth + 1);
    if (kind == "list" || kind == "set") {
      if (!value.is_array()) type_error(p, what, "must be a " + kind + ", got " + got(value));
      json out = json::array();
      for (std::size_t i = 0; i < value.size(); ++i)
        out.push_back(
            convert(value[i], &inner, p, what + "[" + std::to_string(i) + "]", depth + 1));
      if (kind == "set") {
        std::sort(out.begin(), out.end(),
                  [](const json& a, const json& b) { return a.dump() < b.dump(); });
        out.erase(std::unique(out.begin(), out.end()), out.end());
      }
      return out;
    }
    if (kind == "map") {
      if (!value.is_object()) type_error(p, what, "must be a map, got " + got(value));
      json out = json::object();
      for (const auto& [k, v] : value.items())
        out[k] = convert(v, &inner, p, what + "." + k, depth + 1);
      return out;
    }
    if (kind == "object" && inner.kind == ExprKind::Object) {
      if (!value.is_object()) type_error(p, what, "must be an object, got " + got(value));
      json out = json::object();
      for (const auto& [key, attr_type] : inner.pairs) {
        if (key->kind != ExprKind::Literal || !key->value.is_string()) continue;
        const std::string k = key->value.get<std::string>();
        auto it = value.find(k);
        if (it != value.end())
          out[k] = convert(*it, attr_type.get(), p, what + "." + k, depth + 1);
        else if (attr_type->kind == ExprKind::Call && attr_type->name == "optional")
          out[k] = nullptr;
        else
          type_error(p, what, "attribute \"" + k + "\" is required");
      }
      return out;
    }
    if (kind == "tuple" && inner.kind == ExprKind::Tuple) {
      if (!value.is_array() || value.size() != inner.items.size())
        type_error(p, what,
                   "must be a tuple of " + std::to_string(inner.items.size()) + " elements, got " +
                       got(value));
      json out = json::array();
      for (std::size_t i = 0; i < value.size(); ++i)
        out.push_back(convert(value[i], inner.items[i].get(), p,
                              what + "[" + std::to_string(i) + "]", depth + 1));
      return out;
    }
  }
  type_error(type->pos, what,
             "unknown type (HCL types: string, number, bool, any, list(T), set(T), map(T), "
             "object({...}), tuple([...]))");
}

bool is_primitive_type(const Expr* type) {
  return !type ||
         (type->kind == ExprKind::Variable && (type->name == "string" || type->name == "any" ||
                                               type->name == "number" || type->name == "bool"));
}

// A value given as text (-var, NOMAD_VAR_): a string for primitive types, an HCL expression
// for lists, maps and objects (`-var 'ports=[80, 443]'`), as Nomad reads them.
json from_text(Evaluator& ev, const std::string& text, const Declared& d, const std::string& what) {
  if (is_primitive_type(d.type.get())) {
    if (!d.type || d.type->name == "any") return text;
    return convert(json(text), d.type.get(), d.pos, what);
  }
  auto tree = parse_expression(text);
  if (!tree)
    throw EvalError{d.pos, what + ": the value is not an HCL expression: " + tree.message()};
  Scope none;
  return convert(ev.eval(**tree, none), d.type.get(), d.pos, what);
}

constexpr int kMaxValueDepth = 64;

bool too_deep(const json& v, int depth) {
  if (!v.is_structured()) return false;
  if (depth >= kMaxValueDepth) return true;
  for (const auto& item : v)
    if (too_deep(item, depth + 1)) return true;
  return false;
}

void local_references(const Expr& e, std::vector<std::string>& out) {
  if (e.kind == ExprKind::GetAttr && e.a->kind == ExprKind::Variable && e.a->name == "local")
    out.push_back(e.name);
  if (e.kind == ExprKind::Index && e.a->kind == ExprKind::Variable && e.a->name == "local" &&
      e.b->kind == ExprKind::Literal && e.b->value.is_string())
    out.push_back(e.b->value.get<std::string>());
  for (const auto* child : {&e.a, &e.b, &e.c, &e.key, &e.cond})
    if (*child) local_references(**child, out);
  for (const auto& item : e.items) local_references(*item, out);
  for (const auto& [k, v] : e.pairs) {
    local_references(*k, out);
    local_references(*v, out);
  }
}

class FileEvaluator {
 public:
  FileEvaluator(const SyntaxBody& tree, const VariableInputs& inputs, const std::string& base_dir,
                std::vector<std::string>& errors)
      : tree_(tree), inputs_(inputs), ev_(base_dir), errors_(errors) {}

  // False when the variables have errors: then nothing else is evaluated.
  bool run(Body& body) {
    declare();
    assign();
    json vars = json::object();
    for (const auto& d : declared_)
      if (d.has_value) vars[d.name] = d.value;
    validate(vars);
    if (!errors_.empty()) return false;
    scope_.set("var", vars);
    locals();
    body = decode_body(tree_, ev_, scope_, errors_, {"variable", "variables", "locals"});
    return true;
  }

 private:
  const SyntaxBody& tree_;
  const VariableInputs& inputs_;
  Evaluator ev_;
  std::vector<std::string>& errors_;
  std::vector<Declared> declared_;
  std::map<std::string, std::size_t> by_name_;
  Scope scope_;

  void error(std::string message) { errors_.push_back(std::move(message)); }

  Declared* find(const std::string& name) {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &declared_[it->second];
  }

  std::string hint(const std::string& name) const {
    std::vector<std::string_view> known;
    for (const auto& d : declared_) known.push_back(d.name);
    return detail::did_you_mean(name, known);
  }

  void add(Declared d) {
    if (const Declared* first = find(d.name)) {
      error(at(d.pos) + "variable \"" + d.name + "\" is declared twice (first at line " +
            std::to_string(first->pos.line) + ")");
      return;
    }
    by_name_[d.name] = declared_.size();
    declared_.push_back(std::move(d));
  }

  void declare() {
    for (const auto& b : tree_.blocks) {
      if (b.type == "variable") {
        if (b.labels.size() != 1) {
          error(at(b.pos) + "a variable block needs one label: its name (variable \"image\" {)");
          continue;
        }
        Declared d;
        d.name = b.labels[0];
        d.pos = b.pos;
        for (const auto& a : b.body.attributes) {
          if (a.name == "type")
            d.type = a.expr;
          else if (a.name == "default")
            d.default_value = a.expr;
          else if (a.name != "description" && a.name != "sensitive" && a.name != "nullable")
            error(at(a.pos) + "variable \"" + d.name + "\": unknown attribute \"" + a.name + "\"" +
                  detail::did_you_mean(a.name, {"type", "default", "description", "sensitive",
                                                "nullable", "validation"}));
        }
        for (const auto& inner : b.body.blocks) {
          if (inner.type == "validation")
            d.validations.push_back(&inner);
          else
            error(at(inner.pos) + "variable \"" + d.name + "\": unknown block \"" + inner.type +
                  "\" (a variable takes validation blocks)");
        }
        add(std::move(d));
      } else if (b.type == "variables") {
        if (!b.labels.empty()) error(at(b.pos) + "a variables block takes no label");
        for (const auto& a : b.body.attributes) {
          Declared d;
          d.name = a.name;
          d.pos = a.pos;
          d.default_value = a.expr;
          add(std::move(d));
        }
        for (const auto& inner : b.body.blocks)
          error(at(inner.pos) + "a variables block holds name = default assignments only");
      }
    }
  }

  void set(Declared& d, const std::function<json()>& value) {
    try {
      d.value = value();
      d.has_value = true;
    } catch (const EvalError& e) {
      error(describe(e));
    }
  }

  void assign() {
    Scope none;
    for (auto& d : declared_)
      if (d.default_value)
        set(d, [&] {
          return convert(ev_.eval(*d.default_value, none), d.type.get(), d.default_value->pos,
                         "variable \"" + d.name + "\" default");
        });
    for (const auto& entry : inputs_.env)  // (a structured binding cannot be captured in C++20)
      if (Declared* d = find(entry.first))
        set(*d, [&] { return from_text(ev_, entry.second, *d, "NOMAD_VAR_" + entry.first); });
    for (const auto& [file, content] : inputs_.files) {
      if (auto first = content.find_first_not_of(" \t\r\n");
          first != std::string::npos && content[first] == '{') {
        json_file(file, content);  // a .json variables file, as Nomad takes
        continue;
      }
      auto tree = parse_syntax(content);
      if (!tree) {
        error(file + ": " + tree.message());
        continue;
      }
      for (const auto& b : tree->blocks)
        error(file + ": " + at(b.pos) + "a variables file holds name = value assignments only");
      for (const auto& a : tree->attributes) {
        Declared* d = find(a.name);
        if (!d) {
          error(file + ": " + at(a.pos) + "no variable \"" + a.name +
                "\" is declared in the job file" + hint(a.name));
          continue;
        }
        try {
          d->value = convert(ev_.eval(*a.expr, none), d->type.get(), a.expr->pos,
                             "variable \"" + a.name + "\"");
          d->has_value = true;
        } catch (const EvalError& e) {
          error(file + ": " + describe(e));
        }
      }
    }
    for (const auto& [name, text] : inputs_.args) {
      Declared* d = find(name);
      if (!d) {
        error("-var \"" + name + "\": no variable \"" + name + "\" is declared in the job file" +
              hint(name));
        continue;
      }
      try {
        d->value = from_text(ev_, text, *d, "-var \"" + name + "\"");
        d->has_value = true;
      } catch (const EvalError& e) {
        error(e.message);
      }
    }
    for (const auto& d : declared_)
      if (!d.has_value && !d.default_value)
        error(at(d.pos) + "variable \"" + d.name + "\" has no value: give it with -var " + d.name +
              "=..., a -var-file or NOMAD_VAR_" + d.name + ", or give it a default");
  }

  void json_file(const std::string& file, const std::string& content) {
    json doc = json::parse(content, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object()) {
      error(file + ": not a JSON object of variable values");
      return;
    }
    for (const auto& [name, value] : doc.items()) {
      Declared* d = find(name);
      if (!d) {
        error(file + ": no variable \"" + name + "\" is declared in the job file" + hint(name));
        continue;
      }
      try {
        d->value = convert(value, d->type.get(), d->pos, "variable \"" + name + "\"");
        d->has_value = true;
      } catch (const EvalError& e) {
        error(file + ": " + e.message);
      }
    }
  }

  void validate(const json& vars) {
    Scope scope;
    scope.set("var", vars);
    for (const auto& d : declared_) {
      if (!d.has_value) continue;
      for (const auto* v : d.validations) {
        const SyntaxAttribute* condition = nullptr;
        const SyntaxAttribute* message = nullptr;
        for (const auto& a : v->body.attributes) {
          if (a.name == "condition")
            condition = &a;
          else if (a.name == "error_message")
            message = &a;
          else
            error(at(a.pos) + "validation: unknown attribute \"" + a.name +
                  "\" (validation takes condition and error_message)");
        }
        if (!condition || !message) {
          error(at(v->pos) + "variable \"" + d.name +
                "\": a validation block needs condition and error_message");
          continue;
        }
        try {
          if (as_bool(ev_.eval(*condition->expr, scope), condition->expr->pos,
                      "validation condition"))
            continue;
          std::string text =
              as_string(ev_.eval(*message->expr, scope), message->expr->pos, "error_message");
          error(at(condition->pos) + "variable \"" + d.name + "\" is invalid: " + text);
        } catch (const EvalError& e) {
          error(describe(e));
        }
      }
    }
  }

  // Locals, each after the locals it refers to; an explicit stack rather than recursion.
  void locals() {
    std::map<std::string, const SyntaxAttribute*> defs;
    std::vector<std::string> order;
    for (const auto& b : tree_.blocks) {
      if (b.type != "locals") continue;
      if (!b.labels.empty()) error(at(b.pos) + "a locals block takes no label");
      for (const auto& inner : b.body.blocks)
        error(at(inner.pos) + "a locals block holds name = value assignments only");
      for (const auto& a : b.body.attributes) {
        auto [it, fresh] = defs.emplace(a.name, &a);
        if (!fresh) {
          error(at(a.pos) + "local \"" + a.name + "\" is defined twice (first at line " +
                std::to_string(it->second->pos.line) + ")");
          continue;
        }
        order.push_back(a.name);
      }
    }
    enum State { New, Visiting, Done, Failed };
    std::map<std::string, State> state;
    json& values = scope_.own("local");
    values = json::object();
    struct Frame {
      std::string name;
      std::vector<std::string> deps;
      std::size_t next = 0;
    };
    auto frame = [&](const std::string& name) {
      Frame f{name, {}, 0};
      local_references(*defs[name]->expr, f.deps);
      state[name] = Visiting;
      return f;
    };
    for (const auto& root : order) {
      if (state[root] != New) continue;
      std::vector<Frame> stack;
      stack.push_back(frame(root));
      while (!stack.empty()) {
        Frame& f = stack.back();
        if (f.next < f.deps.size()) {
          const std::string dep = f.deps[f.next++];
          if (!defs.count(dep)) continue;  // evaluation says "no local"
          if (state[dep] == Visiting) {
            std::size_t from = 0;
            while (stack[from].name != dep) ++from;
            std::string circle;
            for (std::size_t k = from; k < stack.size(); ++k) {
              circle += "local." + stack[k].name + " -> ";
              state[stack[k].name] = Failed;
            }
            circle += "local." + dep;
            error(at(defs[dep]->pos) + "locals refer to each other in a circle: " + circle);
          } else if (state[dep] == New) {
            stack.push_back(frame(dep));
          }
          continue;
        }
        Frame done = std::move(stack.back());
        stack.pop_back();
        if (state[done.name] == Failed) continue;
        bool blocked = false;
        for (const auto& dep : done.deps)
          blocked = blocked || (defs.count(dep) && state[dep] == Failed);
        if (blocked) {
          state[done.name] = Failed;
          continue;
        }
        try {
          json v = ev_.eval(*defs[done.name]->expr, scope_);
          // Each local can wrap the one before (`b = [local.a]`): without a cap a long
          // chain nests a value deeper than anything reading it could recurse.
          if (too_deep(v, 0))
            throw EvalError{defs[done.name]->expr->pos,
                            "local \"" + done.name + "\" is nested more than " +
                                std::to_string(kMaxValueDepth) + " levels deep"};
          values[done.name] = std::move(v);
          state[done.name] = Done;
        } catch (const EvalError& e) {
          error(describe(e));
          state[done.name] = Failed;
        }
      }
    }
  }
};

}  // namespace

std::vector<std::pair<std::string, std::string>> variables_from_environment(char** environ_list) {
  std::vector<std::pair<std::string, std::string>> out;
  constexpr std::string_view prefix = "NOMAD_VAR_";
  for (char** e = environ_list; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.substr(0, prefix.size()) != prefix) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == prefix.size()) continue;
    out.emplace_back(std::string(entry.substr(prefix.size(), eq - prefix.size())),
                     std::string(entry.substr(eq + 1)));
  }
  return out;
}

drover::Result<std::pair<std::string, std::string>> split_var_argument(std::string_view arg) {
  auto eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return drover::make_error("-var \"" + std::string(arg) + "\": expected name=value",
                              drover::Errc::Invalid);
  return std::pair{std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1))};
}

EvaluatedFile evaluate_file(std::string_view text, const VariableInputs& inputs,
                            const std::string& base_dir, int max_depth) {
  EvaluatedFile out;
  auto tree = parse_syntax(text, max_depth);
  if (!tree) {
    out.syntax_ok = false;
    out.errors.push_back(tree.message());
    return out;
  }
  out.body_evaluated = FileEvaluator(*tree, inputs, base_dir, out.errors).run(out.body);
  return out;
}

}  // namespace drover::jobspec::hcl
