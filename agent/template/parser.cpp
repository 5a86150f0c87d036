// The template parser: tokens (lexer.hpp) to a tree (ast.hpp), with Go's checks at parse time:
// undefined variables, unknown functions, unbalanced `end`/`else`, `break` outside `range`.
#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "template/ast.hpp"
#include "template/functions.hpp"
#include "template/lexer.hpp"
#include "template/template.hpp"

namespace drover::tmpl {

std::string_view needs_consul_or_vault(std::string_view f) {
  static const std::set<std::string, std::less<>> kConsul = {"key",
                                                             "keyExists",
                                                             "keyOrDefault",
                                                             "ls",
                                                             "safeLs",
                                                             "tree",
                                                             "safeTree",
                                                             "service",
                                                             "services",
                                                             "connect",
                                                             "node",
                                                             "nodes",
                                                             "datacenters",
                                                             "caRoots",
                                                             "caLeaf",
                                                             "partitions",
                                                             "peerings",
                                                             "exportedServices",
                                                             "importedServices"};
  static const std::set<std::string, std::less<>> kVault = {"secret", "secrets", "pkiCert"};
  if (kConsul.count(f)) return "Consul";
  if (kVault.count(f)) return "Vault";
  return {};
}

namespace {

class Parser {
 public:
  Parser(const std::string& name, std::string_view text, std::vector<Token> toks)
      : toks_(std::move(toks)) {
    tree_.name = name;
    tree_.source = std::string(text);
  }

  Result<Tree> run() {
    vars_ = {"$"};
    for (;;) {
      std::string stop;
      std::size_t stop_pos = 0;
      if (auto st = list(tree_.root, stop, stop_pos, /*top=*/true); !st) return st.error();
      if (stop.empty()) break;
      return fail(stop_pos, "unexpected {{" + stop + "}}");
    }
    return std::move(tree_);
  }

 private:
  Error fail(std::size_t pos, const std::string& msg) {
    return make_error(where(tree_.name, tree_.source, pos) + msg, Errc::Invalid);
  }
  const Token& peek(std::size_t ahead = 0) const {
    return toks_[std::min(k_ + ahead, toks_.size() - 1)];
  }
  const Token& next() { return toks_[std::min(k_++, toks_.size() - 1)]; }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::Eof:
        return "EOF";
      case Tok::Right:
        return "right delimiter";
      case Tok::String:
        return "\"" + t.value + "\"";
      default:
        return "\"" + t.value + "\"";
    }
  }

  Status expect_right(const char* context) {
    const Token& t = next();
    if (t.type != Tok::Right)
      return fail(t.pos, std::string("unexpected ") + describe(t) + " in " + context);
    return {};
  }

  // Nodes until `{{end}}`, `{{else}}` or the end of the text; `stop` says which ("" at EOF),
  // with the `{{` of it consumed and the keyword too.
  Status list(List& out, std::string& stop, std::size_t& stop_pos, bool top) {
    for (;;) {
      const Token& t = next();
      if (t.type == Tok::Eof) {
        stop.clear();
        stop_pos = t.pos;
        return {};
      }
      if (t.type == Tok::Text) {
        Node n;
        n.kind = Node::Kind::Text;
        n.text = t.value;
        n.pos = t.pos;
        out.push_back(std::move(n));
        continue;
      }
      // t is the left delimiter.
      const Token& w = peek();
      if (w.type == Tok::Keyword) {
        if (w.value == "end" || w.value == "else") {
          next();
          stop = w.value;
          stop_pos = w.pos;
          return {};
        }
        next();
        if (w.value == "if" || w.value == "with" || w.value == "range") {
          Node n;
          if (auto st = control(w, n); !st) return st;
          out.push_back(std::move(n));
        } else if (w.value == "define") {
          if (!top) return fail(w.pos, "define can only appear at the top level");
          if (auto st = define(w); !st) return st;
        } else if (w.value == "template" || w.value == "block") {
          Node n;
          if (auto st = template_call(w, n); !st) return st;
          out.push_back(std::move(n));
        } else {  // break, continue
          if (range_depth_ == 0) return fail(w.pos, "{{" + w.value + "}} outside {{range}}");
          if (auto st = expect_right(w.value.c_str()); !st) return st;
          Node n;
          n.kind = w.value == "break" ? Node::Kind::Break : Node::Kind::Continue;
          n.pos = w.pos;
          out.push_back(std::move(n));
        }
        continue;
      }
      Node n;
      n.kind = Node::Kind::Action;
      n.pos = w.pos;
      auto p = pipeline("command", Tok::Right, /*range=*/false);
      if (!p) return p.error();
      n.pipe = std::move(*p);
      next();  // the right delimiter
      out.push_back(std::move(n));
    }
  }

