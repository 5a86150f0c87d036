// The template evaluator (template.hpp, render): walks the tree over JSON values with Go's
// text/template semantics: variables and their scopes, pipelines, if/with/range/else,
// break/continue, template calls, and the missing-key rule.
#include <algorithm>

#include "template/ast.hpp"
#include "template/functions.hpp"
#include "template/lexer.hpp"
#include "template/template.hpp"
#include "template/value.hpp"

namespace drover::tmpl {

using nlohmann::json;

namespace {
// Bounds that keep a hostile template from taking the agent down with it: template calls
// nest at most this deep (each is C++ stack), and the output stops at this size.
constexpr int kMaxDepth = 100;
// Every block entered (if, with, range bodies, template calls) counts towards this.
constexpr int kMaxWalkDepth = 1000;
constexpr std::size_t kMaxOutput = 64u << 20;
}  // namespace

class Evaluator {
 public:
  Evaluator(const Template& t, const RenderInput& in)
      : tree_(*t.tree_),
        in_(in),
        ctx_{in, deps_, t.options_.error_on_missing_key},
        missing_error_(t.options_.error_on_missing_key) {}

  Result<Rendered> run() {
    current_ = tree_.name;
    vars_.push_back({"$", in_.data});
    auto r = walk(tree_.root, in_.data);
    if (!r) return r.error();
    return Rendered{std::move(out_), std::move(deps_)};
  }

 private:
  enum class Flow { Normal, Break, Continue };
  struct Var {
    std::string name;
    json value;
  };

  Error fail(std::size_t pos, const std::string& at, const std::string& msg) {
    std::string s = where(tree_.name, tree_.source, pos) + "executing \"" + current_ + "\"";
    if (!at.empty()) s += " at <" + at + ">";
    return make_error(s + ": " + msg, Errc::Invalid);
  }

  Result<Flow> walk(const List& list, const json& dot) {
    struct Depth {
      int& d;
      explicit Depth(int& x) : d(++x) {}
      ~Depth() { --d; }
    } depth(walk_depth_);
    if (walk_depth_ > kMaxWalkDepth)
      return fail(list.empty() ? 0 : list.front().pos, "",
                  "exceeded maximum nesting depth (" + std::to_string(kMaxWalkDepth) + ")");
    for (const Node& n : list) {
      auto r = node(n, dot);
      if (!r) return r;
      if (*r != Flow::Normal) return r;
    }
    return Flow::Normal;
  }

  Result<Flow> node(const Node& n, const json& dot) {
    switch (n.kind) {
      case Node::Kind::Text:
        out_ += n.text;
        break;
      case Node::Kind::Action: {
        auto v = pipe(*n.pipe, dot);
        if (!v) return v.error();
        if (n.pipe->decl.empty()) out_ += format_value(*v);
        break;
      }
      case Node::Kind::If:
      case Node::Kind::With: {
        const std::size_t mark = vars_.size();
        auto v = pipe(*n.pipe, dot);
        if (!v) return v.error();
        Result<Flow> r = Flow::Normal;
        if (truth(*v))
          r = walk(*n.body, n.kind == Node::Kind::With ? *v : dot);
        else if (n.else_body)
          r = walk(*n.else_body, dot);
        vars_.resize(mark);
        return r;
      }
      case Node::Kind::Range: {
        auto r = range(n, dot);
        if (!r) return r.error();
        break;
      }
      case Node::Kind::Template: {
        auto it = tree_.defined.find(n.text);
        if (it == tree_.defined.end())
          return fail(
              n.pos, "",
              "no template \"" + n.text + "\" associated with template \"" + tree_.name + "\"");
        json next_dot = nullptr;
        if (n.pipe) {
          auto v = pipe(*n.pipe, dot);
          if (!v) return v.error();
          next_dot = std::move(*v);
        }
        if (depth_ >= kMaxDepth)
          return fail(n.pos, "",
                      "exceeded maximum template depth (" + std::to_string(kMaxDepth) + ")");
        auto saved_vars = std::exchange(vars_, std::vector<Var>{{"$", next_dot}});
        auto saved_name = std::exchange(current_, n.text);
        ++depth_;
        auto r = walk(*it->second, next_dot);
        --depth_;
        current_ = std::move(saved_name);
        vars_ = std::move(saved_vars);
        if (!r) return r;
        break;
      }
      case Node::Kind::Break:
        return Flow::Break;
      case Node::Kind::Continue:
        return Flow::Continue;
    }
    if (out_.size() > kMaxOutput)
      return fail(n.pos, "", "output larger than " + std::to_string(kMaxOutput >> 20) + " MiB");
    return Flow::Normal;
  }

  Status range(const Node& n, const json& dot) {
    const std::size_t mark = vars_.size();
    auto v = pipe(*n.pipe, dot);
    if (!v) return v.error();
    const auto& decl = n.pipe->decl;
    // The pipeline's declared variables are the top ones: index/key first when there are two.
    auto one = [&](const json& key, const json& elem) -> Result<Flow> {
      if (decl.size() == 1) vars_[vars_.size() - 1].value = elem;
      if (decl.size() == 2) {
        vars_[vars_.size() - 2].value = key;
        vars_[vars_.size() - 1].value = elem;
      }
      const std::size_t inner = vars_.size();
      auto r = walk(*n.body, elem);
      vars_.resize(inner);
      return r;
    };
    bool any = false;
    Status st;
    auto run = [&](const json& key, const json& elem) -> bool {
      any = true;
      auto r = one(key, elem);
      if (!r) {
        st = r.error();
        return false;
      }
      return *r != Flow::Break;
    };
    int64_t count = 0;
    if (v->is_array()) {
      for (std::size_t i = 0; i < v->size(); ++i)
        if (!run(json(static_cast<int64_t>(i)), (*v)[i])) break;
    } else if (v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it)
        if (!run(json(it.key()), it.value())) break;
    } else if (v->is_number_integer() && to_int(*v, count)) {
      if (decl.size() == 2)
        return fail(n.pos, "", "can't use two variables when ranging over an integer");
      for (int64_t i = 0; i < count; ++i)
        if (!run(json(i), json(i))) break;
    } else if (!v->is_null() && !is_no_value(*v)) {
      return fail(n.pos, "", "range can't iterate over " + format_value(*v));
    }
    if (!st) return st;
    if (!any && n.else_body) {
      auto r = walk(*n.else_body, dot);
      if (!r) return r.error();
    }
    vars_.resize(mark);
    return {};
  }

