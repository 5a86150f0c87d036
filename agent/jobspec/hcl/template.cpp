// HCL string templates (hclsyntax spec, "Templates"): quoted strings with their escapes,
// heredocs (`<<EOF`, `<<-EOF` with the common indent removed), template files; `${ expr }`
// interpolations, `%{ if }`/`%{ else }`/`%{ endif }` and `%{ for }`/`%{ endfor }` directives,
// `~` strip markers, `$${` and `%%{` escapes; and rendering them to text.
#include <algorithm>
#include <cstdint>

#include "drover/sdk/utf8.hpp"
#include "jobspec/hcl/eval.hpp"
#include "jobspec/hcl/parser.hpp"

namespace drover::jobspec::hcl {

namespace detail {

struct TemplateToken {
  enum Kind { Literal, Interp, If, Else, EndIf, For, EndFor } kind = Literal;
  std::string text;  // Literal
  ExprPtr expr;      // Interp; If: the condition; For: the collection
  std::string key_var, value_var;
  bool strip_before = false, strip_after = false;  // `${~` and `~}`
  Pos pos;
};

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The strip markers: `${~` trims the whitespace before it, `~}` the whitespace after it.
void apply_strip_markers(std::vector<TemplateToken>& tokens) {
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    const auto& t = tokens[k];
    if (t.kind == TemplateToken::Literal) continue;
    if (t.strip_before && k > 0 && tokens[k - 1].kind == TemplateToken::Literal) {
      auto& s = tokens[k - 1].text;
      while (!s.empty() && is_space(s.back())) s.pop_back();
    }
    if (t.strip_after && k + 1 < tokens.size() && tokens[k + 1].kind == TemplateToken::Literal) {
      auto& s = tokens[k + 1].text;
      std::size_t n = 0;
      while (n < s.size() && is_space(s[n])) ++n;
      s.erase(0, n);
    }
  }
}

ExprPtr finish(std::vector<ExprPtr> parts, Pos at) {
  if (parts.empty()) {
    auto lit = make_expr(ExprKind::Literal, at);
    lit->value = "";
    return lit;
  }
  if (parts.size() == 1 && parts[0]->kind == ExprKind::Literal) {
    auto lit = make_expr(ExprKind::Literal, at);  // the string's position is its quote's
    lit->value = parts[0]->value;
    return lit;
  }
  auto t = make_expr(ExprKind::Template, at);
  int h = 0;
  for (const auto& p : parts) h = std::max(h, p->height);
  t->height = h + 1;
  t->items = std::move(parts);
  return t;
}

const char* directive_name(TemplateToken::Kind k) {
  switch (k) {
    case TemplateToken::Else:
      return "%{ else }";
    case TemplateToken::EndIf:
      return "%{ endif }";
    case TemplateToken::EndFor:
      return "%{ endfor }";
    default:
      return "directive";
  }
}

// The tokens from `k` to one of `stops` (left at it), as a template's parts.
std::vector<ExprPtr> parts_until(const std::vector<TemplateToken>& tokens, std::size_t& k,
                                 std::initializer_list<TemplateToken::Kind> stops) {
  std::vector<ExprPtr> parts;
  while (k < tokens.size()) {
    const auto& t = tokens[k];
    if (std::find(stops.begin(), stops.end(), t.kind) != stops.end()) return parts;
    switch (t.kind) {
      case TemplateToken::Literal:
        if (!t.text.empty()) {
          auto lit = make_expr(ExprKind::Literal, t.pos);
          lit->value = t.text;
          parts.push_back(lit);
        }
        ++k;
        break;
      case TemplateToken::Interp:
        parts.push_back(t.expr);
        ++k;
        break;
      case TemplateToken::If: {
        ++k;
        auto node = make_expr(ExprKind::TemplateIf, t.pos);
        node->cond = t.expr;
        node->a =
            finish(parts_until(tokens, k, {TemplateToken::Else, TemplateToken::EndIf}), t.pos);
        if (k < tokens.size() && tokens[k].kind == TemplateToken::Else) {
          ++k;
          node->b = finish(parts_until(tokens, k, {TemplateToken::EndIf}), t.pos);
        }
        if (k >= tokens.size())
          throw SyntaxError{t.pos, "%{ if } is never closed (expected %{ endif })"};
        ++k;
        node->height =
            std::max({node->cond->height, node->a->height, node->b ? node->b->height : 0}) + 1;
        parts.push_back(node);
        break;
      }
      case TemplateToken::For: {
        ++k;
        auto node = make_expr(ExprKind::TemplateFor, t.pos);
        node->key_var = t.key_var;
        node->value_var = t.value_var;
        node->a = t.expr;
        node->b = finish(parts_until(tokens, k, {TemplateToken::EndFor}), t.pos);
        if (k >= tokens.size())
          throw SyntaxError{t.pos, "%{ for } is never closed (expected %{ endfor })"};
        ++k;
        node->height = std::max(node->a->height, node->b->height) + 1;
        parts.push_back(node);
        break;
      }
      default:
        throw SyntaxError{t.pos, std::string(directive_name(t.kind)) + " without its " +
                                     (t.kind == TemplateToken::EndFor ? "%{ for }" : "%{ if }")};
    }
  }
  return parts;
}

ExprPtr build(std::vector<TemplateToken>& tokens, Pos at) {
  apply_strip_markers(tokens);
  std::size_t k = 0;
  auto parts = parts_until(tokens, k, {});
  return finish(std::move(parts), at);
}

}  // namespace

