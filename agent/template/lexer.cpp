// The template lexer (lexer.hpp): Go's text/template/parse/lex.go rules, in one pass.
#include "template/lexer.hpp"

#include <cctype>

#include "drover/sdk/utf8.hpp"

namespace drover::tmpl {

LineCol line_col(std::string_view text, std::size_t pos) {
  LineCol lc;
  for (std::size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      lc.col = 1;
    } else {
      ++lc.col;
    }
  }
  return lc;
}

std::string where(const std::string& name, std::string_view text, std::size_t pos) {
  auto lc = line_col(text, pos);
  return "template: " + name + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.col) + ": ";
}


namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  Lexer(const std::string& name, std::string_view text, std::string_view left,
        std::string_view right)
      : name_(name), s_(text), left_(left), right_(right) {}

  Result<std::vector<Token>> run() {
    while (i_ < s_.size()) {
      auto at = s_.find(left_, i_);
      if (at == std::string_view::npos) {
        text(i_, s_.size());
        i_ = s_.size();
        break;
      }
      text(i_, at);
      i_ = at + left_.size();
      // `{{- ` trims the white space before the action (Go: the '-' must be followed by
      // white space, so that `{{-3}}` stays the number -3).
      bool trimmed = false;
      if (i_ + 1 < s_.size() && s_[i_] == '-' && is_space(s_[i_ + 1])) {
        trim_previous();
        i_ += 1;
        trimmed = true;
      }
      std::size_t action_start = at;
      if (auto st = comment(action_start, trimmed); !st) return st.error();
      if (comment_done_) {
        comment_done_ = false;
        continue;
      }
      out_.push_back({Tok::Left, std::string(left_), action_start, false});
      if (auto st = action(); !st) return st.error();
    }
    out_.push_back({Tok::Eof, "", s_.size(), false});
    return std::move(out_);
  }

 private:
  Error fail(std::size_t pos, const std::string& msg) {
    return make_error(where(name_, s_, pos) + msg, Errc::Invalid);
  }

  void text(std::size_t from, std::size_t to) {
    std::size_t b = from;
    if (trim_next_) {
      while (b < to && is_space(s_[b])) ++b;
      trim_next_ = false;
    }
    if (b < to) out_.push_back({Tok::Text, std::string(s_.substr(b, to - b)), b, false});
  }

  void trim_previous() {
    if (out_.empty() || out_.back().type != Tok::Text) return;
    auto& t = out_.back().value;
    while (!t.empty() && is_space(t.back())) t.pop_back();
    if (t.empty()) out_.pop_back();
  }

  // At the right delimiter, plain or with its trim marker (` -}}`: exactly one white space
  // character, then '-')? Sets trim_next_ and moves past it.
  bool right_delim() {
    if (s_.substr(i_, right_.size()) == right_) {
      i_ += right_.size();
      return true;
    }
    if (i_ + 1 < s_.size() && is_space(s_[i_]) && s_[i_ + 1] == '-' &&
        s_.substr(i_ + 2, right_.size()) == right_) {
      i_ += 2 + right_.size();
      trim_next_ = true;
      return true;
    }
    return false;
  }

  // `{{/* ... */}}`: a comment is the whole action, right after the delimiter (or `{{- `).
  Status comment(std::size_t start, bool trimmed) {
    const std::size_t at = trimmed ? i_ + 1 : i_;  // `{{- /*`: past the marker's white space
    if (s_.substr(at, 2) != "/*") return {};
    auto end = s_.find("*/", at + 2);
    if (end == std::string_view::npos) return fail(start, "unclosed comment");
    i_ = end + 2;
    if (!right_delim()) return fail(start, "comment ends before closing delimiter");
    comment_done_ = true;
    return {};
  }

  Status action() {
    bool space = false;
    int parens = 0;
    for (;;) {
      if (i_ >= s_.size()) return fail(i_, "unclosed action");
      std::size_t start = i_;
      char c = s_[i_];
      if (right_delim()) {
        if (parens > 0) return fail(start, "unclosed left paren");
        out_.push_back({Tok::Right, std::string(right_), start, space});
        return {};
      }
      if (is_space(c)) {
        ++i_;
        space = true;
        continue;
      }
      Token t{Tok::Eof, "", start, space};
      space = false;
      if (c == '|') {
        t.type = Tok::Pipe;
        ++i_;
      } else if (c == '(') {
        t.type = Tok::LParen;
        ++parens;
        ++i_;
      } else if (c == ')') {
        if (--parens < 0) return fail(start, "unexpected right paren");
        t.type = Tok::RParen;
        ++i_;
      } else if (c == ',') {
        t.type = Tok::Comma;
        ++i_;
      } else if (c == ':') {
        if (s_.substr(i_, 2) != ":=") return fail(start, "expected :=");
        t.type = Tok::Declare;
        i_ += 2;
      } else if (c == '=') {
        t.type = Tok::Assign;
        ++i_;
      } else if (c == '"') {
        auto st = quoted(t);
        if (!st) return st;
      } else if (c == '`') {
        auto end = s_.find('`', i_ + 1);
        if (end == std::string_view::npos) return fail(start, "unterminated raw quoted string");
        t.type = Tok::String;
        t.value = std::string(s_.substr(i_ + 1, end - i_ - 1));
        i_ = end + 1;
      } else if (c == '\'') {
        auto st = character(t);
        if (!st) return st;
      } else if (c == '$') {
        ++i_;
        while (i_ < s_.size() && is_alnum(s_[i_])) ++i_;
        t.type = Tok::Variable;
        t.value = std::string(s_.substr(start, i_ - start));
      } else if (c == '.' &&
                 !(i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
        ++i_;
        if (i_ < s_.size() && is_alnum(s_[i_])) {
          while (i_ < s_.size() && is_alnum(s_[i_])) ++i_;
          t.type = Tok::Field;
          t.value = std::string(s_.substr(start + 1, i_ - start - 1));
        } else {
          t.type = Tok::Dot;
        }
      } else if (c == '+' || c == '-' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) {
        ++i_;
        while (i_ < s_.size() &&
               (is_alnum(s_[i_]) || s_[i_] == '.' ||
                ((s_[i_] == '+' || s_[i_] == '-') && (s_[i_ - 1] == 'e' || s_[i_ - 1] == 'E' ||
                                                      s_[i_ - 1] == 'p' || s_[i_ - 1] == 'P'))))
          ++i_;
        t.type = Tok::Number;
        t.value = std::string(s_.substr(start, i_ - start));
      } else if (is_alnum(c)) {
        while (i_ < s_.size() && is_alnum(s_[i_])) ++i_;
        t.value = std::string(s_.substr(start, i_ - start));
        static const char* kKeywords[] = {"if",     "else",  "end",   "range",    "with",
                                          "define", "block", "break", "continue", "template"};
        t.type = Tok::Identifier;
        for (const char* k : kKeywords)
          if (t.value == k) t.type = Tok::Keyword;
        if (t.value == "true" || t.value == "false") t.type = Tok::Bool;
        if (t.value == "nil") t.type = Tok::Nil;
      } else {
        return fail(start, std::string("unrecognized character in action: '") + c + "'");
      }
      out_.push_back(std::move(t));
    }
  }

  // One escape after a backslash; `quote` is the enclosing quote character.
  Status escape(std::string& out, char quote) {
    std::size_t start = i_;
    if (i_ >= s_.size()) return fail(start, "unterminated quoted string");
    char e = s_[i_++];
    switch (e) {
      case 'a':
        out += '\a';
        return {};
      case 'b':
        out += '\b';
        return {};
      case 'f':
        out += '\f';
        return {};
      case 'n':
        out += '\n';
        return {};
      case 'r':
        out += '\r';
        return {};
      case 't':
        out += '\t';
        return {};
      case 'v':
        out += '\v';
        return {};
      case '\\':
        out += '\\';
        return {};
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        unsigned v = 0;
        for (int k = 0; k < n; ++k) {
          if (i_ >= s_.size() || hex_value(s_[i_]) < 0)
            return fail(start, "invalid escape in string");
          v = v * 16 + static_cast<unsigned>(hex_value(s_[i_++]));
        }
        if (e == 'x')
          out += static_cast<char>(v);
        else
          sdk::append_utf8(out, v);
        return {};
      }
      default:
        if (e == quote) {
          out += e;
          return {};
        }
        if (e >= '0' && e <= '7') {
          unsigned v = static_cast<unsigned>(e - '0');
          for (int k = 0; k < 2; ++k) {
            if (i_ >= s_.size() || s_[i_] < '0' || s_[i_] > '7')
              return fail(start, "invalid escape in string");
            v = v * 8 + static_cast<unsigned>(s_[i_++] - '0');
          }
          out += static_cast<char>(v);
          return {};
        }
        return fail(start - 1, std::string("unknown escape sequence: \\") + e);
    }
  }

  Status quoted(Token& t) {
    std::size_t start = i_++;
    t.type = Tok::String;
    for (;;) {
      if (i_ >= s_.size() || s_[i_] == '\n') return fail(start, "unterminated quoted string");
      char c = s_[i_++];
      if (c == '"') return {};
      if (c == '\\') {
        if (auto st = escape(t.value, '"'); !st) return st;
      } else {
        t.value += c;
      }
    }
  }

  Status character(Token& t) {
    std::size_t start = i_++;
    t.type = Tok::Char;
    std::string v;
    while (i_ < s_.size() && s_[i_] != '\'') {
      if (s_[i_] == '\n') return fail(start, "unterminated character constant");
      char c = s_[i_++];
      if (c == '\\') {
        if (auto st = escape(v, '\''); !st) return st;
      } else {
        v += c;
      }
    }
    if (i_ >= s_.size()) return fail(start, "unterminated character constant");
    ++i_;
    if (v.empty()) return fail(start, "empty character constant");
    t.value = v;
    return {};
  }

  const std::string& name_;
  std::string_view s_, left_, right_;
  std::size_t i_ = 0;
  bool trim_next_ = false;
  bool comment_done_ = false;
  std::vector<Token> out_;
};

}  // namespace

Result<std::vector<Token>> lex(const std::string& name, std::string_view text,
                               std::string_view left, std::string_view right) {
  return Lexer(name, text, left, right).run();
}

}  // namespace drover::tmpl
