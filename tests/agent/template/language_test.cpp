// The template language as Go's text/template defines it: actions, pipelines, variables,
// control structures, comparisons, printf, trimming, comments, delimiters.
#include <gtest/gtest.h>

#include "render_util.hpp"

namespace drover::tmpl::test {
namespace {

class Language : public ::testing::TestWithParam<Case> {};

TEST_P(Language, RendersAsGoDoes) {
  const Case& c = GetParam();
  EXPECT_EQ(run(c.text), c.want) << c.text;
}

const Case kCases[] = {
    {"PlainText", "hello", "hello"},
    {"Field", "{{ .name }}", "web"},
    {"NestedField", "{{ .nested.inner.value }}", "deep"},
    {"MissingKeyPrintsNoValue", "{{ .nope }}", "<no value>"},
    {"MissingChainPrintsNoValue", "{{ .nope.deeper }}", "<no value>"},
    {"NullPrintsNil", "{{ .nothing }}", "<nil>"},
    {"Dot", "{{ .list }}", "[a b c]"},
    {"MapPrintsSorted", "{{ .map }}", "map[a:2 z:1]"},
    {"Integer", "{{ .count }}", "3"},
    {"Float", "{{ .ratio }}", "0.5"},
    {"BigFloatAsGo", "{{ 1e6 }} {{ 123456.0 }} {{ 0.00001 }}", "1e+06 123456 1e-05"},
    {"Bool", "{{ .on }}", "true"},
    {"StringLiteral", "{{ \"a\\tb\" }}", "a\tb"},
    {"RawString", "{{ `a\\tb` }}", "a\\tb"},
    {"CharConstant", "{{ 'a' }}", "97"},
    {"HexNumber", "{{ 0x1F }}", "31"},
    {"NegativeNumber", "{{ -3 }}", "-3"},
    {"Nil", "{{ if nil }}x{{ else }}y{{ end }}", "y"},
    {"DeclareVariable", "{{ $x := .name }}{{ $x }}", "web"},
    {"AssignVariable", "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"},
    {"AssignInsideIfReachesOuter", "{{ $x := 1 }}{{ if true }}{{ $x = 5 }}{{ end }}{{ $x }}", "5"},
    {"DollarIsRoot", "{{ with .nested }}{{ $.name }}{{ end }}", "web"},
    {"VariableField", "{{ $n := .nested }}{{ $n.inner.value }}", "deep"},
    {"PipelineLastArg", "{{ .name | printf \"%s!\" }}", "web!"},
    {"PipelineChain", "{{ \"a,b\" | split \",\" | join \"-\" }}", "a-b"},
    {"ParenthesizedWithField", "{{ (index .people 1).name }}", "Alan"},
    {"IfTrue", "{{ if .on }}yes{{ end }}", "yes"},
    {"IfFalse", "{{ if .off }}yes{{ else }}no{{ end }}", "no"},
    {"EmptyStringIsFalse", "{{ if .empty }}y{{ else }}n{{ end }}", "n"},
    {"EmptyListIsFalse", "{{ if .none }}y{{ else }}n{{ end }}", "n"},
    {"ZeroIsFalse", "{{ if 0 }}y{{ else }}n{{ end }}", "n"},
    {"ElseIf", "{{ if .off }}a{{ else if .on }}b{{ else }}c{{ end }}", "b"},
    {"ElseIfChain",
     "{{ if eq .count 1 }}1{{ else if eq .count 2 }}2{{ else if eq .count 3 }}3{{ end }}", "3"},
    {"WithSetsDot", "{{ with .nested.inner }}{{ .value }}{{ end }}", "deep"},
    {"WithElse", "{{ with .nope }}x{{ else }}none{{ end }}", "none"},
    {"ElseWith", "{{ with .nope }}x{{ else with .name }}{{ . }}{{ end }}", "web"},
    {"RangeList", "{{ range .list }}[{{ . }}]{{ end }}", "[a][b][c]"},
    {"RangeIndexValue", "{{ range $i, $v := .list }}{{ $i }}={{ $v }} {{ end }}", "0=a 1=b 2=c "},
    {"RangeOneVariableIsElement", "{{ range $v := .list }}{{ $v }}{{ end }}", "abc"},
    {"RangeMapSortedKeys", "{{ range $k, $v := .map }}{{ $k }}{{ $v }}{{ end }}", "a2z1"},
    {"RangeElse", "{{ range .none }}x{{ else }}empty{{ end }}", "empty"},
    {"RangeMissingIsEmpty", "{{ range .nope }}x{{ else }}empty{{ end }}", "empty"},
    {"RangeInteger", "{{ range 3 }}{{ . }}{{ end }}", "012"},
    {"RangeBreak", "{{ range .list }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}", "a"},
    {"RangeContinue", "{{ range .list }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}",
     "ac"},
    {"RangeObjects", "{{ range .people }}{{ .name }}:{{ .age }};{{ end }}", "Ada:36;Alan:41;"},
    {"VariableScopeEndsWithBlock",
     "{{ $x := \"out\" }}{{ range .list }}{{ $x := . }}{{ end }}{{ $x }}", "out"},
    {"EqSeveral", "{{ eq .name \"db\" \"web\" }}", "true"},
    {"EqNumbers", "{{ eq 3 .count }} {{ eq 1.5 1.5 }} {{ eq 2 2.0 }}", "true true true"},
    {"Ne", "{{ ne .name \"db\" }}", "true"},
    {"LtLeGtGe", "{{ lt 1 2 }} {{ le 2 2 }} {{ gt 1 2 }} {{ ge 3 2 }}", "true true false true"},
    {"LtStrings", "{{ lt \"a\" \"b\" }}", "true"},
    {"AndReturnsDecidingValue", "{{ and 1 \"x\" 0 }} {{ and 1 2 }}", "0 2"},
    {"OrReturnsDecidingValue", "{{ or 0 \"\" \"x\" }} {{ or 0 \"\" }}", "x "},
    {"AndShortCircuits", "{{ and false (index .list 99) }}", "false"},
    {"OrShortCircuits", "{{ or true (index .list 99) }}", "true"},
    {"Not", "{{ not .on }} {{ not .empty }}", "false true"},
    {"Len", "{{ len .list }} {{ len .name }} {{ len .map }}", "3 3 2"},
    {"Index", "{{ index .list 1 }} {{ index .map \"z\" }} {{ index .people 0 \"name\" }}",
     "b 1 Ada"},
    {"IndexMissingKey", "{{ index .map \"q\" }}", "<no value>"},
    {"Slice", "{{ slice .list 1 }} {{ slice .list 0 2 }} {{ slice .name 1 2 }}", "[b c] [a b] e"},
    {"Print", "{{ print \"a\" 1 2 \"b\" }}", "a1 2b"},
    {"Println", "{{ println \"a\" 1 }}", "a 1\n"},
    {"PrintfVerbs", "{{ printf \"%s %d %v %q %t\" \"s\" 42 .list \"q\" true }}",
     "s 42 [a b c] \"q\" true"},
    {"PrintfFloat", "{{ printf \"%5.2f|%f|%e|%g\" 3.14159 2.5 1234.5 0.1 }}",
     " 3.14|2.500000|1.234500e+03|0.1"},
    {"PrintfHex", "{{ printf \"%x %X %x %o %b\" 255 255 \"hi\" 8 5 }}", "ff FF 6869 10 101"},
    {"PrintfWidthAndFlags", "{{ printf \"[%5s][%-5s][%05d][%+d]\" \"a\" \"b\" 42 7 }}",
     "[    a][b    ][00042][+7]"},
    {"PrintfPercent", "{{ printf \"100%%\" }}", "100%"},
    {"PrintfBadVerb", "{{ printf \"%d\" \"x\" }}", "%!d(string=x)"},
    {"PrintfMissing", "{{ printf \"%s %s\" \"x\" }}", "x %!s(MISSING)"},
    {"PrintfExtra", "{{ printf \"%s\" \"x\" 1 }}", "x%!(EXTRA int=1)"},
    {"PrintfPrecisionString", "{{ printf \"%.2s\" \"abcdef\" }}", "ab"},
    {"TrimLeft", "a  \n {{- \"b\" }}", "ab"},
    {"TrimRight", "{{ \"a\" -}}  \n b", "ab"},
    {"TrimBoth", "x\n  {{- if true -}}\n  y\n  {{- end -}}\n z", "xyz"},
    {"MinusNumberIsNotTrim", "{{-3}}", "-3"},
    {"Comment", "a{{/* a comment */}}b", "ab"},
    {"CommentTrimmed", "a {{- /* c */ -}} b", "ab"},
    {"Define", "{{ define \"x\" }}[{{ . }}]{{ end }}{{ template \"x\" .name }}", "[web]"},
    {"TemplateWithoutDataHasNilDot", "{{ define \"x\" }}{{ . }}{{ end }}{{ template \"x\" }}",
     "<nil>"},
    {"DefineAfterUse", "{{ template \"y\" 1 }}{{ define \"y\" }}y{{ . }}{{ end }}", "y1"},
    {"Block", "{{ block \"b\" .name }}<{{ . }}>{{ end }}", "<web>"},
    {"RecursiveTemplate",
     "{{ define \"r\" }}{{ if gt . 0 }}{{ . }}{{ template \"r\" (subtract 1 .) }}{{ end }}{{ end "
     "}}{{ template \"r\" 3 }}",
     "321"},
    {"ActionWithDeclarationPrintsNothing", "{{ $x := 5 }}", ""},
    {"NewlinesInsideAction", "{{ printf\n \"%s\"\n .name }}", "web"},
    {"FunctionAsArgument", "{{ printf \"%d\" (len .list) }}", "3"},
    {"Html", "{{ html \"<a href='x'>&</a>\" }}", "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"},
    {"Urlquery", "{{ urlquery \"a b&c\" }}", "a+b%26c"},
};

INSTANTIATE_TEST_SUITE_P(Cases, Language, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return info.param.name; });

TEST(Language, CustomDelimiters) {
  Options o;
  o.left_delim = "[[";
  o.right_delim = "]]";
  EXPECT_EQ(run("{{ not a tag }} [[ .name ]] [[- \" x\" -]] y", sample_data(), o),
            "{{ not a tag }} web xy");
}

TEST(Language, DelimitersInsideStringsDoNotEndTheAction) { EXPECT_EQ(run("{{ \"}}\" }}"), "}}"); }

TEST(Language, ErrorOnMissingKeyTurnsNoValueIntoAnError) {
  Options o;
  o.error_on_missing_key = true;
  EXPECT_EQ(run("{{ .name }}", sample_data(), o), "web");
  EXPECT_EQ(
      run("{{ .nope }}", sample_data(), o),
      "ERROR: template: t:1:4: executing \"t\" at <.nope>: map has no entry for key \"nope\"");
}

TEST(Language, NomadTemplatesHaveNoData) {
  EXPECT_EQ(run("{{ .anything }}|{{ . }}", nullptr), "<no value>|<nil>");
}

TEST(Language, ReportsTheFunctionsATemplateCalls) {
  auto t = Template::parse("t", "{{ env \"A\" | toUpper }}{{ if eq 1 1 }}{{ env \"B\" }}{{ end }}");
  ASSERT_TRUE(t) << t.message();
  EXPECT_EQ(t->functions(), (std::vector<std::string>{"env", "toUpper", "eq"}));
}

}  // namespace
}  // namespace drover::tmpl::test