// At `${` or `%{`: one interpolation or directive, as a token. False when not at one.
bool Parser::template_sequence(std::vector<TemplateToken>& out, int depth) {
  if (!((peek() == '$' || peek() == '%') && peek(1) == '{')) return false;
  TemplateToken t;
  t.pos = pos_;
  const bool directive = peek() == '%';
  advance(2);
  if (peek() == '~') {
    t.strip_before = true;
    advance();
  }
  ++newlines_ignored_;
  skip_space();
  if (!directive) {
    t.kind = TemplateToken::Interp;
    if (peek() == '}') fail("empty interpolation \"${}\"");
    t.expr = expression(depth + 1);
  } else {
    if (!is_id_start(peek()))
      fail("expected if, else, endif, for or endfor after %{, found " + describe_here());
    Pos word_at = pos_;
    std::string word = identifier();
    skip_space();
    if (word == "if") {
      t.kind = TemplateToken::If;
      t.expr = expression(depth + 1);
    } else if (word == "else") {
      t.kind = TemplateToken::Else;
    } else if (word == "endif") {
      t.kind = TemplateToken::EndIf;
    } else if (word == "endfor") {
      t.kind = TemplateToken::EndFor;
    } else if (word == "for") {
      t.kind = TemplateToken::For;
      std::string first = identifier();
      skip_space();
      if (peek() == ',') {
        advance();
        skip_space();
        t.key_var = std::move(first);
        t.value_var = identifier();
        skip_space();
      } else {
        t.value_var = std::move(first);
      }
      if (!at_keyword("in")) fail("expected 'in' in %{ for }, found " + describe_here());
      advance(2);
      t.expr = expression(depth + 1);
    } else {
      fail(word_at, "unknown template directive %{ " + word +
                        " } (HCL has if, else, endif, for and endfor)");
    }
  }
  skip_space();
  if (peek() == '~') {
    t.strip_after = true;
    advance();
  }
  if (eof())
    fail(t.pos,
         std::string(directive ? "directive \"%{\"" : "interpolation \"${\"") + " is never closed");
  if (peek() != '}')
    fail(std::string("expected '}' closing the ") + (directive ? "%{" : "${") + " at column " +
         std::to_string(t.pos.column) + ", found " + describe_here());
  advance();
  --newlines_ignored_;
  out.push_back(std::move(t));
  return true;
}