  Result<json> pipe(const Pipe& p, const json& dot) {
    json value = no_value();
    bool have = false;
    for (const Command& c : p.cmds) {
      auto v = command(c, dot, have ? &value : nullptr);
      if (!v) return v;
      value = std::move(*v);
      have = true;
    }
    for (const auto& name : p.decl) {
      if (p.assign) {
        auto it = std::find_if(vars_.rbegin(), vars_.rend(),
                               [&](const Var& x) { return x.name == name; });
        if (it == vars_.rend()) return fail(p.pos, "", "undefined variable: " + name);
        it->value = value;
      } else {
        vars_.push_back({name, value});
      }
    }
    return value;
  }

  Result<json> command(const Command& c, const json& dot, const json* final) {
    const Arg& first = c.args.front();
    if (first.kind == Arg::Kind::Identifier) return call(first, c, 1, dot, final);
    if (c.args.size() > 1 || final)
      return fail(first.pos, first.text, "can't give argument to non-function " + first.text);
    return arg(first, dot);
  }

  Result<json> arg(const Arg& a, const json& dot) {
    switch (a.kind) {
      case Arg::Kind::Dot:
        return dot;
      case Arg::Kind::Literal:
        return a.literal;
      case Arg::Kind::Field:
        return fields(dot, a);
      case Arg::Kind::Variable: {
        auto it = std::find_if(vars_.rbegin(), vars_.rend(),
                               [&](const Var& x) { return x.name == a.name; });
        if (it == vars_.rend()) return fail(a.pos, a.text, "undefined variable: " + a.name);
        return fields(it->value, a);
      }
      case Arg::Kind::Identifier: {
        Command c;
        c.args.push_back(a);
        return call(a, c, 1, dot, nullptr);
      }
      case Arg::Kind::Pipe: {
        const std::size_t mark = vars_.size();
        auto v = pipe(*a.pipe, dot);
        vars_.resize(mark);
        if (!v) return v;
        return fields(*v, a);
      }
    }
    return no_value();
  }

  Result<json> fields(json v, const Arg& a) {
    for (const auto& f : a.fields) {
      if (v.is_object()) {
        auto it = v.find(f);
        if (it == v.end()) {
          if (missing_error_) return fail(a.pos, a.text, "map has no entry for key \"" + f + "\"");
          v = no_value();
          continue;
        }
        json next = *it;
        v = std::move(next);
      } else if (v.is_null() || is_no_value(v)) {
        if (missing_error_) return fail(a.pos, a.text, "nil data; no entry for key \"" + f + "\"");
        v = no_value();
      } else {
        return fail(a.pos, a.text, "can't evaluate field " + f + " in type " + go_type(v));
      }
    }
    return v;
  }

  Result<json> call(const Arg& fn, const Command& c, std::size_t from, const json& dot,
                    const json* final) {
    const std::string& name = fn.name;
    if (is_lazy_builtin(name)) {
      // and / or: Go evaluates arguments only until the answer is known.
      const bool is_and = name == "and";
      const std::size_t n = c.args.size() - from + (final ? 1 : 0);
      if (n < 1)
        return fail(fn.pos, fn.text,
                    "wrong number of args for " + name + ": want at least 1 got 0");
      json v;
      for (std::size_t i = from; i < c.args.size(); ++i) {
        auto r = arg(c.args[i], dot);
        if (!r) return r;
        v = std::move(*r);
        if (truth(v) != is_and) return v;
      }
      if (final) v = *final;
      return v;
    }
    Function f = find_function(name);
    if (!f) return fail(fn.pos, fn.text, "\"" + name + "\" is not a defined function");
    std::vector<json> args;
    for (std::size_t i = from; i < c.args.size(); ++i) {
      auto r = arg(c.args[i], dot);
      if (!r) return r;
      args.push_back(std::move(*r));
    }
    if (final) args.push_back(*final);
    auto r = f(ctx_, args);
    if (!r) {
      auto e = fail(fn.pos, fn.text, "error calling " + name + ": " + r.message());
      // NotFound (a variable not there yet) stays NotFound: the hook waits for it.
      if (r.code() == Errc::NotFound) e.code = Errc::NotFound;
      return e;
    }
    return r;
  }

  const Tree& tree_;
  const RenderInput& in_;
  std::set<std::string> deps_;
  CallContext ctx_;
  bool missing_error_;
  std::vector<Var> vars_;
  std::string out_;
  std::string current_;
  int depth_ = 0;
  int walk_depth_ = 0;
};

Result<Rendered> render(const Template& t, const RenderInput& in) {
  if (!t.tree_) return make_error("template: not parsed", Errc::Invalid);
  return Evaluator(t, in).run();
}

}  // namespace drover::tmpl