  // if / with / range, after the keyword; an `else if` / `else with` shares the outer `end`.
  Status control(const Token& kw, Node& n) {
    Nesting guard(this);
    if (nesting_ > kMaxNesting) return too_deep(kw.pos);
    const std::size_t mark = vars_.size();
    n.kind = kw.value == "if"     ? Node::Kind::If
             : kw.value == "with" ? Node::Kind::With
                                  : Node::Kind::Range;
    n.pos = kw.pos;
    auto p = pipeline(kw.value.c_str(), Tok::Right, n.kind == Node::Kind::Range);
    if (!p) return p.error();
    n.pipe = std::move(*p);
    next();
    n.body = std::make_shared<List>();
    std::string stop;
    std::size_t stop_pos = 0;
    if (n.kind == Node::Kind::Range) ++range_depth_;
    auto st = list(*n.body, stop, stop_pos, false);
    if (n.kind == Node::Kind::Range) --range_depth_;
    if (!st) return st;
    if (stop.empty()) return fail(kw.pos, "unexpected EOF: {{" + kw.value + "}} has no {{end}}");
    if (stop == "else") {
      n.else_body = std::make_shared<List>();
      const Token& t = peek();
      if (t.type == Tok::Keyword && (t.value == "if" || t.value == "with") &&
          n.kind != Node::Kind::Range) {
        next();
        Node nested;
        if (auto st2 = control(t, nested); !st2) return st2;
        n.else_body->push_back(std::move(nested));
        vars_.resize(mark);
        return {};
      }
      if (auto st2 = expect_right("else"); !st2) return st2;
      if (auto st2 = list(*n.else_body, stop, stop_pos, false); !st2) return st2;
      if (stop == "else") return fail(stop_pos, "expected end; found {{else}}");
      if (stop.empty()) return fail(kw.pos, "unexpected EOF: {{" + kw.value + "}} has no {{end}}");
    }
    if (auto st2 = expect_right("end"); !st2) return st2;
    vars_.resize(mark);
    return {};
  }

  Result<std::string> template_name(const Token& kw) {
    const Token& t = next();
    if (t.type != Tok::String)
      return fail(t.pos, "unexpected " + describe(t) + " in " + kw.value + " clause");
    return t.value;
  }

  Status define(const Token& kw) {
    auto name = template_name(kw);
    if (!name) return name.error();
    if (auto st = expect_right("define clause"); !st) return st;
    return named_body(kw, *name);
  }

  // The body of {{define}} or {{block}} (`kw`) up to its {{end}}, kept as the template `name`;
  // inside it only `$` is a variable.
  Status named_body(const Token& kw, const std::string& name) {
    auto saved = std::exchange(vars_, std::vector<std::string>{"$"});
    auto body = std::make_shared<List>();
    std::string stop;
    std::size_t stop_pos = 0;
    if (auto st = list(*body, stop, stop_pos, false); !st) return st;
    if (stop != "end") return fail(kw.pos, "unexpected EOF: {{" + kw.value + "}} has no {{end}}");
    if (auto st = expect_right("end"); !st) return st;
    vars_ = std::move(saved);
    tree_.defined[name] = std::move(body);
    return {};
  }

  Status template_call(const Token& kw, Node& n) {
    auto name = template_name(kw);
    if (!name) return name.error();
    n.kind = Node::Kind::Template;
    n.text = *name;
    n.pos = kw.pos;
    if (peek().type != Tok::Right) {
      auto p = pipeline(kw.value.c_str(), Tok::Right, false);
      if (!p) return p.error();
      n.pipe = std::move(*p);
    } else if (kw.value == "block") {
      return fail(peek().pos, "missing value for block clause");
    }
    next();
    if (kw.value == "block") return named_body(kw, *name);
    return {};
  }