void Parser::template_tokens(std::vector<TemplateToken>& out, TemplateEnd end,
                             std::size_t end_offset, std::size_t indent, int depth) {
  // A quoted string's error points at its opening quote, one character back.
  const Pos open{pos_.line, end == TemplateEnd::Quote ? pos_.column - 1 : pos_.column};
  std::string lit;
  Pos lit_pos = pos_;
  bool line_start = true;
  auto flush = [&] {
    if (lit.empty()) return;
    TemplateToken t;
    t.text = std::move(lit);
    t.pos = lit_pos;
    out.push_back(std::move(t));
    lit.clear();
  };
  const int saved = newlines_ignored_;
  newlines_ignored_ = 0;
  while (true) {
    if (end == TemplateEnd::Offset && i_ >= end_offset) break;
    if (end == TemplateEnd::Eof && eof()) break;
    if (end == TemplateEnd::Quote) {
      if (eof() || peek() == '\n')
        fail(open, "string is never closed (expected '\"' on the same line)");
      if (peek() == '"') break;
    }
    if (line_start && indent > 0) {  // <<-EOF: the common indent goes
      for (std::size_t n = 0; n < indent && (peek() == ' ' || peek() == '\t'); ++n) advance();
      line_start = false;
      continue;
    }
    line_start = false;
    if (lit.empty()) lit_pos = pos_;
    char c = peek();
    if (end == TemplateEnd::Quote && c == '\\') {
      Pos at = pos_;
      advance();
      char e = peek();
      advance();
      switch (e) {
        case 'n':
          lit += '\n';
          break;
        case 'r':
          lit += '\r';
          break;
        case 't':
          lit += '\t';
          break;
        case '"':
          lit += '"';
          break;
        case '\\':
          lit += '\\';
          break;
        case 'u':
        case 'U': {
          int digits = e == 'u' ? 4 : 8;
          std::uint32_t cp = 0;
          for (int k = 0; k < digits; ++k) {
            char h = peek();
            int v = is_digit(h)              ? h - '0'
                    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                             : -1;
            if (v < 0)
              fail(at, std::string("\\") + e + " needs " + std::to_string(digits) + " hex digits");
            cp = cp * 16 + static_cast<std::uint32_t>(v);
            advance();
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            fail(at, "\\" + std::string(1, e) + " escape is not a Unicode character");
          sdk::append_utf8(lit, cp);
          break;
        }
        default:
          fail(at, "invalid escape \\" + std::string(1, e) +
                       " (HCL has \\n \\r \\t \\\" \\\\ \\uNNNN \\UNNNNNNNN)");
      }
      continue;
    }
    if ((c == '$' || c == '%') && peek(1) == c && peek(2) == '{') {  // $${ and %%{
      lit += c;
      lit += '{';
      advance(3);
      continue;
    }
    if ((c == '$' || c == '%') && peek(1) == '{') {
      flush();
      template_sequence(out, depth);
      continue;
    }
    lit += c;
    advance();
    if (c == '\n') line_start = true;
  }
  flush();
  newlines_ignored_ = saved;
}

ExprPtr Parser::quoted(int depth) {
  check_depth(depth);
  Pos open = pos_;
  advance();  // "
  std::vector<TemplateToken> tokens;
  template_tokens(tokens, TemplateEnd::Quote, 0, 0, depth);
  advance();  // "
  return build(tokens, open);
}

std::string Parser::literal_string() {
  advance();  // "
  std::vector<TemplateToken> tokens;
  template_tokens(tokens, TemplateEnd::Quote, 0, 0, 0);
  advance();  // "
  std::string out;
  for (const auto& t : tokens) {
    if (t.kind != TemplateToken::Literal)
      fail(t.pos, "a block label cannot hold an interpolation or a directive");
    out += t.text;
  }
  return out;
}

// <<EOF ... EOF and <<-EOF (the lines' common leading whitespace removed). A template, but
// backslashes are literal, as in HCL.
ExprPtr Parser::heredoc(int depth) {
  check_depth(depth);
  Pos open = pos_;
  advance(2);
  bool flush = peek() == '-';
  if (flush) advance();
  std::string marker = identifier();
  skip(false);
  if (peek() != '\n') fail("expected a newline after <<" + std::string(flush ? "-" : "") + marker);
  advance();
  // Find the closing line first: the indent to strip is measured on the raw lines.
  std::size_t end = std::string_view::npos, end_len = 0;
  std::size_t indent = std::string::npos;
  for (std::size_t j = i_; j <= s_.size();) {
    std::size_t eol = s_.find('\n', j);
    std::string_view line = s_.substr(j, eol == std::string_view::npos ? s_.size() - j : eol - j);
    std::string_view trimmed = line;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t'))
      trimmed.remove_prefix(1);
    std::size_t lead = line.size() - trimmed.size();
    while (!trimmed.empty() &&
           (trimmed.back() == ' ' || trimmed.back() == '\t' || trimmed.back() == '\r'))
      trimmed.remove_suffix(1);
    if (trimmed == marker) {
      end = j;
      end_len = line.size();
      break;
    }
    if (!trimmed.empty()) indent = std::min(indent, lead);
    if (eol == std::string_view::npos) break;
    j = eol + 1;
  }
  if (end == std::string_view::npos)
    fail(open, "heredoc <<" + std::string(flush ? "-" : "") + marker + " never ends (no line \"" +
                   marker + "\")");
  std::vector<TemplateToken> tokens;
  template_tokens(tokens, TemplateEnd::Offset, end,
                  flush && indent != std::string::npos ? indent : 0, depth);
  if (i_ != end) fail("an interpolation runs past the end of the heredoc");
  advance(end_len);
  return build(tokens, open);
}

ExprPtr Parser::template_file() {
  std::vector<TemplateToken> tokens;
  template_tokens(tokens, TemplateEnd::Eof, 0, 0, 0);
  return build(tokens, Pos{});
}

}  // namespace detail

