// consul-template's helpers and Nomad's data functions, each with the argument order and
// results consul-template gives.
#include <gtest/gtest.h>

#include "render_util.hpp"

namespace drover::tmpl::test {
namespace {

// A data source with two variables and one service.
class FakeSource : public DataSource {
 public:
  Result<nlohmann::json> nomad_var(const std::string& path) override {
    if (path == "nomad/jobs/web") return nlohmann::json{{"user", "ada"}, {"pass", "s3cret"}};
    if (path == "nomad/jobs/web/db") return nlohmann::json{{"host", "10.0.0.1"}};
    return make_error("no variable", Errc::NotFound);
  }
  Result<nlohmann::json> nomad_var_list(const std::string& prefix) override {
    auto out = nlohmann::json::array();
    for (const char* p : {"nomad/jobs/web", "nomad/jobs/web/db"})
      if (std::string(p).starts_with(prefix)) out.push_back({{"Path", p}});
    return out;
  }
  Result<nlohmann::json> nomad_service(const std::string& name) override {
    if (name != "db") return nlohmann::json::array();
    return nlohmann::json::parse(R"([{"Name":"db","Address":"127.0.0.1","Port":5432},
                                     {"Name":"db","Address":"127.0.0.2","Port":5433}])");
  }
  Result<nlohmann::json> nomad_services() override {
    return nlohmann::json::parse(R"([{"Name":"db","Tags":["primary"]}])");
  }
  Result<std::string> read_file(const std::string& path) override {
    if (path == "local/config.txt") return std::string("from a file");
    return make_error("open " + path + ": no such file", Errc::NotFound);
  }
};

class Functions : public ::testing::TestWithParam<Case> {};

TEST_P(Functions, RenderAsConsulTemplateDoes) {
  const Case& c = GetParam();
  FakeSource source;
  EXPECT_EQ(run(c.text, sample_data(), {}, &source, {{"HOME_DIR", "/home/x"}}), c.want) << c.text;
}

const Case kCases[] = {
    {"ToUpper", "{{ \"abc\" | toUpper }}", "ABC"},
    {"ToLower", "{{ \"ABC\" | toLower }}", "abc"},
    {"ToTitle", "{{ \"hello wide world\" | toTitle }}", "Hello Wide World"},
    {"TrimSpace", "{{ \"  x \\n\" | trimSpace }}", "x"},
    {"Trim", "{{ \"xxhixx\" | trim \"x\" }}", "hi"},
    {"TrimPrefix", "{{ \"v1.2\" | trimPrefix \"v\" }}", "1.2"},
    {"TrimSuffix", "{{ \"a.txt\" | trimSuffix \".txt\" }}", "a"},
    {"HasPrefix", "{{ \"prod-db\" | hasPrefix \"prod\" }} {{ hasPrefix \"x\" \"prod\" }}",
     "true false"},
    {"HasSuffix", "{{ \"a.conf\" | hasSuffix \".conf\" }}", "true"},
    {"Split", "{{ range \"a,b,c\" | split \",\" }}[{{ . }}]{{ end }}", "[a][b][c]"},
    {"SplitEmptyIsEmptyList", "{{ len (split \",\" \"\") }}", "0"},
    {"Join", "{{ .list | join \", \" }}", "a, b, c"},
    {"ReplaceAll", "{{ \"a-b-c\" | replaceAll \"-\" \"+\" }}", "a+b+c"},
    {"Indent", "{{ \"a\\nb\" | indent 2 }}", "  a\n  b"},
    {"ContainsInList", "{{ .list | contains \"b\" }} {{ .list | contains \"q\" }}", "true false"},
    {"ContainsInString", "{{ \"foobar\" | contains \"oba\" }}", "true"},
    {"ContainsAny", "{{ .list | containsAny (split \",\" \"q,c\") }}", "true"},
    {"ContainsAll", "{{ .list | containsAll (split \",\" \"a,q\") }}", "false"},
    {"ContainsNone", "{{ .list | containsNone (split \",\" \"x,y\") }}", "true"},
    {"In", "{{ in .list \"a\" }}", "true"},
    {"RegexMatch", "{{ regexMatch \"^w.b$\" .name }}", "true"},
    {"RegexReplaceAll", "{{ regexReplaceAll \"[0-9]+\" \"N\" \"a1b22\" }}", "aNbN"},
    {"EnvReadsTheTaskEnv", "{{ env \"HOME_DIR\" }}|{{ env \"PATH\" }}", "/home/x|"},
    {"EnvOrDefault", "{{ envOrDefault \"NOPE\" \"dflt\" }}", "dflt"},
    {"Add", "{{ add 2 3 }} {{ 3 | add 2 }} {{ add 1.5 1 }}", "5 5 2.5"},
    {"Subtract", "{{ 10 | subtract 3 }}", "7"},
    {"Multiply", "{{ 4 | multiply 5 }}", "20"},
    {"Divide", "{{ 10 | divide 2 }} {{ 7.0 | divide 2 }}", "5 3.5"},
    {"Modulo", "{{ 10 | modulo 3 }}", "1"},
    {"MinimumMaximum", "{{ minimum 3 5 }} {{ maximum 3 5 }}", "3 5"},
    {"Loop", "{{ range loop 3 }}{{ . }}{{ end }} {{ range loop 2 4 }}{{ . }}{{ end }}", "012 23"},
    {"ParseInt", "{{ add 1 (parseInt \"41\") }}", "42"},
    {"ParseFloat", "{{ parseFloat \"1.25\" }}", "1.25"},
    {"ParseBool", "{{ if parseBool \"true\" }}yes{{ end }}", "yes"},
    {"Base64", "{{ \"hello\" | base64Encode }} {{ \"aGVsbG8=\" | base64Decode }}",
     "aGVsbG8= hello"},
    {"Base64URL",
     "{{ \"\\xfb\\xff\" | base64URLEncode }} {{ \"-_8=\" | base64URLDecode | base64Encode }}",
     "-_8= +/8="},
    {"Sha256Hex", "{{ sha256Hex \"abc\" }}",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"Md5sum", "{{ md5sum \"abc\" }}", "900150983cd24fb0d6963f7d28e17f72"},
    {"ToJSON", "{{ .map | toJSON }} {{ \"<&>\" | toJSON }}",
     "{\"a\":2,\"z\":1} \"\\u003c\\u0026\\u003e\""},
    {"JsEscapesQuotesMarkupAndControlBytes", R"({{ js "a\\b'c\"d<e>f&g=h\ni\rj\tk\x01" }})",
     R"(a\\b\'c\"d\u003Ce\u003Ef\u0026g\u003Dh\ni\rj\tk\u0001)"},
    {"PrintfQuoteIsGosStringLiteral",
     R"({{ printf "%q" "a\\b\"c\nd\te\rf\ag\bh\fi\vj\x01k\x7f" }})",
     R"("a\\b\"c\nd\te\rf\ag\bh\fi\vj\x01k\x7f")"},
    {"ToJSONPretty", "{{ .map | toJSONPretty }}", "{\n  \"a\": 2,\n  \"z\": 1\n}"},
    {"ToYAML", "{{ .nested | toYAML }}", "inner:\n  value: deep"},
    {"ParseJSON", "{{ with parseJSON \"{\\\"a\\\": [1, 2]}\" }}{{ index .a 1 }}{{ end }}", "2"},
    {"ParseYAML", "{{ (parseYAML \"a: b\").a }}", "b"},
    {"TimestampUnixIsDigits", "{{ regexMatch \"^[0-9]+$\" (timestamp \"unix\") }}", "true"},
    {"TimestampRFC3339",
     "{{ regexMatch \"^\\\\d{4}-\\\\d\\\\d-\\\\d\\\\dT\\\\d\\\\d:\\\\d\\\\d:\\\\d\\\\dZ$\" "
     "timestamp }}",
     "true"},
    {"TimestampLayout", "{{ regexMatch \"^\\\\d{4}/\\\\d\\\\d$\" (timestamp \"2006/01\") }}",
     "true"},
    {"NomadVar", "{{ with nomadVar \"nomad/jobs/web\" }}{{ .user }}:{{ .pass }}{{ end }}",
     "ada:s3cret"},
    {"NomadVarRange",
     "{{ range $k, $v := nomadVar \"nomad/jobs/web\" }}{{ $k }}={{ $v }};{{ end }}",
     "pass=s3cret;user=ada;"},
    {"NomadVarExists", "{{ nomadVarExists \"nomad/jobs/web\" }} {{ nomadVarExists \"nope\" }}",
     "true false"},
    {"NomadVarList", "{{ range nomadVarList \"nomad/jobs/web/\" }}{{ .Path }}{{ end }}",
     "nomad/jobs/web/db"},
    {"NomadVarListSafe", "{{ len (nomadVarListSafe \"x\") }}", "0"},
    {"NomadService", "{{ range nomadService \"db\" }}{{ .Address }}:{{ .Port }} {{ end }}",
     "127.0.0.1:5432 127.0.0.2:5433 "},
    {"NomadServiceCount", "{{ range nomadService 1 \"k\" \"db\" }}{{ .Port }}{{ end }}", "5432"},
    {"NomadServiceUnknownIsEmpty", "{{ len (nomadService \"nope\") }}", "0"},
    {"NomadServices", "{{ range nomadServices }}{{ .Name }}{{ .Tags }}{{ end }}", "db[primary]"},
    {"File", "{{ file \"local/config.txt\" }}", "from a file"},
};

