// Errors name the template, the line and the column, as Go's do; the functions drover cannot
// provide (Consul, Vault) are refused by name at parse time.
#include <gtest/gtest.h>

#include "render_util.hpp"

namespace drover::tmpl::test {
namespace {

class Errors : public ::testing::TestWithParam<Case> {};

TEST_P(Errors, QuoteTheLineAndColumn) {
  const Case& c = GetParam();
  EXPECT_EQ(run(c.text), "ERROR: " + c.want) << c.text;
}

const Case kCases[] = {
    {"UnclosedAction", "a\n{{ .name ", "template: t:2:10: unclosed action"},
    {"UnexpectedEnd", "x {{ end }}", "template: t:1:6: unexpected {{end}}"},
    {"IfWithoutEnd", "{{ if .on }}x", "template: t:1:4: unexpected EOF: {{if}} has no {{end}}"},
    {"DefineWithoutEnd", "{{ define \"x\" }}a",
     "template: t:1:4: unexpected EOF: {{define}} has no {{end}}"},
    {"BlockWithoutEnd", "{{ block \"x\" . }}a",
     "template: t:1:4: unexpected EOF: {{block}} has no {{end}}"},
    {"UndefinedVariable", "{{ $nope }}", "template: t:1:4: undefined variable \"$nope\""},
    {"UnknownFunction", "line1\n  {{ frobnicate 1 }}",
     "template: t:2:6: function \"frobnicate\" not defined"},
    {"ConsulFunction", "{{ key \"service/x\" }}",
     "template: t:1:4: function \"key\" needs Consul, which drover does not connect to"},
    {"SockaddrFunction", "{{ sockaddr \"GetPrivateIP\" }}",
     "template: t:1:4: function \"sockaddr\" (go-sockaddr's address templates) is not supported "
     "by drover: use the alloc's addresses, {{ env \"NOMAD_IP_<label>\" }} or "
     "${attr.unique.network.ip-address}"},
    {"VaultFunction", "\n\n{{ with secret \"kv/x\" }}{{ end }}",
     "template: t:3:9: function \"secret\" needs Vault, which drover does not connect to"},
    {"BreakOutsideRange", "{{ break }}", "template: t:1:4: {{break}} outside {{range}}"},
    {"UnterminatedString", "{{ \"abc }}", "template: t:1:4: unterminated quoted string"},
    {"BadCharacter", "{{ # }}", "template: t:1:4: unrecognized character in action: '#'"},
    {"UnclosedComment", "{{/* x }}", "template: t:1:1: unclosed comment"},
    {"EmptyPipeline", "{{ }}", "template: t:1:4: missing value for command"},
    {"MissingTemplate", "{{ template \"nope\" }}",
     "template: t:1:4: executing \"t\": no template \"nope\" associated with template \"t\""},
    {"FieldOnString", "{{ .name.x }}",
     "template: t:1:4: executing \"t\" at <.name.x>: can't evaluate field x in type string"},
    {"IndexOutOfRange", "\n{{ index .list 5 }}",
     "template: t:2:4: executing \"t\" at <index>: error calling index: index out of range: 5"},
    {"IncomparableTypes", "{{ eq .name 1 }}",
     "template: t:1:4: executing \"t\" at <eq>: error calling eq: incompatible types for "
     "comparison"},
    {"RangeOverString", "{{ range .name }}{{ end }}",
     "template: t:1:4: executing \"t\": range can't iterate over web"},
    {"ArgumentToNonFunction", "{{ .name 1 }}",
     "template: t:1:4: executing \"t\" at <.name>: can't give argument to non-function .name"},
    {"WrongArgCount", "{{ toUpper }}",
     "template: t:1:4: executing \"t\" at <toUpper>: error calling toUpper: wrong number of args: "
     "want 1 got 0"},
    {"WrongArgType", "{{ toUpper 1 }}",
     "template: t:1:4: executing \"t\" at <toUpper>: error calling toUpper: wrong type for value; "
     "expected string; got int"},
    {"DivideByZero", "{{ divide 0 1 }}",
     "template: t:1:4: executing \"t\" at <divide>: error calling divide: runtime error: integer "
     "divide by zero"},
    {"DefineNotAtTop", "{{ if true }}{{ define \"x\" }}{{ end }}{{ end }}",
     "template: t:1:17: define can only appear at the top level"},
    {"InfiniteRecursionStops",
     "{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}",
     "template: t:1:20: executing \"r\": exceeded maximum template depth (100)"},
    {"FileWithoutSource", "{{ file \"x\" }}",
     "template: t:1:4: executing \"t\" at <file>: error calling file: no data source in this "
     "render"},
};

INSTANTIATE_TEST_SUITE_P(Cases, Errors, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return info.param.name; });

TEST(Errors, NeedsConsulOrVaultNamesWhich) {
  EXPECT_EQ(needs_consul_or_vault("keyOrDefault"), "Consul");
  EXPECT_EQ(needs_consul_or_vault("pkiCert"), "Vault");
  EXPECT_EQ(needs_consul_or_vault("nomadVar"), "");
}

}  // namespace
}  // namespace drover::tmpl::test