drover::Result<ExprPtr> parse_template(std::string_view text, int max_depth) {
  try {
    return detail::Parser(text, max_depth).template_file();
  } catch (const detail::SyntaxError& e) {
    return drover::make_error(at(e.pos) + e.message);
  }
}

// ---- rendering ----

namespace {

bool is_traversal(const Expr& e) {
  return e.kind == ExprKind::Variable || e.kind == ExprKind::GetAttr || e.kind == ExprKind::Index;
}

}  // namespace

nlohmann::json Evaluator::eval_template(const Expr& e, const Scope& scope) {
  // "${x}" alone is x itself, of whatever type (hclsyntax spec, "Template Unwrapping").
  if (e.kind == ExprKind::Template && e.items.size() == 1) {
    const Expr& only = *e.items[0];
    if (only.kind != ExprKind::Literal && only.kind != ExprKind::TemplateIf &&
        only.kind != ExprKind::TemplateFor) {
      if (is_traversal(only))
        if (auto ref = runtime_reference(only, scope, true)) return "${" + *ref + "}";
      return eval(only, scope);
    }
  }
  std::string out;
  render(e, scope, out);
  return out;
}

void Evaluator::render(const Expr& part, const Scope& scope, std::string& out) {
  switch (part.kind) {
    case ExprKind::Literal:
      out += as_string(part.value, part.pos, "template");
      break;
    case ExprKind::Template:
      for (const auto& p : part.items) render(*p, scope, out);
      break;
    case ExprKind::TemplateIf:
      if (as_bool(eval(*part.cond, scope), part.cond->pos, "%{ if } condition"))
        render(*part.a, scope, out);
      else if (part.b)
        render(*part.b, scope, out);
      break;
    case ExprKind::TemplateFor: {
      nlohmann::json collection = eval(*part.a, scope);
      if (!collection.is_array() && !collection.is_object())
        throw EvalError{part.a->pos, "%{ for } needs a list or a map, got " +
                                         (collection.is_null() ? std::string("null")
                                                               : "a " + type_name(collection))};
      auto one = [&](const nlohmann::json& key, const nlohmann::json& value) {
        Scope inner(&scope);
        if (!part.key_var.empty()) inner.set(part.key_var, key);
        inner.set(part.value_var, value);
        render(*part.b, inner, out);
      };
      if (collection.is_array()) {
        for (std::size_t i = 0; i < collection.size(); ++i)
          one(static_cast<std::int64_t>(i), collection[i]);
      } else {
        for (const auto& [k, v] : collection.items()) one(k, v);
      }
      break;
    }
    default: {
      if (is_traversal(part)) {
        if (auto ref = runtime_reference(part, scope, true)) {
          out += "${" + *ref + "}";
          break;
        }
      }
      nlohmann::json v = eval(part, scope);
      if (v.is_null()) throw EvalError{part.pos, "the interpolated value is null"};
      if (v.is_array() || v.is_object())
        throw EvalError{part.pos, "cannot interpolate a " + type_name(v) +
                                      " into a string (use join() or jsonencode())"};
      out += as_string(v, part.pos, "interpolation");
    }
  }
  check_size(out.size(), part.pos);
}

nlohmann::json Evaluator::render_file_template(const Expr& tree, const nlohmann::json& vars,
                                               Pos at) {
  if (template_depth_ >= limits_.max_template_depth)
    throw EvalError{at,
                    "templatefile() nested more than " +
                        std::to_string(limits_.max_template_depth) + " deep",
                    true};
  Scope scope;
  for (const auto& [k, v] : vars.items()) scope.set(k, v);
  ++template_depth_;
  std::string out;
  try {
    render(tree, scope, out);
  } catch (...) {
    --template_depth_;
    throw;
  }
  --template_depth_;
  return out;
}

}  // namespace drover::jobspec::hcl