INSTANTIATE_TEST_SUITE_P(Cases, Functions, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return info.param.name; });

TEST(Functions, RecordWhatTheRenderRead) {
  FakeSource source;
  auto t = Template::parse(
      "t",
      "{{ nomadVar \"nomad/jobs/web\" }}{{ nomadVarList \"p\" }}"
      "{{ nomadService \"db\" }}{{ nomadServices }}{{ file \"local/config.txt\" }}");
  ASSERT_TRUE(t) << t.message();
  RenderInput in;
  in.source = &source;
  auto r = render(*t, in);
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->dependencies,
            (std::set<std::string>{"nomadVar:nomad/jobs/web", "nomadVarList:p", "nomadService:db",
                                   "nomadServices", "file:local/config.txt"}));
}

TEST(Functions, AMissingVariableIsNotFoundSoTheHookCanWait) {
  FakeSource source;
  auto t = Template::parse("t", "{{ with nomadVar \"nomad/jobs/other\" }}{{ .x }}{{ end }}");
  ASSERT_TRUE(t);
  RenderInput in;
  in.source = &source;
  auto r = render(*t, in);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), Errc::NotFound);
  EXPECT_NE(r.message().find("no variable at \"nomad/jobs/other\""), std::string::npos)
      << r.message();
}

TEST(Functions, LoopRefusesAHugeRange) {
  EXPECT_NE(run("{{ range loop 100000000 }}{{ end }}").find("loop: more than 1000000 steps"),
            std::string::npos);
}

}  // namespace
}  // namespace drover::tmpl::test
