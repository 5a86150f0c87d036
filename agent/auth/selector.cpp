// The bexpr subset of binding-rule selectors; see selector.hpp.
#include "auth/selector.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>

namespace drover::auth {

struct Selector::Node {
  enum class Op { all_of, any_of, negate, equal, not_equal, in, not_in, empty, not_empty, match, not_match };
  Op op;
  std::vector<std::shared_ptr<const Node>> children;  // all_of, any_of, negate
  std::string field;                                  // "value.x" or "list.x"
  std::string literal;
  std::shared_ptr<const std::regex> pattern;          // match, not_match
};

namespace {

using Node = Selector::Node;
using Op = Node::Op;

struct Token {
  enum class Kind { word, quoted, lparen, rparen, eq, ne, end } kind;
  std::string text;
  std::size_t at = 0;
};

Result<std::vector<Token>> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i == s.size()) break;
    const std::size_t at = i;
    const char c = s[i];
    if (c == '(' || c == ')') {
      out.push_back({c == '(' ? Token::Kind::lparen : Token::Kind::rparen, std::string(1, c), at});
      ++i;
    } else if ((c == '=' || c == '!') && i + 1 < s.size() && s[i + 1] == '=') {
      out.push_back({c == '=' ? Token::Kind::eq : Token::Kind::ne, std::string(s.substr(i, 2)), at});
      i += 2;
    } else if (c == '"' || c == '`') {
      std::string text;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == c) {
          closed = true;
          ++i;
          break;
        }
        if (c == '"' && s[i] == '\\' && i + 1 < s.size()) {
          text += s[i + 1];
          i += 2;
          continue;
        }
        text += s[i++];
      }
      if (!closed)
        return make_error("selector: the string at offset " + std::to_string(at) + " is not closed",
                          Errc::Invalid);
      out.push_back({Token::Kind::quoted, std::move(text), at});
    } else {
      std::size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '(' &&
             s[j] != ')' && s[j] != '"' && s[j] != '`' && !(s[j] == '=' || (s[j] == '!' && j + 1 < s.size() && s[j + 1] == '=')))
        ++j;
      if (j == i)
        return make_error("selector: unexpected '" + std::string(1, c) + "' at offset " + std::to_string(at),
                          Errc::Invalid);
      out.push_back({Token::Kind::word, std::string(s.substr(i, j - i)), at});
      i = j;
    }
  }
  out.push_back({Token::Kind::end, "", s.size()});
  return out;
}

