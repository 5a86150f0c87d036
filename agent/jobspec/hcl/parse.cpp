// The HCL2 reader's bodies and expressions (parser.hpp): attributes, labelled blocks, and
// expressions with HCL's operator precedence (hclsyntax spec, "Operations"): `||` < `&&` <
// `==` `!=` < `<` `<=` `>` `>=` < `+` `-` < `*` `/` `%` < unary `!` `-` < traversals.
#include <charconv>
#include <cstdint>
#include <string>

#include "jobspec/hcl/parser.hpp"

namespace drover::jobspec::hcl {

namespace detail {

namespace {

// A tree deeper than this would make evaluation (and freeing it) recurse too far; nothing a
// person writes comes close.
constexpr int kMaxExpressionHeight = 1000;

}  // namespace

std::shared_ptr<Expr> make_expr(ExprKind kind, Pos pos) {
  auto e = std::make_shared<Expr>();
  e->kind = kind;
  e->pos = pos;
  return e;
}

namespace {

ExprPtr sealed(const std::shared_ptr<Expr>& e, const Parser& p) {
  int h = 0;
  for (const auto* child : {&e->a, &e->b, &e->c, &e->key, &e->cond})
    if (*child) h = std::max(h, (*child)->height);
  for (const auto& item : e->items) h = std::max(h, item->height);
  for (const auto& [k, v] : e->pairs) h = std::max({h, k->height, v->height});
  e->height = h + 1;
  if (e->height > kMaxExpressionHeight)
    p.fail(e->pos, "expression is nested more than " + std::to_string(kMaxExpressionHeight) +
                       " operations deep");
  return e;
}

}  // namespace

void Parser::fail(Pos at, std::string message) const { throw SyntaxError{at, std::move(message)}; }

void Parser::advance(std::size_t n) {
  for (std::size_t k = 0; k < n && i_ < s_.size(); ++k, ++i_) {
    if (s_[i_] == '\n') {
      ++pos_.line;
      pos_.column = 1;
    } else if ((static_cast<unsigned char>(s_[i_]) & 0xC0) != 0x80) {
      ++pos_.column;  // columns count characters, not UTF-8 continuation bytes
    }
  }
}

std::string Parser::describe_here() const {
  if (eof()) return "end of file";
  char c = peek();
  if (c == '\n') return "end of line";
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F)
    return "a byte " + std::to_string(static_cast<unsigned char>(c));
  return std::string("'") + c + "'";
}

// Spaces, tabs, comments; newlines too when `newlines`. A `#` or `//` comment stops before
// its newline, which may end an attribute.
void Parser::skip(bool newlines) {
  while (!eof()) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\r') {
      advance();
    } else if (c == '\n' && newlines) {
      advance();
    } else if (c == '#' || (c == '/' && peek(1) == '/')) {
      while (!eof() && peek() != '\n') advance();
    } else if (c == '/' && peek(1) == '*') {
      Pos start = pos_;
      advance(2);
      while (!eof() && !(peek() == '*' && peek(1) == '/')) advance();
      if (eof()) fail(start, "comment /* is never closed");
      advance(2);
    } else {
      break;
    }
  }
}

void Parser::check_depth(int depth) const {
  if (depth > max_depth_) fail("nested more than " + std::to_string(max_depth_) + " levels deep");
}

std::string Parser::identifier() {
  if (!is_id_start(peek())) fail("expected a name, found " + describe_here());
  std::size_t start = i_;
  while (is_id_char(peek())) advance();
  return std::string(s_.substr(start, i_ - start));
}

bool Parser::at_keyword(std::string_view word) const {
  return s_.substr(i_, word.size()) == word && !is_id_char(peek(word.size()));
}

SyntaxBody Parser::file() {
  if (s_.substr(0, 3) == "\xEF\xBB\xBF") advance(3);
  SyntaxBody body;
  parse_body(body, /*top=*/true, 0);
  return body;
}

ExprPtr Parser::lone_expression() {
  skip(true);
  ExprPtr e = expression(0);
  skip(true);
  if (!eof()) fail("unexpected " + describe_here() + " after the value");
  return e;
}