  // A pipeline up to (not past) `end`: optional declarations, then commands joined by '|'.
  Result<std::shared_ptr<Pipe>> pipeline(const char* context, Tok end, bool range) {
    auto p = std::make_shared<Pipe>();
    p->pos = peek().pos;
    if (peek().type == Tok::Variable) {
      const Token& a = peek();
      const Token& b = peek(1);
      if (b.type == Tok::Declare || b.type == Tok::Assign) {
        k_ += 2;
        p->assign = b.type == Tok::Assign;
        if (p->assign && std::find(vars_.begin(), vars_.end(), a.value) == vars_.end())
          return fail(a.pos, "undefined variable \"" + a.value + "\"");
        p->decl.push_back(a.value);
      } else if (range && b.type == Tok::Comma && peek(2).type == Tok::Variable &&
                 (peek(3).type == Tok::Declare || peek(3).type == Tok::Assign)) {
        p->decl = {a.value, peek(2).value};
        p->assign = peek(3).type == Tok::Assign;
        k_ += 4;
      } else if (b.type == Tok::Comma) {
        return fail(b.pos, std::string("too many declarations in ") + context);
      }
    }
    for (;;) {
      const Token& t = peek();
      if (t.type == end) break;
      if (t.type == Tok::Pipe) {
        if (p->cmds.empty()) return fail(t.pos, "missing command before '|'");
        next();
        continue;
      }
      if (t.type == Tok::Eof || t.type == Tok::Right || t.type == Tok::RParen)
        return fail(t.pos, "unexpected " + describe(t) + " in " + context);
      if (!p->cmds.empty() && toks_[k_ - 1].type != Tok::Pipe)
        return fail(t.pos, "unexpected " + describe(t) + " in " + context);
      auto c = command(context);
      if (!c) return c.error();
      p->cmds.push_back(std::move(*c));
    }
    if (p->cmds.empty()) return fail(peek().pos, std::string("missing value for ") + context);
    if (toks_[k_ - 1].type == Tok::Pipe) return fail(peek().pos, "missing command after '|'");
    // Declared after the pipeline, as Go does: `$x := $x` reads the outer one.
    if (!p->assign)
      for (const auto& v : p->decl) vars_.push_back(v);
    return p;
  }

  Result<Command> command(const char* context) {
    Command c;
    c.pos = peek().pos;
    for (;;) {
      const Token& t = peek();
      if (t.type == Tok::Right || t.type == Tok::RParen || t.type == Tok::Pipe) break;
      if (!c.args.empty() && !t.space_before)
        return fail(t.pos, "missing space before " + describe(t));
      auto a = operand(context);
      if (!a) return a.error();
      c.args.push_back(std::move(*a));
    }
    if (c.args.empty()) return fail(peek().pos, "empty command");
    return c;
  }

  void chain(Arg& a) {
    while (peek().type == Tok::Field && !peek().space_before) a.fields.push_back(next().value);
  }

  Result<Arg> operand(const char* context) {
    const Token& t = next();
    Arg a;
    a.pos = t.pos;
    switch (t.type) {
      case Tok::Identifier: {
        if (auto which = needs_consul_or_vault(t.value); !which.empty())
          return fail(t.pos, "function \"" + t.value + "\" needs " + std::string(which) +
                                 ", which drover does not connect to");
        // consul-template's go-sockaddr address language: a job gets its addresses from its
        // network instead (docs/templates.md).
        if (t.value == "sockaddr")
          return fail(t.pos, "function \"sockaddr\" (go-sockaddr's address templates) is not "
                             "supported by drover: use the alloc's addresses, {{ env \"NOMAD_IP_<label>\" }} "
                             "or ${attr.unique.network.ip-address}");
        if (!find_function(t.value) && !is_lazy_builtin(t.value))
          return fail(t.pos, "function \"" + t.value + "\" not defined");
        a.kind = Arg::Kind::Identifier;
        a.name = t.value;
        if (std::find(tree_.functions.begin(), tree_.functions.end(), t.value) ==
            tree_.functions.end())
          tree_.functions.push_back(t.value);
        break;
      }
      case Tok::Dot:
        a.kind = Arg::Kind::Dot;
        break;
      case Tok::Field:
        a.kind = Arg::Kind::Field;
        a.fields.push_back(t.value);
        chain(a);
        break;
      case Tok::Variable:
        if (std::find(vars_.begin(), vars_.end(), t.value) == vars_.end())
          return fail(t.pos, "undefined variable \"" + t.value + "\"");
        a.kind = Arg::Kind::Variable;
        a.name = t.value;
        chain(a);
        break;
      case Tok::Nil:
        a.literal = nullptr;
        break;
      case Tok::Bool:
        a.literal = t.value == "true";
        break;
      case Tok::String:
        a.literal = t.value;
        break;
      case Tok::Char: {
        // The code point of the (UTF-8) character.
        const auto* s = reinterpret_cast<const unsigned char*>(t.value.data());
        unsigned cp = s[0];
        int extra = cp >= 0xF0 ? 3 : cp >= 0xE0 ? 2 : cp >= 0xC0 ? 1 : 0;
        if (extra) cp &= (0x3F >> extra);
        for (int i = 1; i <= extra && i < static_cast<int>(t.value.size()); ++i)
          cp = (cp << 6) | (s[i] & 0x3F);
        a.literal = static_cast<int64_t>(cp);
        break;
      }
      case Tok::Number: {
        auto n = number(t);
        if (!n) return n.error();
        a.literal = *n;
        break;
      }
      case Tok::LParen: {
        Nesting guard(this);
        if (nesting_ > kMaxNesting) return too_deep(t.pos);
        auto p = pipeline("parenthesized pipeline", Tok::RParen, false);
        if (!p) return p.error();
        next();
        a.kind = Arg::Kind::Pipe;
        a.pipe = std::move(*p);
        chain(a);
        break;
      }
      default:
        return fail(t.pos, "unexpected " + describe(t) + " in " + context);
    }
    std::size_t end = toks_[k_ - 1].pos + (toks_[k_ - 1].type == Tok::RParen ? 1 : 0);
    if (toks_[k_ - 1].type != Tok::RParen) {
      // The source text of the operand: up to the next token (or the right delimiter).
      end = peek().pos;
    }
    a.text = tree_.source.substr(a.pos, end > a.pos ? end - a.pos : 0);
    while (!a.text.empty() && (a.text.back() == ' ' || a.text.back() == '\t' ||
                               a.text.back() == '\n' || a.text.back() == '\r'))
      a.text.pop_back();
    return a;
  }