bool is_field(const std::string& w) {
  auto ok_name = [](std::string_view n) {
    return !n.empty() && std::all_of(n.begin(), n.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
    });
  };
  for (std::string_view p : {"value.", "list."})
    if (w.rfind(p, 0) == 0 && ok_name(std::string_view(w).substr(p.size()))) return true;
  return false;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> t) : t_(std::move(t)) {}

  Result<std::shared_ptr<const Node>> whole() {
    auto n = any_of();
    if (!n) return n;
    if (peek().kind != Token::Kind::end) return expected("'and', 'or' or the end");
    return n;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const { return t_[std::min(pos_ + ahead, t_.size() - 1)]; }
  bool word(std::string_view w, std::size_t ahead = 0) const {
    return peek(ahead).kind == Token::Kind::word && peek(ahead).text == w;
  }
  Error expected(const std::string& what) const {
    const auto& t = peek();
    return make_error("selector: expected " + what + " at offset " + std::to_string(t.at) +
                          (t.kind == Token::Kind::end ? " (the end)" : ", found \"" + t.text + "\""),
                      Errc::Invalid);
  }

  Result<std::shared_ptr<const Node>> any_of() { return chain("or", Op::any_of, &Parser::all_of); }
  Result<std::shared_ptr<const Node>> all_of() { return chain("and", Op::all_of, &Parser::unary); }

  Result<std::shared_ptr<const Node>> chain(std::string_view joiner, Op op,
                                            Result<std::shared_ptr<const Node>> (Parser::*next)()) {
    auto first = (this->*next)();
    if (!first || !word(joiner)) return first;
    auto n = std::make_shared<Node>();
    n->op = op;
    n->children.push_back(first.value());
    while (word(joiner)) {
      ++pos_;
      auto more = (this->*next)();
      if (!more) return more;
      n->children.push_back(more.value());
    }
    return std::shared_ptr<const Node>(n);
  }

  Result<std::shared_ptr<const Node>> unary() {
    if (word("not") && !word("in", 1) && !word("contains", 1) && !word("matches", 1)) {
      ++pos_;
      auto inner = unary();
      if (!inner) return inner;
      auto n = std::make_shared<Node>();
      n->op = Op::negate;
      n->children.push_back(inner.value());
      return std::shared_ptr<const Node>(n);
    }
    if (peek().kind == Token::Kind::lparen) {
      ++pos_;
      auto inner = any_of();
      if (!inner) return inner;
      if (peek().kind != Token::Kind::rparen) return expected("')'");
      ++pos_;
      return inner;
    }
    return comparison();
  }

  std::optional<std::string> literal() {
    const auto& t = peek();
    if (t.kind == Token::Kind::quoted || (t.kind == Token::Kind::word && !is_field(t.text))) {
      ++pos_;
      return t.text;
    }
    return std::nullopt;
  }

  Result<std::shared_ptr<const Node>> comparison() {
    auto n = std::make_shared<Node>();
    // <literal> [not] in <field>
    if (peek().kind == Token::Kind::quoted || (peek().kind == Token::Kind::word && !is_field(peek().text))) {
      n->literal = *literal();
      bool negated = false;
      if (word("not")) {
        negated = true;
        ++pos_;
      }
      if (!word("in")) return expected("'in' or 'not in' after a value");
      ++pos_;
      if (peek().kind != Token::Kind::word || !is_field(peek().text))
        return expected("a field (value.NAME or list.NAME)");
      n->field = peek().text;
      ++pos_;
      n->op = negated ? Op::not_in : Op::in;
      return std::shared_ptr<const Node>(n);
    }
    if (peek().kind != Token::Kind::word) return expected("a field (value.NAME or list.NAME) or a value");
    n->field = peek().text;
    ++pos_;
    const auto& t = peek();
    bool negated = false;
    if (t.kind == Token::Kind::eq || t.kind == Token::Kind::ne) {
      negated = t.kind == Token::Kind::ne;
      ++pos_;
      auto v = literal();
      if (!v) return expected("a value after '" + t.text + "'");
      n->op = negated ? Op::not_equal : Op::equal;
      n->literal = *v;
      return std::shared_ptr<const Node>(n);
    }
    if (word("is")) {
      ++pos_;
      if (word("not")) {
        negated = true;
        ++pos_;
      }
      if (!word("empty")) return expected("'empty'");
      ++pos_;
      n->op = negated ? Op::not_empty : Op::empty;
      return std::shared_ptr<const Node>(n);
    }
    if (word("not")) {
      negated = true;
      ++pos_;
    }
    if (word("contains") || word("matches")) {
      const bool contains = word("contains");
      ++pos_;
      auto v = literal();
      if (!v) return expected(std::string("a value after '") + (contains ? "contains" : "matches") + "'");
      n->literal = *v;
      if (contains) {
        n->op = negated ? Op::not_in : Op::in;
      } else {
        try {
          n->pattern = std::make_shared<const std::regex>(*v, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          return make_error("selector: \"" + *v + "\" is not a regular expression: " + e.what(),
                            Errc::Invalid);
        }
        n->op = negated ? Op::not_match : Op::match;
      }
      return std::shared_ptr<const Node>(n);
    }
    return expected("'==', '!=', 'is', 'contains' or 'matches' after " + n->field);
  }

  std::vector<Token> t_;
  std::size_t pos_ = 0;
};

bool evaluate(const Node& n, const SelectorInput& in) {
  const std::string* value = nullptr;
  const std::vector<std::string>* list = nullptr;
  if (!n.field.empty()) {
    if (n.field.rfind("list.", 0) == 0) {
      auto it = in.lists.find(n.field.substr(5));
      if (it != in.lists.end()) list = &it->second;
    } else {
      auto it = in.values.find(n.field.substr(6));
      if (it != in.values.end()) value = &it->second;
    }
    if (!value && !list) return false;  // no such field: bexpr's error, no match
  }
  switch (n.op) {
    case Op::all_of:
      return std::all_of(n.children.begin(), n.children.end(), [&](const auto& c) { return evaluate(*c, in); });
    case Op::any_of:
      return std::any_of(n.children.begin(), n.children.end(), [&](const auto& c) { return evaluate(*c, in); });
    case Op::negate:
      return !evaluate(*n.children.front(), in);
    case Op::equal:
    case Op::not_equal:
      if (!value) return false;  // a list is equal to no value
      return (*value == n.literal) == (n.op == Op::equal);
    case Op::in:
    case Op::not_in: {
      // A list holds the literal as an item; a string holds it as a substring (bexpr's).
      const bool holds = list ? std::find(list->begin(), list->end(), n.literal) != list->end()
                              : value->find(n.literal) != std::string::npos;
      return holds == (n.op == Op::in);
    }
    case Op::empty:
    case Op::not_empty:
      return (value ? value->empty() : list->empty()) == (n.op == Op::empty);
    case Op::match:
    case Op::not_match:
      if (!value) return false;
      return std::regex_search(*value, *n.pattern) == (n.op == Op::match);
  }
  return false;
}

}  // namespace

Result<Selector> Selector::parse(std::string_view text) {
  Selector s;
  if (std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
    return s;
  auto tokens = tokenize(text);
  if (!tokens) return tokens.error();
  Parser p(std::move(tokens.value()));
  auto root = p.whole();
  if (!root) return root.error();
  s.root_ = root.value();
  return s;
}

bool Selector::matches(const SelectorInput& in) const { return !root_ || evaluate(*root_, in); }

}  // namespace drover::auth