// After an attribute or a block: a newline, the end of the file, or the `}` of a one-line
// block (`a { b = 1 }`).
void Parser::end_of_item(bool top, const char* what) {
  skip(false);
  if (eof() || peek() == '\n') return;
  if (!top && peek() == '}') return;
  fail(std::string("expected a newline after ") + what + ", found " + describe_here());
}

void Parser::parse_body(SyntaxBody& body, bool top, int depth) {
  check_depth(depth);
  while (true) {
    skip(true);
    if (eof()) return;
    if (peek() == '}') {
      if (top) fail("unexpected '}' (no block is open)");
      return;
    }
    Pos at = pos_;
    std::string name = identifier();
    skip(false);
    if (peek() == '=' && peek(1) != '=') {
      advance();
      for (const auto& a : body.attributes)
        if (a.name == name)
          fail(at,
               "attribute \"" + name + "\" is already set at line " + std::to_string(a.pos.line));
      newlines_ignored_ = 0;
      skip(false);
      if (eof() || peek() == '\n') fail("expected a value after '='");
      ExprPtr value = expression(depth + 1);
      body.attributes.push_back({std::move(name), std::move(value), at});
      end_of_item(top, "an attribute");
      continue;
    }
    SyntaxBlock block;
    block.type = std::move(name);
    block.pos = at;
    while (peek() != '{') {
      if (peek() == '"') {
        block.labels.push_back(literal_string());
      } else if (is_id_start(peek())) {
        block.labels.push_back(identifier());
      } else if (peek() == ':') {
        fail("expected '=' after \"" + block.type + "\" (HCL attributes use '=', not ':')");
      } else {
        fail("expected '=' or a block's '{' after \"" + block.type + "\", found " +
             describe_here());
      }
      skip(false);
    }
    advance();  // {
    parse_body(block.body, false, depth + 1);
    if (eof())
      fail(at, "block \"" + block.type + "\" opened at line " + std::to_string(at.line) +
                   " is never closed (expected '}')");
    advance();  // }
    body.blocks.push_back(std::move(block));
    end_of_item(top, "a block");
  }
}

ExprPtr Parser::expression(int depth) {
  check_depth(depth);
  skip_space();
  Pos at = pos_;
  ExprPtr cond = binary(1, depth);
  skip_space();
  if (peek() != '?') return cond;
  advance();
  auto e = make_expr(ExprKind::Conditional, at);
  e->a = cond;
  ++newlines_ignored_;  // `a ? b : c` may wrap after ? and :
  e->b = expression(depth + 1);
  skip_space();
  if (peek() != ':') fail("expected ':' of a conditional (a ? b : c), found " + describe_here());
  advance();
  --newlines_ignored_;
  skip(true);
  e->c = expression(depth + 1);
  return sealed(e, *this);
}

namespace {

// The binary operator at `level` (1 lowest) that the text starts with, or "".
std::string_view operator_at(std::string_view s, int level) {
  auto starts = [&](std::string_view op) { return s.substr(0, op.size()) == op; };
  switch (level) {
    case 1:
      return starts("||") ? "||" : "";
    case 2:
      return starts("&&") ? "&&" : "";
    case 3:
      return starts("==") ? "==" : starts("!=") ? "!=" : "";
    case 4:
      if (starts("<<")) return "";
      return starts("<=") ? "<=" : starts(">=") ? ">=" : starts("<") ? "<" : starts(">") ? ">" : "";
    case 5:
      return starts("+") ? "+" : starts("-") ? "-" : "";
    case 6:
      return starts("*") ? "*" : starts("/") ? "/" : starts("%") ? "%" : "";
    default:
      return "";
  }
}

}  // namespace

ExprPtr Parser::binary(int level, int depth) {
  if (level > 6) return unary(depth);
  ExprPtr left = binary(level + 1, depth);
  while (true) {
    skip_space();
    std::string_view op = operator_at(s_.substr(i_), level);
    if (op.empty()) return left;
    auto e = make_expr(ExprKind::Binary, pos_);
    e->name = std::string(op);
    advance(op.size());
    skip(true);  // an operator at the end of a line continues on the next
    e->a = left;
    e->b = binary(level + 1, depth);
    left = sealed(e, *this);
  }
}

