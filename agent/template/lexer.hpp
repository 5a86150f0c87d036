// Splits a template into tokens: text between actions, and the words of each action
// (Go's text/template/parse lexer, with its trim markers `{{- ` / ` -}}`, comments
// `{{/* */}}` and custom delimiters).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::tmpl {

enum class Tok {
  Text,
  Left,   // the left delimiter
  Right,  // the right delimiter
  Identifier,
  Keyword,  // if else end range with define template block break continue
  Bool,
  Nil,
  Dot,
  Field,     // ".Name" (value: "Name")
  Variable,  // "$x" or "$"
  String,    // value: the decoded string
  Char,      // value: the decoded character (its code point is the number)
  Number,    // value: the literal as written
  Pipe,
  LParen,
  RParen,
  Declare,  // :=
  Assign,   // =
  Comma,
  Eof,
};

struct Token {
  Tok type = Tok::Eof;
  std::string value;
  std::size_t pos = 0;
  bool space_before = false;  // `.A .B` is two operands, `.A.B` one
};

// Tokens of the whole text; an error reads `template: NAME:LINE:COL: message`.
Result<std::vector<Token>> lex(const std::string& name, std::string_view text,
                               std::string_view left, std::string_view right);

// 1-based line and column of a byte offset.
struct LineCol {
  int line = 1, col = 1;
};
LineCol line_col(std::string_view text, std::size_t pos);
// "template: NAME:LINE:COL: "
std::string where(const std::string& name, std::string_view text, std::size_t pos);

}  // namespace drover::tmpl
