// The HCL2 native-syntax reader (hcl.hpp): one recursive-descent pass over the characters, no
// separate token stream, because templates and heredocs need the raw text anyway. Errors are
// thrown inside the parser and returned as one Result at the boundary.
#include <charconv>
#include <cstdint>
#include <string>

#include "jobspec/hcl/hcl.hpp"

namespace drover::jobspec::hcl {

namespace {

using nlohmann::json;

struct SyntaxError {
  Pos pos;
  std::string message;
};

bool is_id_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_id_char(char c) { return is_id_start(c) || (c >= '0' && c <= '9') || c == '-'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// `name`, `name.attr`, `name[0]`, `name["key"]`: a reference the agent resolves at run time.
bool is_traversal(std::string_view s) {
  std::size_t i = 0;
  auto ident = [&] {
    if (i >= s.size() || !is_id_start(s[i])) return false;
    while (i < s.size() && is_id_char(s[i])) ++i;
    return true;
  };
  if (!ident()) return false;
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
      if (i < s.size() && is_digit(s[i])) {
        while (i < s.size() && is_digit(s[i])) ++i;
      } else if (!ident()) {
        return false;
      }
    } else if (s[i] == '[') {
      ++i;
      if (i < s.size() && s[i] == '"') {
        ++i;
        while (i < s.size() && s[i] != '"' && s[i] != '\\') ++i;
        if (i >= s.size() || s[i] != '"') return false;
        ++i;
      } else {
        std::size_t start = i;
        while (i < s.size() && is_digit(s[i])) ++i;
        if (i == start) return false;
      }
      if (i >= s.size() || s[i] != ']') return false;
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

std::string_view root_of(std::string_view traversal) {
  std::size_t end = 0;
  while (end < traversal.size() && is_id_char(traversal[end])) ++end;
  return traversal.substr(0, end);
}

class Parser {
 public:
  Parser(std::string_view text, int max_depth) : s_(text), max_depth_(max_depth) {}

  Body file() {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") advance(3);
    Body body;
    parse_body(body, /*top=*/true, 0);
    return body;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
  Pos pos_;
  int max_depth_;

  [[noreturn]] void fail(Pos at, std::string message) { throw SyntaxError{at, std::move(message)}; }
  [[noreturn]] void fail(std::string message) { fail(pos_, std::move(message)); }

  bool eof() const { return i_ >= s_.size(); }
  char peek(std::size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
  void advance(std::size_t n = 1) {
    for (std::size_t k = 0; k < n && i_ < s_.size(); ++k, ++i_) {
      if (s_[i_] == '\n') {
        ++pos_.line;
        pos_.column = 1;
      } else if ((static_cast<unsigned char>(s_[i_]) & 0xC0) != 0x80) {
        ++pos_.column;  // columns count characters, not UTF-8 continuation bytes
      }
    }
  }

  std::string describe_here() const {
    if (eof()) return "end of file";
    char c = peek();
    if (c == '\n') return "end of line";
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F)
      return "a byte " + std::to_string(static_cast<unsigned char>(c));
    return std::string("'") + c + "'";
  }

  // Spaces, tabs, comments; newlines too when `newlines`. A `#` or `//` comment stops before
  // its newline, which may end an attribute.
  void skip(bool newlines) {
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

  void check_depth(int depth) {
    if (depth > max_depth_) fail("nested more than " + std::to_string(max_depth_) + " levels deep");
  }

  std::string identifier() {
    if (!is_id_start(peek())) fail("expected a name, found " + describe_here());
    std::size_t start = i_;
    while (is_id_char(peek())) advance();
    return std::string(s_.substr(start, i_ - start));
  }

  // After an attribute or a block: a newline, the end of the file, or the `}` of a one-line
  // block (`a { b = 1 }`).
  void end_of_item(bool top, const char* what) {
    skip(false);
    if (eof() || peek() == '\n') return;
    if (!top && peek() == '}') return;
    fail(std::string("expected a newline after ") + what + ", found " + describe_here());
  }

  void parse_body(Body& body, bool top, int depth) {
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
        json value = expression(depth + 1);
        body.attributes.push_back({std::move(name), std::move(value), at});
        end_of_item(top, "an attribute");
        continue;
      }
      Block block;
      block.type = std::move(name);
      block.pos = at;
      while (peek() != '{') {
        if (peek() == '"') {
          block.labels.push_back(quoted(depth + 1, /*literal_only=*/true));
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

  // After a value: refuse what would need an evaluator, with a message that says so.
  void refuse_operators() {
    skip(false);
    char c = peek(), d = peek(1);
    const bool op = c == '+' || c == '*' || c == '%' || c == '?' || (c == '-' && d != '>') ||
                    (c == '/' && d != '/' && d != '*') || (c == '=' && d == '=') ||
                    (c == '!' && d == '=') || c == '<' || c == '>' || (c == '&' && d == '&') ||
                    (c == '|' && d == '|');
    if (op)
      fail(
          "operators and conditionals are not supported in drover's HCL yet (issue 17): "
          "write the value itself");
    if (c == '[' || c == '.')
      fail("indexing and splats of a value are not supported in drover's HCL yet (issue 17)");
  }

  json expression(int depth) {
    check_depth(depth);
    skip(false);
    json v = primary(depth);
    refuse_operators();
    return v;
  }

  json primary(int depth) {
    char c = peek();
    Pos at = pos_;
    if (c == '"') return quoted(depth, false);
    if (c == '<' && peek(1) == '<') return heredoc();
    if (c == '[') return tuple(depth);
    if (c == '{') return object(depth);
    if (is_digit(c) || (c == '-' && is_digit(peek(1)))) return number();
    if (c == '(')
      fail("parenthesized expressions are not supported in drover's HCL yet (issue 17)");
    if (c == '!' || c == '-')
      fail("operators are not supported in drover's HCL yet (issue 17): write the value itself");
    if (!is_id_start(c)) {
      if (eof() || c == '\n') fail("expected a value after '='");
      fail("expected a value, found " + describe_here());
    }
    std::size_t start = i_;
    std::string name = identifier();
    if (name == "true") return true;
    if (name == "false") return false;
    if (name == "null") return nullptr;
    if (name == "for" && (peek() == ' ' || peek() == '\t'))
      fail(at, "for expressions are not supported in drover's HCL yet (issue 17)");
    // A reference: name(.attr | .N | [N] | ["key"])*
    while (true) {
      if (peek() == '.' && (is_id_start(peek(1)) || is_digit(peek(1)))) {
        advance();
        if (is_digit(peek()))
          while (is_digit(peek())) advance();
        else
          identifier();
      } else if (peek() == '[' && (is_digit(peek(1)) || peek(1) == '"')) {
        advance();
        if (peek() == '"') {
          advance();
          while (!eof() && peek() != '"' && peek() != '\n' && peek() != '\\') advance();
          if (peek() != '"') fail("expected '\"' closing the index");
          advance();
        } else {
          while (is_digit(peek())) advance();
        }
        if (peek() != ']') fail("expected ']' closing the index");
        advance();
      } else {
        break;
      }
    }
    std::string ref(s_.substr(start, i_ - start));
    if (peek() == '(')
      fail(at,
           "function calls (" + name + "(...)) are not supported in drover's HCL yet (issue 17)");
    if (peek() == '[' && peek(1) == '*')
      fail("splat expressions are not supported in drover's HCL yet (issue 17)");
    refuse_operators();  // `x ? a : b` says more about itself than `x` does
    check_reference(ref, at, /*bare=*/true);
    return "${" + ref + "}";
  }

  // var. and local. need HCL variables, which drover does not read yet; every other root
  // (NOMAD_*, attr, node, meta, env, device, ...) is the agent's to interpolate. Written bare,
  // only Nomad's runtime roots are references: `driver = raw_exec` is a missing quote.
  void check_reference(std::string_view ref, Pos at, bool bare = false) {
    auto root = root_of(ref);
    if (root == "var" || root == "local")
      fail(at, "\"" + std::string(ref) +
                   "\": HCL variables and locals are not supported by "
                   "drover yet (issue 17); write the value itself");
    if (bare && root != "attr" && root != "node" && root != "meta" && root != "env" &&
        root != "device" && root.substr(0, 6) != "NOMAD_")
      fail(at, "unknown name \"" + std::string(ref) +
                   "\" (a string needs quotes; references are attr., node., meta., env., "
                   "device. and NOMAD_*)");
  }

  json number() {
    Pos at = pos_;
    std::size_t start = i_;
    if (peek() == '-') advance();
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
    if (!is_float) {
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && p == text.data() + text.size()) return v;
      fail(at, "number " + std::string(text) + " is out of range");
    }
    double d = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc() || p != text.data() + text.size())
      fail(at, "number " + std::string(text) + " is out of range");
    return d;
  }

  json tuple(int depth) {
    Pos open = pos_;
    advance();  // [
    json list = json::array();
    while (true) {
      skip(true);
      if (eof()) fail(open, "'[' is never closed");
      if (peek() == ']') break;
      if (list.empty() && s_.substr(i_, 4) == "for ")
        fail("for expressions are not supported in drover's HCL yet (issue 17)");
      check_depth(depth + 1);
      list.push_back(primary(depth + 1));
      skip(true);
      refuse_operators();
      skip(true);
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == ']') break;
      fail("expected ',' or ']' in a list, found " + describe_here());
    }
    advance();  // ]
    return list;
  }

  json object(int depth) {
    Pos open = pos_;
    advance();  // {
    json obj = json::object();
    while (true) {
      skip(true);
      if (eof()) fail(open, "'{' is never closed");
      if (peek() == '}') break;
      if (obj.empty() && s_.substr(i_, 4) == "for ")
        fail("for expressions are not supported in drover's HCL yet (issue 17)");
      Pos kp = pos_;
      std::string key;
      if (peek() == '"')
        key = quoted(depth + 1, /*literal_only=*/true);
      else if (is_id_start(peek()))
        key = identifier();
      else if (peek() == '(')
        fail("computed object keys are not supported in drover's HCL yet (issue 17)");
      else
        fail("expected an object key, found " + describe_here());
      skip(false);
      if (peek() != '=' && peek() != ':')
        fail("expected '=' or ':' after the object key \"" + key + "\", found " + describe_here());
      advance();
      if (obj.contains(key)) fail(kp, "object key \"" + key + "\" appears twice");
      skip(false);
      check_depth(depth + 1);
      obj[key] = primary(depth + 1);
      refuse_operators();
      skip(false);
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == '\n' || peek() == '}') continue;
      fail("expected ',', a newline or '}' after an object item, found " + describe_here());
    }
    advance();  // }
    return obj;
  }

  // The `${ ... }` of a template, from just after `${` to its `}`: kept verbatim when it is a
  // runtime reference; anything else is refused.
  void interpolation(std::string& out, Pos at) {
    std::size_t start = i_;
    int braces = 0;
    while (true) {
      if (eof() || peek() == '\n') fail(at, "interpolation \"${\" is never closed");
      char c = peek();
      if (c == '"') {  // a string inside the interpolation; it may hold '}'
        advance();
        while (!eof() && peek() != '"' && peek() != '\n') {
          if (peek() == '\\') advance();
          advance();
        }
        if (peek() == '"') advance();
        continue;
      }
      if (c == '{') ++braces;
      if (c == '}' && braces-- == 0) break;
      advance();
    }
    std::string_view inner = s_.substr(start, i_ - start);
    advance();  // }
    auto first = inner.find_first_not_of(" \t");
    auto last = inner.find_last_not_of(" \t");
    std::string_view expr = first == std::string_view::npos ? std::string_view()
                                                            : inner.substr(first, last - first + 1);
    if (!expr.empty() && (expr.front() == '~' || expr.back() == '~'))
      fail(at, "strip markers (${~ ~}) are not supported in drover's HCL yet (issue 17)");
    if (!is_traversal(expr))
      fail(at, "interpolation \"${" + std::string(expr) +
                   "}\": only references such as ${NOMAD_ALLOC_ID}, ${attr.kernel.name} or "
                   "${meta.x} are supported in drover's HCL yet (issue 17)");
    check_reference(expr, at);
    out += "${";
    out += expr;
    out += "}";
  }

  // A template's `$${`, `%%{`, `${...}` and `%{`, at the current position; true if handled.
  bool template_sequence(std::string& out) {
    if (peek() == '$' && peek(1) == '$' && peek(2) == '{') {
      out += "${";
      advance(3);
      return true;
    }
    if (peek() == '%' && peek(1) == '%' && peek(2) == '{') {
      out += "%{";
      advance(3);
      return true;
    }
    if (peek() == '$' && peek(1) == '{') {
      Pos at = pos_;
      advance(2);
      interpolation(out, at);
      return true;
    }
    if (peek() == '%' && peek(1) == '{')
      fail(
          "template directives (%{ if }, %{ for }) are not supported in drover's HCL yet "
          "(issue 17)");
    return false;
  }

  // A quoted template. literal_only: a block label or object key, where HCL allows no
  // interpolation.
  std::string quoted(int depth, bool literal_only) {
    check_depth(depth);
    Pos open = pos_;
    advance();  // "
    std::string out;
    while (true) {
      if (eof() || peek() == '\n')
        fail(open, "string is never closed (expected '\"' on the same line)");
      char c = peek();
      if (c == '"') {
        advance();
        return out;
      }
      if (c == '\\') {
        Pos at = pos_;
        advance();
        char e = peek();
        advance();
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
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
                fail(at,
                     std::string("\\") + e + " needs " + std::to_string(digits) + " hex digits");
              cp = cp * 16 + static_cast<std::uint32_t>(v);
              advance();
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
              fail(at, "\\" + std::string(1, e) + " escape is not a Unicode character");
            append_utf8(out, cp);
            break;
          }
          default:
            fail(at, "invalid escape \\" + std::string(1, e) +
                         " (HCL has \\n \\r \\t \\\" \\\\ \\uNNNN \\UNNNNNNNN)");
        }
        continue;
      }
      if (literal_only && ((c == '$' || c == '%') && peek(1) == '{'))
        fail("a block label or object key cannot hold an interpolation");
      if (template_sequence(out)) continue;
      out += c;
      advance();
    }
  }

  // <<EOF ... EOF and <<-EOF (the lines' common leading whitespace removed). A template, but
  // backslashes are literal, as in HCL.
  json heredoc() {
    Pos open = pos_;
    advance(2);
    bool flush = peek() == '-';
    if (flush) advance();
    std::string marker = identifier();
    skip(false);
    if (peek() != '\n')
      fail("expected a newline after <<" + std::string(flush ? "-" : "") + marker);
    advance();
    std::vector<std::string> lines;
    while (true) {
      if (eof())
        fail(open, "heredoc <<" + std::string(flush ? "-" : "") + marker +
                       " never ends (no line \"" + marker + "\")");
      std::size_t eol = s_.find('\n', i_);
      std::string_view line =
          s_.substr(i_, eol == std::string_view::npos ? std::string_view::npos : eol - i_);
      std::string_view trimmed = line;
      while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t'))
        trimmed.remove_prefix(1);
      while (!trimmed.empty() &&
             (trimmed.back() == ' ' || trimmed.back() == '\t' || trimmed.back() == '\r'))
        trimmed.remove_suffix(1);
      if (trimmed == marker) {
        advance(line.size());
        break;
      }
      // Expand the line's template sequences now, so errors point at the right place.
      std::string out;
      std::size_t end = i_ + line.size();
      while (i_ < end) {
        if (template_sequence(out)) continue;
        out += peek();
        advance();
      }
      advance();  // \n
      lines.push_back(std::move(out));
    }
    if (flush) {
      std::size_t indent = std::string::npos;
      for (const auto& l : lines) {
        auto first = l.find_first_not_of(" \t");
        if (first == std::string::npos) continue;
        indent = std::min(indent, first);
      }
      if (indent != std::string::npos)
        for (auto& l : lines) l.erase(0, std::min(indent, l.size()));
    }
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    return text;
  }
};

}  // namespace

drover::Result<Body> parse(std::string_view text, int max_depth) {
  try {
    return Parser(text, max_depth).file();
  } catch (const SyntaxError& e) {
    return drover::make_error("line " + std::to_string(e.pos.line) + ", column " +
                              std::to_string(e.pos.column) + ": " + e.message);
  }
}

bool looks_like_hcl(std::string_view text) {
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