ExprPtr Parser::unary(int depth) {
  skip_space();
  if (peek() == '!' || peek() == '-') {
    Pos at = pos_;
    std::string op(1, peek());
    advance();
    check_depth(depth + 1);
    ExprPtr operand = unary(depth + 1);
    // -7 is a number, as it reads.
    if (op == "-" && operand->kind == ExprKind::Literal && operand->value.is_number()) {
      auto lit = make_expr(ExprKind::Literal, at);
      if (operand->value.is_number_integer())
        lit->value = -operand->value.get<std::int64_t>();
      else
        lit->value = -operand->value.get<double>();
      return lit;
    }
    auto e = make_expr(ExprKind::Unary, at);
    e->name = op;
    e->a = operand;
    return sealed(e, *this);
  }
  return postfix(primary(depth), depth);
}

ExprPtr Parser::postfix(ExprPtr e, int depth) {
  while (true) {
    Pos at = pos_;
    if (peek() == '.' && is_id_start(peek(1))) {
      advance();
      auto g = make_expr(ExprKind::GetAttr, e->pos);  // errors point at `var` of var.x
      g->a = e;
      g->name = identifier();
      e = sealed(g, *this);
    } else if (peek() == '.' && is_digit(peek(1))) {  // legacy index: list.0
      advance();
      e = legacy_index(e, at);
    } else if ((peek() == '.' && peek(1) == '*') ||
               (peek() == '[' && peek(1) == '*' && peek(2) == ']')) {
      bool full = peek() == '[';
      advance(full ? 3 : 2);
      auto splat = make_expr(ExprKind::Splat, at);
      splat->a = e;
      splat->full_splat = full;
      // What follows a splat applies to each element: `.name` always, `[i]` after `[*]`.
      ExprPtr each = make_expr(ExprKind::SplatItem, at);
      while ((peek() == '.' && (is_id_start(peek(1)) || is_digit(peek(1)))) ||
             (full && peek() == '[' && peek(1) != '*')) {
        if (peek() == '[') {
          each = bracket_index(each, pos_, depth);
        } else {
          each = postfix_one_attr(each);
        }
      }
      splat->b = each;
      e = sealed(splat, *this);
    } else if (peek() == '[') {
      e = bracket_index(e, e->pos, depth);
    } else if (peek() == '.' && peek(1) != '.') {  // `x...` is an expansion
      advance();
      fail("expected an attribute name after '.', found " + describe_here());
    } else {
      return e;
    }
  }
}

// `list.0` (HCL's legacy index), the '.' already read: an Index of the literal number.
ExprPtr Parser::bracket_index(ExprPtr e, Pos at, int depth) {
  advance();
  ++newlines_ignored_;  // inside [ ]
  auto idx = make_expr(ExprKind::Index, at);
  idx->a = e;
  idx->b = expression(depth + 1);
  skip_space();
  if (peek() != ']') fail("expected ']' closing the index, found " + describe_here());
  --newlines_ignored_;
  advance();
  return sealed(idx, *this);
}

ExprPtr Parser::legacy_index(ExprPtr e, Pos at) {
  auto idx = make_expr(ExprKind::Index, at);
  auto key = make_expr(ExprKind::Literal, pos_);
  std::size_t start = i_;
  while (is_digit(peek())) advance();
  std::int64_t n = 0;
  std::from_chars(s_.data() + start, s_.data() + i_, n);
  key->value = n;
  idx->a = e;
  idx->b = key;
  return sealed(idx, *this);
}

ExprPtr Parser::postfix_one_attr(ExprPtr e) {
  Pos at = pos_;
  advance();  // .
  if (is_digit(peek())) {
    return legacy_index(e, at);
  }
  auto g = make_expr(ExprKind::GetAttr, at);
  g->a = e;
  g->name = identifier();
  return sealed(g, *this);
}

ExprPtr Parser::primary(int depth) {
  char c = peek();
  Pos at = pos_;
  if (c == '"') return quoted(depth);
  if (c == '<' && peek(1) == '<') return heredoc(depth);
  if (c == '[') return tuple(depth);
  if (c == '{') return object(depth);
  if (is_digit(c)) return number();
  if (c == '(') {
    advance();
    ++newlines_ignored_;
    ExprPtr e = expression(depth + 1);
    skip_space();
    if (peek() != ')')
      fail("expected ')' closing the '(' at line " + std::to_string(at.line) + ", found " +
           describe_here());
    --newlines_ignored_;
    advance();
    // Kept as its own node only so that `{(k) = v}` reads k as an expression.
    return e;
  }
  if (!is_id_start(c)) {
    if (eof() || c == '\n') fail("expected a value, found " + describe_here());
    fail("expected a value, found " + describe_here());
  }
  std::string name = identifier();
  if (name == "true" || name == "false" || name == "null") {
    auto lit = make_expr(ExprKind::Literal, at);
    lit->value = name == "null" ? nlohmann::json(nullptr) : nlohmann::json(name == "true");
    return lit;
  }
  if (peek() == '(') return call(std::move(name), at, depth);
  auto v = make_expr(ExprKind::Variable, at);
  v->name = std::move(name);
  return v;
}