  Result<nlohmann::json> number(const Token& t) {
    std::string s;
    for (char c : t.value)
      if (c != '_') s += c;
    bool neg = !s.empty() && s[0] == '-';
    std::string body = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? s.substr(1) : s;
    int base = 10;
    std::string digits = body;
    if (body.size() > 1 && body[0] == '0') {
      char p = static_cast<char>(std::tolower(static_cast<unsigned char>(body[1])));
      if (p == 'x')
        base = 16, digits = body.substr(2);
      else if (p == 'o')
        base = 8, digits = body.substr(2);
      else if (p == 'b')
        base = 2, digits = body.substr(2);
      else if (body.find_first_of(".eE") == std::string::npos)
        base = 8, digits = body.substr(1);
    }
    if (!digits.empty() && (base != 10 || body.find_first_of(".eE") == std::string::npos)) {
      errno = 0;
      char* endp = nullptr;
      unsigned long long v = std::strtoull(digits.c_str(), &endp, base);
      if (*endp == '\0' && errno == 0) {
        if (neg) {
          if (v > 9223372036854775808ULL) return fail(t.pos, "integer overflow: " + t.value);
          return nlohmann::json(static_cast<int64_t>(0 - v));
        }
        if (v > static_cast<unsigned long long>(INT64_MAX))
          return nlohmann::json(static_cast<uint64_t>(v));
        return nlohmann::json(static_cast<int64_t>(v));
      }
    }
    if (base == 10) {
      errno = 0;
      char* endp = nullptr;
      double d = std::strtod(s.c_str(), &endp);
      if (*endp == '\0' && !s.empty() && errno == 0) return nlohmann::json(d);
    }
    return fail(t.pos, "bad number syntax: \"" + t.value + "\"");
  }

  // Nesting (control structures and parentheses together) is bounded: the parser and the
  // evaluator recurse on it, and a job's template must not exhaust the agent's stack.
  static constexpr int kMaxNesting = 100;
  struct Nesting {
    explicit Nesting(Parser* p) : p_(p) { ++p_->nesting_; }
    ~Nesting() { --p_->nesting_; }
    Parser* p_;
  };
  Error too_deep(std::size_t pos) {
    return fail(pos, "nested more than " + std::to_string(kMaxNesting) + " deep");
  }
  int nesting_ = 0;

  std::vector<Token> toks_;
  std::size_t k_ = 0;
  Tree tree_;
  std::vector<std::string> vars_;
  int range_depth_ = 0;
};

}  // namespace

Result<Template> Template::parse(const std::string& name, std::string_view text,
                                 const Options& options) {
  if (options.left_delim.empty() || options.right_delim.empty())
    return make_error("template: " + name + ": delimiters must not be empty", Errc::Invalid);
  auto toks = lex(name, text, options.left_delim, options.right_delim);
  if (!toks) return toks.error();
  auto tree = Parser(name, text, std::move(*toks)).run();
  if (!tree) return tree.error();
  Template t;
  t.tree_ = std::make_shared<const Tree>(std::move(*tree));
  t.options_ = options;
  return t;
}

const std::string& Template::name() const { return tree_->name; }
const std::vector<std::string>& Template::functions() const { return tree_->functions; }

}  // namespace drover::tmpl
