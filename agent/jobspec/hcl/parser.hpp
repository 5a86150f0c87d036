// The HCL2 native-syntax reader's cursor, internal to jobspec/hcl/: one recursive-descent pass
// over the characters, no separate token stream, because templates and heredocs need the raw
// text anyway. Bodies and expressions are read in parse.cpp, templates (quoted strings,
// heredocs, template files) in template.cpp. Errors are thrown as SyntaxError and returned as
// one Result at the boundary.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "jobspec/hcl/ast.hpp"

namespace drover::jobspec::hcl::detail {

struct SyntaxError {
  Pos pos;
  std::string message;
};

inline bool is_id_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool is_id_char(char c) { return is_id_start(c) || (c >= '0' && c <= '9') || c == '-'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::shared_ptr<Expr> make_expr(ExprKind kind, Pos pos);

struct TemplateToken;  // template.cpp

class Parser {
 public:
  Parser(std::string_view text, int max_depth) : s_(text), max_depth_(max_depth) {}

  SyntaxBody file();          // a whole file (parse.cpp)
  ExprPtr lone_expression();  // parse_expression (parse.cpp)
  ExprPtr template_file();    // parse_template (template.cpp)

  // ---- the cursor (parse.cpp) ----
  [[noreturn]] void fail(Pos at, std::string message) const;
  [[noreturn]] void fail(std::string message) const { fail(pos_, std::move(message)); }
  bool eof() const { return i_ >= s_.size(); }
  char peek(std::size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
  void advance(std::size_t n = 1);
  std::string describe_here() const;
  void skip(bool newlines);
  // Spaces and comments; newlines too inside ( ) and [ ], where HCL ignores them.
  void skip_space() { skip(newlines_ignored_ > 0); }
  void check_depth(int depth) const;
  std::string identifier();

  // ---- expressions (parse.cpp) ----
  ExprPtr expression(int depth);

  // ---- templates (template.cpp) ----
  ExprPtr quoted(int depth);     // "...": a template
  std::string literal_string();  // "..." as a block label: no interpolation
  ExprPtr heredoc(int depth);    // <<EOF / <<-EOF

 private:
  std::string_view s_;
  std::size_t i_ = 0;
  Pos pos_;
  int max_depth_;
  int newlines_ignored_ = 0;

  void parse_body(SyntaxBody& body, bool top, int depth);
  void end_of_item(bool top, const char* what);
  ExprPtr binary(int level, int depth);
  ExprPtr unary(int depth);
  ExprPtr postfix(ExprPtr e, int depth);
  ExprPtr postfix_one_attr(ExprPtr e);  // `.name` or `.0`
  ExprPtr bracket_index(ExprPtr e, Pos at, int depth);  // `[key]`, at the '['
  ExprPtr legacy_index(ExprPtr e, Pos at);  // the digits of `.0`, after the '.' 
  ExprPtr primary(int depth);
  ExprPtr number();
  ExprPtr tuple(int depth);
  ExprPtr object(int depth);
  ExprPtr for_expression(Pos open, bool object, int depth);
  ExprPtr call(std::string name, Pos at, int depth);
  bool at_keyword(std::string_view word) const;

  // template.cpp
  enum class TemplateEnd { Quote, Offset, Eof };
  void template_tokens(std::vector<TemplateToken>& out, TemplateEnd end, std::size_t end_offset,
                       std::size_t indent, int depth);
  bool template_sequence(std::vector<TemplateToken>& out, int depth);
};

}  // namespace drover::jobspec::hcl::detail