ExprPtr Parser::call(std::string name, Pos at, int depth) {
  advance();  // (
  ++newlines_ignored_;
  auto e = make_expr(ExprKind::Call, at);
  e->name = std::move(name);
  while (true) {
    skip_space();
    if (peek() == ')') break;
    if (eof()) fail(at, "'(' of " + e->name + "(...) is never closed");
    e->items.push_back(expression(depth + 1));
    skip_space();
    if (peek() == '.' && peek(1) == '.' && peek(2) == '.') {
      advance(3);
      e->expand_last = true;
      skip_space();
      if (peek() != ')')
        fail("expected ')' after the expanded argument (x...), found " + describe_here());
      break;
    }
    if (peek() == ',') {
      advance();
      continue;
    }
    if (peek() == ')') break;
    fail("expected ',' or ')' in the arguments of " + e->name + "(...), found " + describe_here());
  }
  --newlines_ignored_;
  advance();  // )
  return sealed(e, *this);
}

ExprPtr Parser::number() {
  Pos at = pos_;
  std::size_t start = i_;
  while (is_digit(peek())) advance();
  bool is_float = false;
  if (peek() == '.' && is_digit(peek(1))) {
    is_float = true;
    advance();
    while (is_digit(peek())) advance();
  }
  if ((peek() == 'e' || peek() == 'E') &&
      (is_digit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && is_digit(peek(2))))) {
    is_float = true;
    advance(2);
    while (is_digit(peek())) advance();
  }
  if (is_id_char(peek())) fail("unexpected '" + std::string(1, peek()) + "' in a number");
  std::string_view text = s_.substr(start, i_ - start);
  auto lit = make_expr(ExprKind::Literal, at);
  if (!is_float) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size())
      fail(at, "number " + std::string(text) + " is out of range");
    lit->value = v;
    return lit;
  }
  double d = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc() || p != text.data() + text.size())
    fail(at, "number " + std::string(text) + " is out of range");
  lit->value = d;
  return lit;
}

ExprPtr Parser::tuple(int depth) {
  Pos open = pos_;
  advance();  // [
  ++newlines_ignored_;
  skip_space();
  if (at_keyword("for")) {
    ExprPtr f = for_expression(open, false, depth);
    --newlines_ignored_;
    return f;
  }
  auto list = make_expr(ExprKind::Tuple, open);
  while (true) {
    skip_space();
    if (eof()) fail(open, "'[' is never closed");
    if (peek() == ']') break;
    list->items.push_back(expression(depth + 1));
    skip_space();
    if (peek() == ',') {
      advance();
      continue;
    }
    if (peek() == ']') break;
    fail("expected ',' or ']' in a list, found " + describe_here());
  }
  --newlines_ignored_;
  advance();  // ]
  return sealed(list, *this);
}

