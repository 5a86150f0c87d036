// Hostile templates (a job's template is untrusted input the agent parses and renders): deep
// nesting, recursion, huge loops and outputs, deep data, random bytes; each ends in an error,
// never a crash or a hung agent.
#include <gtest/gtest.h>

#include <random>

#include "render_util.hpp"

namespace drover::tmpl::test {
namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(HostileTemplates, DeepParenthesesAreAParseError) {
  auto r = run("{{ " + repeat("(", 100000) + "1" + repeat(")", 100000) + " }}");
  EXPECT_NE(r.find("nested more than 100 deep"), std::string::npos) << r.substr(0, 200);
}

TEST(HostileTemplates, DeepBlocksAreAParseError) {
  auto r = run(repeat("{{ if true }}", 100000) + repeat("{{ end }}", 100000));
  EXPECT_NE(r.find("nested more than 100 deep"), std::string::npos) << r.substr(0, 200);
}

TEST(HostileTemplates, RecursionThroughBlocksStops) {
  auto r = run("{{ define \"r\" }}" + repeat("{{ with 1 }}", 90) + "{{ template \"r\" }}" +
               repeat("{{ end }}", 90) + "{{ end }}{{ template \"r\" }}");
  EXPECT_NE(r.find("exceeded maximum"), std::string::npos) << r.substr(0, 200);
}

TEST(HostileTemplates, OutputStopsAt64MiB) {
  auto r = run("{{ range loop 1000000 }}{{ range loop 1000000 }}" + std::string(4096, 'x') +
               "{{ end }}{{ end }}");
  EXPECT_NE(r.find("output larger than 64 MiB"), std::string::npos) << r.substr(0, 200);
}

TEST(HostileTemplates, DeepDataIsRefusedByTheParsers) {
  auto j = run("{{ parseJSON \"" + repeat("[", 100000) + "\" }}");
  EXPECT_NE(j.find("parseJSON: nested more than 64 deep"), std::string::npos) << j.substr(0, 200);
  auto y = run("{{ parseYAML \"" + repeat("[", 100000) + "\" }}");
  EXPECT_NE(y.find("parseYAML: nested more than 64 deep"), std::string::npos) << y.substr(0, 200);
}

TEST(HostileTemplates, RandomTokenSoupNeverCrashes) {
  const std::vector<std::string> pieces = {
      "{{",        "}}",    "{{-",      "-}}",   " ",      "if",
      "else",      "end",   "range",    "with",  "define", "template",
      "block",     "break", "continue", "$x",    ":=",     "=",
      "$",         ".",     ".a",       ".list", "|",      "(",
      ")",         "\"s\"", "`r`",      "'c'",   "1",      "-2",
      "0x1",       "1.5e3", "nil",      "true",  "printf", "\"%d %s %v\"",
      "index",     "len",   "slice",    "eq",    "and",    "or",
      "not",       "loop",  "split",    "\",\"", "join",   "toJSON",
      "parseJSON", "/*",    "*/",       ",",     "\n",     "x"};
  std::mt19937 rng(19);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()];
    (void)run(text);  // parses and renders, or says why; either is fine
  }
  SUCCEED();
}

}  // namespace
}  // namespace drover::tmpl::test