ExprPtr Parser::object(int depth) {
  Pos open = pos_;
  advance();  // {
  const int saved = newlines_ignored_;
  newlines_ignored_ = 0;  // inside { } a newline separates items
  skip(true);
  if (at_keyword("for")) {
    newlines_ignored_ = 1;
    ExprPtr f = for_expression(open, true, depth);
    newlines_ignored_ = saved;
    return f;
  }
  auto obj = make_expr(ExprKind::Object, open);
  while (true) {
    skip(true);
    if (eof()) fail(open, "'{' is never closed");
    if (peek() == '}') break;
    check_depth(depth + 1);
    ExprPtr key;
    // A bare name is the key itself (`{ image = ... }`); anything else is an expression.
    if (is_id_start(peek())) {
      const std::size_t save_i = i_;
      const Pos save_pos = pos_;
      auto lit = make_expr(ExprKind::Literal, pos_);
      lit->value = identifier();
      skip(false);
      if ((peek() == '=' && peek(1) != '=') || peek() == ':') {
        key = lit;
      } else {
        i_ = save_i;
        pos_ = save_pos;
      }
    }
    if (!key) {
      if (peek() != '"' && peek() != '(' && !is_id_start(peek()) && !is_digit(peek()))
        fail("expected an object key, found " + describe_here());
      key = expression(depth + 1);
      skip(false);
    }
    if (peek() == '=' && peek(1) != '=') {
      advance();
    } else if (peek() == ':') {
      advance();
    } else {
      std::string what = key->kind == ExprKind::Literal && key->value.is_string()
                             ? "the object key \"" + key->value.get<std::string>() + "\""
                             : "an object key";
      fail("expected '=' or ':' after " + what + ", found " + describe_here());
    }
    skip(false);
    ExprPtr value = expression(depth + 1);
    obj->pairs.emplace_back(std::move(key), std::move(value));
    skip(false);
    if (peek() == ',') {
      advance();
      continue;
    }
    if (peek() == '\n' || peek() == '}') continue;
    fail("expected ',', a newline or '}' after an object item, found " + describe_here());
  }
  newlines_ignored_ = saved;
  advance();  // }
  return sealed(obj, *this);
}

// `for k, v in collection : value if cond`, from the word `for` to the closing bracket.
ExprPtr Parser::for_expression(Pos open, bool object, int depth) {
  auto e = make_expr(ExprKind::For, open);
  e->object = object;
  advance(3);  // for
  skip_space();
  std::string first = identifier();
  skip_space();
  if (peek() == ',') {
    advance();
    skip_space();
    e->key_var = std::move(first);
    e->value_var = identifier();
    skip_space();
  } else {
    e->value_var = std::move(first);
  }
  if (!at_keyword("in")) fail("expected 'in' in a for expression, found " + describe_here());
  advance(2);
  e->a = expression(depth + 1);
  skip_space();
  if (peek() != ':') fail("expected ':' in a for expression, found " + describe_here());
  advance();
  if (object) {
    e->key = expression(depth + 1);
    skip_space();
    if (!(peek() == '=' && peek(1) == '>'))
      fail("expected '=>' in an object for expression, found " + describe_here());
    advance(2);
  }
  e->b = expression(depth + 1);
  skip_space();
  if (object && peek() == '.' && peek(1) == '.' && peek(2) == '.') {
    advance(3);
    e->grouping = true;
    skip_space();
  }
  if (at_keyword("if")) {
    advance(2);
    e->cond = expression(depth + 1);
    skip_space();
  }
  char close = object ? '}' : ']';
  if (peek() != close)
    fail(std::string("expected '") + close + "' closing the for expression, found " +
         describe_here());
  advance();
  return sealed(e, *this);
}

}  // namespace detail

drover::Result<SyntaxBody> parse_syntax(std::string_view text, int max_depth) {
  try {
    return detail::Parser(text, max_depth).file();
  } catch (const detail::SyntaxError& e) {
    return drover::make_error(at(e.pos) + e.message);
  }
}

drover::Result<ExprPtr> parse_expression(std::string_view text, int max_depth) {
  try {
    return detail::Parser(text, max_depth).lone_expression();
  } catch (const detail::SyntaxError& e) {
    return drover::make_error(at(e.pos) + e.message);
  }
}

bool looks_like_hcl(std::string_view text) {
  using detail::is_id_char;
  using detail::is_id_start;
  std::size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < text.size()) {  // blank lines and comments
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '#' || text.substr(i, 2) == "//") {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (text.substr(i, 2) == "/*") {
      auto end = text.find("*/", i + 2);
      if (end == std::string_view::npos) return false;
      i = end + 2;
    } else {
      break;
    }
  }
  std::size_t start = i;
  while (i < text.size() && is_id_char(text[i])) ++i;
  std::string_view word = text.substr(start, i - start);
  if (word != "job" && word != "variable" && word != "variables" && word != "locals") return false;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  // `job "x" {`, `locals {`; YAML would have `job:` here.
  return i < text.size() && (text[i] == '"' || text[i] == '{' || is_id_start(text[i]));
}

}  // namespace drover::jobspec::hcl
