// The HCL evaluator against every construct of HashiCorp's hclsyntax spec: operators and their
// precedence, conditionals, for expressions, splats, indexing, templates with directives and
// strip markers, template unwrapping, dynamic blocks; errors with line and column; the caps.
#include <gtest/gtest.h>

#include "jobspec/hcl/hcl.hpp"
#include "jobspec/hcl/variables.hpp"
#include "jobspec/parse.hpp"

namespace drover::jobspec {
namespace {

using nlohmann::json;

// The value of `v = <expr>`.
json value_of(const std::string& expr) {
  auto r = hcl::parse("v = " + expr + "\n");
  EXPECT_TRUE(r.ok()) << expr << ": " << (r.ok() ? "" : r.message());
  if (!r.ok() || r->attributes.empty()) return "(error)";
  return r->attributes[0].value;
}

std::string error_of(const std::string& text) {
  auto r = hcl::parse(text);
  EXPECT_FALSE(r.ok()) << "evaluated but should not have: " << text;
  return r.ok() ? "" : r.message();
}

TEST(HclExpressions, ArithmeticFollowsHclPrecedence) {
  EXPECT_EQ(value_of("1 + 2 * 3 - 4 / 2"), 5);
  EXPECT_EQ(value_of("(1 + 2) * 3"), 9);
  EXPECT_EQ(value_of("10 - 4 - 3"), 3);  // left to right
  EXPECT_EQ(value_of("12 / 3 * 2"), 8);
  EXPECT_EQ(value_of("7 % 3"), 1);
  EXPECT_EQ(value_of("5 / 2"), 2.5);
  EXPECT_EQ(value_of("-3 * -2"), 6);
  EXPECT_EQ(value_of("1.5 + 1.5"), 3);
  EXPECT_EQ(value_of("\"4\" + 1"), 5);  // a string holding a number converts
  EXPECT_EQ(value_of("- (2 + 3)"), -5);
}

TEST(HclExpressions, ComparisonAndLogic) {
  EXPECT_EQ(value_of("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 4 == false"), true);
  EXPECT_EQ(value_of("\"a\" == \"a\""), true);
  EXPECT_EQ(value_of("1 == 1.0"), true);
  EXPECT_EQ(value_of("1 == \"1\""), false);  // different types are never equal
  EXPECT_EQ(value_of("[1, 2] == [1, 2]"), true);
  EXPECT_EQ(value_of("{a = 1} != {a = 2}"), true);
  EXPECT_EQ(value_of("true || false && false"), true);  // && binds tighter than ||
  EXPECT_EQ(value_of("!true || !false"), true);
  EXPECT_EQ(value_of("null == null"), true);
}

TEST(HclExpressions, ConditionalsEvaluateOnlyTheChosenSide) {
  EXPECT_EQ(value_of("1 > 0 ? \"yes\" : \"no\""), "yes");
  EXPECT_EQ(value_of("false ? 1 : true ? 2 : 3"), 2);
  EXPECT_EQ(value_of("length([]) > 0 ? [][0] : \"empty\""), "empty");
  auto r = hcl::parse("v = (\n  true\n  ? \"a\"\n  : \"b\"\n)\n");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->attributes[0].value, "a");
}

TEST(HclExpressions, ForExpressionsOverListsAndMaps) {
  EXPECT_EQ(value_of("[for v in [\"a\", \"b\"]: v]"), json({"a", "b"}));
  EXPECT_EQ(value_of("[for i, v in [\"a\", \"b\"]: i]"), json({0, 1}));
  EXPECT_EQ(value_of("{for i, v in [\"a\", \"b\"]: v => i}"), json({{"a", 0}, {"b", 1}}));
  EXPECT_EQ(value_of("{for i, v in [\"a\", \"a\", \"b\"]: v => i...}"),
            json::parse(R"({"a": [0, 1], "b": [2]})"));
  EXPECT_EQ(value_of("[for i, v in [\"a\", \"b\", \"c\"]: v if i < 2]"), json({"a", "b"}));
  EXPECT_EQ(value_of("[for k, v in {b = 2, a = 1}: \"${k}=${v}\"]"), json({"a=1", "b=2"}));
  EXPECT_EQ(value_of("{for k, v in {a = 1}: upper(k) => v * 10}"), json({{"A", 10}}));
  EXPECT_NE(error_of("v = {for i, v in [\"a\", \"a\"]: v => i}\n")
                .find("key \"a\" comes twice in the for expression"),
            std::string::npos);
  EXPECT_NE(error_of("v = [for c in \"abc\": c]\n").find("needs a list or a map, got a string"),
            std::string::npos);
}

TEST(HclExpressions, SplatsAndIndexing) {
  EXPECT_EQ(value_of("[{n = 1}, {n = 2}][*].n"), json({1, 2}));
  EXPECT_EQ(value_of("[{n = {m = 3}}].*.n.m"), json({3}));
  EXPECT_EQ(value_of("[{l = [1, 2]}, {l = [3, 4]}][*].l[0]"), json({1, 3}));  // full splat
  EXPECT_EQ(value_of("[{l = [1, 2]}, {l = [3, 4]}].*.l[0]"), json({1, 2}));   // attribute-only
  EXPECT_EQ(value_of("{id = 7}.*.id"), json({7}));  // a single value becomes a list
  EXPECT_EQ(value_of("null[*]"), json::array());
  EXPECT_EQ(value_of("[10, 20, 30][1]"), 20);
  EXPECT_EQ(value_of("[10, 20, 30].2"), 30);  // the legacy index
  EXPECT_EQ(value_of("{a = {b = \"c\"}}.a.b"), "c");
  EXPECT_EQ(value_of("{a = 1}[\"a\"]"), 1);
  EXPECT_EQ(value_of("[[1, 2], [3]][0][1]"), 2);
  EXPECT_NE(error_of("v = [1][1]\n").find("line 1, column 9: index 1 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of("v = {a = 1}.b\n").find("object has no attribute \"b\""), std::string::npos);
}

TEST(HclExpressions, ObjectsTakeExpressionKeysAndBothSeparators) {
  EXPECT_EQ(value_of("{\"a b\" = 1, c: 2}"), json::parse(R"({"a b": 1, "c": 2})"));
  EXPECT_EQ(value_of("{(\"k${1}\") = true}"), json({{"k1", true}}));
  EXPECT_EQ(value_of("{\"${\"x\"}y\" = 1}"), json({{"xy", 1}}));
  EXPECT_NE(error_of("v = {a = 1, a = 2}\n").find("object key \"a\" appears twice"),
            std::string::npos);
}

TEST(HclTemplates, InterpolationsAndDirectives) {
  EXPECT_EQ(value_of("\"a ${1 + 1} b\""), "a 2 b");
  EXPECT_EQ(value_of("\"%{ if true }yes%{ else }no%{ endif }\""), "yes");
  EXPECT_EQ(value_of("\"%{ if false }yes%{ endif }\""), "");
  EXPECT_EQ(value_of("\"%{ for x in [1, 2] }[${x}]%{ endfor }\""), "[1][2]");
  EXPECT_EQ(value_of("\"%{ for k, v in {a = 1} }${k}=${v}%{ endfor }\""), "a=1");
  EXPECT_EQ(value_of("\"${upper(\"x\")}\""), "X");  // a string inside an interpolation
  EXPECT_EQ(value_of("\"$${x} %%{y}\""), "${x} %{y}");
  EXPECT_NE(error_of("v = \"%{ if true }x\"\n").find("line 1, column 6: %{ if } is never closed"),
            std::string::npos);
  EXPECT_NE(error_of("v = \"%{ endfor }\"\n").find("%{ endfor } without its %{ for }"),
            std::string::npos);
  EXPECT_NE(error_of("v = \"%{ while x }\"\n").find("unknown template directive %{ while }"),
            std::string::npos);
  EXPECT_NE(error_of("v = \"${[1]}\"x\n").find("expected a newline"), std::string::npos);
  EXPECT_NE(error_of("v = \"a${[1]}\"\n").find("cannot interpolate a list"), std::string::npos);
}

TEST(HclTemplates, StripMarkers) {
  EXPECT_EQ(value_of("\"hello ${~ \"world\" }\""), "helloworld");
  EXPECT_EQ(value_of("\"%{ if true ~} hello %{~ endif }\""), "hello");
  EXPECT_EQ(value_of("\"${\"hello\" ~}${\" world\"}\""), "hello world");  // values are not stripped
  auto r = hcl::parse(
      "v = <<-EOT\n"
      "    list:\n"
      "    %{~ for x in [\"a\", \"b\"] }\n"
      "      - ${x}\n"
      "    %{~ endfor }\n"
      "    EOT\n");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->attributes[0].value, "list:\n  - a\n  - b\n");
}

TEST(HclTemplates, UnwrappingKeepsTheValuesType) {
  EXPECT_EQ(value_of("\"${true}\""), true);
  EXPECT_EQ(value_of("\"${\"${true}\"}\""), true);
  EXPECT_EQ(value_of("\"hello ${true}\""), "hello true");
  EXPECT_EQ(value_of("\"${\"\"}${true}\""), "true");
  EXPECT_EQ(value_of("\"%{ for v in [true] }${v}%{ endfor }\""), "true");
  EXPECT_EQ(value_of("\"${[1, 2]}\""), json({1, 2}));
}

TEST(HclTemplates, RuntimeReferencesStayForTheAgent) {
  EXPECT_EQ(value_of("\"${NOMAD_ALLOC_ID}-${node.unique.name}\""),
            "${NOMAD_ALLOC_ID}-${node.unique.name}");
  EXPECT_EQ(value_of("\"${meta[\"rack\"]} ${attr.cpu.arch} ${env.HOME} ${device.x}\""),
            "${meta[\"rack\"]} ${attr.cpu.arch} ${env.HOME} ${device.x}");
  EXPECT_EQ(value_of("node.class"), "${node.class}");
  EXPECT_EQ(value_of("meta.rack"), "${meta.rack}");
  EXPECT_EQ(value_of("\"${upper(\"a\")}-${NOMAD_TASK_NAME}\""), "A-${NOMAD_TASK_NAME}");
  EXPECT_EQ(value_of("\"${attr.unique.hostname}\" == \"x\""), false);
  EXPECT_EQ(value_of("\"${ attr.kernel.name }\""), "${attr.kernel.name}");
}

TEST(HclDynamicBlocks, ForEachIteratorLabelsAndContent) {
  auto r = hcl::parse(R"(group "g" {
  dynamic "task" {
    for_each = ["web", "worker"]
    iterator = t
    labels   = [t.value]
    content {
      driver = "raw_exec"
      index  = t.key
      dynamic "port" {
        for_each = {http = 80, https = 443}
        content {
          label = port.key
          value = port.value
        }
      }
    }
  }
  after = 1
}
)");
  ASSERT_TRUE(r.ok()) << r.message();
  const auto& group = r->blocks.at(0);
  ASSERT_EQ(group.body.blocks.size(), 2u);
  EXPECT_EQ(group.body.blocks[0].type, "task");
  EXPECT_EQ(group.body.blocks[0].labels, std::vector<std::string>{"web"});
  EXPECT_EQ(group.body.blocks[1].labels, std::vector<std::string>{"worker"});
  EXPECT_EQ(group.body.blocks[1].body.attributes[1].value, 1);
  const auto& ports = group.body.blocks[0].body.blocks;
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0].type, "port");
  EXPECT_EQ(ports[0].body.attributes[0].value, "http");
  EXPECT_EQ(ports[1].body.attributes[1].value, 443);
  EXPECT_NE(error_of("dynamic \"x\" {\n  content {}\n}\n")
                .find("line 1, column 1: dynamic \"x\" "
                      "needs for_each"),
            std::string::npos);
  EXPECT_NE(error_of("dynamic \"x\" {\n  for_each = [1]\n}\n").find("needs a content block"),
            std::string::npos);
  EXPECT_NE(error_of("dynamic \"x\" {\n  for_each = 3\n  content {}\n}\n")
                .find("line 2, column 14: dynamic \"x\": for_each needs a list or a map"),
            std::string::npos);
}

TEST(HclFunctions, StringCollectionNumericEncodingFunctions) {
  EXPECT_EQ(value_of("join(\",\", split(\" \", \"a b c\"))"), "a,b,c");
  EXPECT_EQ(value_of("format(\"%s-%03d-%.2f-%v-%q-%%\", \"a\", 7, 3.14159, true, \"q\")"),
            "a-007-3.14-true-\"q\"-%");
  EXPECT_EQ(value_of("formatlist(\"%s=%d\", [\"a\", \"b\"], [1, 2])"), json({"a=1", "b=2"}));
  EXPECT_EQ(value_of("[lower(\"AB\"), upper(\"ab\"), title(\"hello world\")]"),
            json({"ab", "AB", "Hello World"}));
  EXPECT_EQ(value_of("replace(\"a-b-c\", \"-\", \"+\")"), "a+b+c");
  EXPECT_EQ(value_of("replace(\"a1b22\", \"/[0-9]+/\", \"#\")"), "a#b#");
  EXPECT_EQ(value_of("regex_replace(\"abc123\", \"[0-9]+\", \"N\")"), "abcN");
  EXPECT_EQ(value_of("[trimspace(\"  x \\n\"), trim(\"xxaxx\", \"x\"), trimprefix(\"ab\", \"a\"), "
                     "trimsuffix(\"ab\", \"b\")]"),
            json({"x", "a", "b", "a"}));
  EXPECT_EQ(value_of("[substr(\"héllo\", 1, 3), strrev(\"héllo\"), length(\"héllo\")]"),
            json({"éll", "olléh", 5}));
  EXPECT_EQ(value_of("lookup({a = 1}, \"b\", \"def\")"), "def");
  EXPECT_EQ(value_of("merge({a = 1, b = 1}, {b = 2})"), json::parse(R"({"a": 1, "b": 2})"));
  EXPECT_EQ(value_of("concat([1], [2, 3])"), json({1, 2, 3}));
  EXPECT_EQ(value_of("[length([1, 2]), length({a = 1})]"), json({2, 1}));
  EXPECT_EQ(value_of("[keys({b = 1, a = 2}), values({b = 1, a = 2})]"),
            json::parse(R"([["a", "b"], [2, 1]])"));
  EXPECT_EQ(
      value_of("[contains([1, 2], 2), element([\"a\", \"b\"], 3), index([\"a\", \"b\"], \"b\")]"),
      json({true, "b", 1}));
  EXPECT_EQ(value_of("flatten([[1, [2]], 3])"), json({1, 2, 3}));
  EXPECT_EQ(value_of("distinct([1, 2, 1])"), json({1, 2}));
  EXPECT_EQ(value_of("[range(3), range(1, 10, 4), range(3, 0)]"),
            json::parse("[[0, 1, 2], [1, 5, 9], [3, 2, 1]]"));
  EXPECT_EQ(value_of("slice([1, 2, 3, 4], 1, 3)"), json({2, 3}));
  EXPECT_EQ(value_of("[coalesce(null, \"\", \"x\"), compact([\"a\", \"\", null])]"),
            json::parse(R"(["x", ["a"]])"));
  EXPECT_EQ(value_of("[reverse([1, 2]), sort([\"b\", \"a\"])]"),
            json::parse(R"([[2, 1], ["a", "b"]])"));
  EXPECT_EQ(value_of("[min(3, 1, 2), max([3, 1, 2]...), abs(-2), ceil(1.2), floor(1.8)]"),
            json({1, 3, 2, 2, 1}));
  EXPECT_EQ(value_of("[parseint(\"ff\", 16), tonumber(\"2\"), tostring(3), tobool(\"true\")]"),
            json({255, 2, "3", true}));
  EXPECT_EQ(value_of("[tolist([1]), toset([\"b\", \"a\", \"b\"]), tomap({a = 1})]"),
            json::parse(R"([[1], ["a", "b"], {"a": 1}])"));
  EXPECT_EQ(value_of("jsonencode({a = [1, \"x\", null]})"), R"({"a":[1,"x",null]})");
  EXPECT_EQ(value_of("jsondecode(\"{\\\"a\\\": [true]}\")"), json::parse(R"({"a": [true]})"));
  EXPECT_EQ(value_of("yamlencode({a = [1, 2], b = \"x\"})"), "a:\n  - 1\n  - 2\nb: x\n");
  EXPECT_EQ(value_of("base64decode(base64encode(\"hi\"))"), "hi");
  EXPECT_EQ(value_of("base64encode(\"hi\")"), "aGk=");
  EXPECT_EQ(value_of("urlencode(\"a b&c\")"), "a%20b%26c");
  EXPECT_EQ(value_of("md5(\"abc\")"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(value_of("sha1(\"abc\")"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(value_of("sha256(\"abc\")"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(value_of("uuidv5(\"dns\", \"example.com\")"), "cfbff0d1-9375-5685-968c-48ce8b15ae17");
  EXPECT_EQ(value_of("[basename(\"/a/b.txt\"), dirname(\"/a/b.txt\")]"), json({"b.txt", "/a"}));
}

TEST(HclFunctions, BadCallsNameTheFunction) {
  EXPECT_NE(error_of("v = uper(\"x\")\n")
                .find("line 1, column 5: unknown function uper() (did you "
                      "mean \"upper\"?)"),
            std::string::npos);
  EXPECT_NE(error_of("v = lookup({}, \"k\")\n").find("lookup(): no key \"k\""), std::string::npos);
  EXPECT_NE(error_of("v = join(\",\")\n").find("join() takes at least 2 arguments, got 1"),
            std::string::npos);
  EXPECT_NE(error_of("v = format(\"%d\")\n").find("format(): not enough arguments"),
            std::string::npos);
  EXPECT_NE(error_of("v = range(10000000)\n").find("more than 1048576"), std::string::npos);
  // With no job file folder (the agent's case) no file is read at all.
  EXPECT_NE(error_of("v = file(\"/etc/hostname\")\n").find("file(): the file functions work only"),
            std::string::npos);
}

TEST(HclFunctions, TryAndCanCatchErrorsOfTheirArguments) {
  EXPECT_EQ(value_of("try({a = 1}.b, \"fallback\")"), "fallback");
  EXPECT_EQ(value_of("try(tonumber(\"x\"), 7)"), 7);
  EXPECT_EQ(value_of("try(1, tonumber(\"x\"))"), 1);  // the first that works, the rest untouched
  EXPECT_EQ(value_of("can(regex(\"^[a-z]+$\", \"web\"))"), true);
  EXPECT_EQ(value_of("can(regex(\"^[a-z]+$\", \"Web1\"))"), false);
  EXPECT_NE(error_of("v = try(tonumber(\"x\"), {}.k)\n").find("try(): no argument could be evaluated"),
            std::string::npos);
  // A limit is not an error of the expression: try() does not swallow it.
  const std::string limit = error_of(
      "v = try(join(\"\", [for i in range(100000) : format(\"%200s\", \"x\")]), 1)\n");
  EXPECT_NE(limit.find("larger than"), std::string::npos) << limit;
}

TEST(HclFunctions, SetsRegexallYamlAndCsv) {
  EXPECT_EQ(value_of("setintersection([\"a\", \"b\", \"c\"], [\"b\", \"c\", \"d\"], [\"c\", \"b\"])"),
            json::parse(R"(["b", "c"])"));
  EXPECT_EQ(value_of("setsubtract([\"a\", \"b\", \"c\"], [\"a\"])"), json::parse(R"(["b", "c"])"));
  EXPECT_EQ(value_of("setproduct([\"x\", \"y\"], [1, 2])"),
            json::parse(R"([["x", 1], ["x", 2], ["y", 1], ["y", 2]])"));
  EXPECT_EQ(value_of("transpose({a = [\"1\", \"2\"], b = [\"2\"]})"),
            json::parse(R"({"1": ["a"], "2": ["a", "b"]})"));
  EXPECT_EQ(value_of("regexall(\"[0-9]+\", \"a1 b22 c333\")"), json::parse(R"(["1", "22", "333"])"));
  EXPECT_EQ(value_of("regexall(\"(\\\\w)=(\\\\d)\", \"a=1,b=2\")"),
            json::parse(R"([["a", "1"], ["b", "2"]])"));
  EXPECT_EQ(value_of("yamldecode(\"a: 1\\nb: [x, y]\\n\")"), json::parse(R"({"a": 1, "b": ["x", "y"]})"));
  EXPECT_EQ(value_of("csvdecode(\"name,port\\nweb,80\\n\\\"db, main\\\",5432\\n\")"),
            json::parse(R"([{"name": "web", "port": "80"}, {"name": "db, main", "port": "5432"}])"));
  EXPECT_NE(error_of("v = csvdecode(\"a,b\\n1\\n\")\n").find("row 2 has 1 fields, the header 2"),
            std::string::npos);
}

TEST(HclFunctions, CidrFunctionsForIpv4AndIpv6) {
  EXPECT_EQ(value_of("cidrhost(\"10.12.112.0/20\", 16)"), "10.12.112.16");
  EXPECT_EQ(value_of("cidrhost(\"10.12.112.0/20\", 268)"), "10.12.113.12");
  EXPECT_EQ(value_of("cidrhost(\"10.12.112.0/20\", -1)"), "10.12.127.255");
  EXPECT_EQ(value_of("cidrhost(\"fd00:fd12:3456:7890:00a2::/72\", 34)"), "fd00:fd12:3456:7890::22");
  EXPECT_EQ(value_of("cidrnetmask(\"172.16.0.0/12\")"), "255.240.0.0");
  EXPECT_EQ(value_of("cidrsubnet(\"172.16.0.0/12\", 4, 2)"), "172.18.0.0/16");
  EXPECT_EQ(value_of("cidrsubnet(\"10.1.2.0/24\", 4, 15)"), "10.1.2.240/28");
  EXPECT_EQ(value_of("cidrsubnet(\"fd00:fd12:3456:7890::/56\", 16, 162)"), "fd00:fd12:3456:7800:a200::/72");
  EXPECT_EQ(value_of("cidrsubnets(\"10.1.0.0/16\", 4, 4, 8, 4)"),
            json::parse(R"(["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"])"));
  EXPECT_NE(error_of("v = cidrhost(\"10.0.0.0/30\", 4)\n").find("outside the prefix's 2 host bits"),
            std::string::npos);
  EXPECT_NE(error_of("v = cidrsubnet(\"10.0.0.0/8\", 4, 16)\n").find("does not fit in 4 bits"),
            std::string::npos);
}

TEST(HclFunctions, FormatdateAndTimeadd) {
  EXPECT_EQ(value_of("formatdate(\"DD MMM YYYY hh:mm ZZZ\", \"2018-01-02T23:12:01Z\")"),
            "02 Jan 2018 23:12 UTC");
  EXPECT_EQ(value_of("formatdate(\"EEEE, MMMM D, YYYY\", \"2018-01-02T23:12:01-08:00\")"),
            "Tuesday, January 2, 2018");
  EXPECT_EQ(value_of("formatdate(\"h:mmaa\", \"2018-01-02T23:12:01-08:00\")"), "23:12pm");
  EXPECT_EQ(value_of("formatdate(\"H:mmaa\", \"2018-01-02T23:12:01Z\")"), "11:12pm");
  EXPECT_EQ(value_of("formatdate(\"YYYY-MM-DD'T'hh:mm:ssZ\", \"2018-01-02T23:12:01+05:30\")"),
            "2018-01-02T23:12:01+05:30");
  EXPECT_EQ(value_of("timeadd(\"2017-11-22T00:00:00Z\", \"10m\")"), "2017-11-22T00:10:00Z");
  EXPECT_EQ(value_of("timeadd(\"2017-11-22T23:30:00+01:00\", \"1h30m\")"), "2017-11-23T01:00:00+01:00");
  EXPECT_EQ(value_of("timeadd(\"2024-03-01T00:00:00Z\", \"-24h\")"), "2024-02-29T00:00:00Z");
  EXPECT_NE(error_of("v = timeadd(\"yesterday\", \"1h\")\n").find("is not an RFC 3339 timestamp"),
            std::string::npos);
  EXPECT_NE(error_of("v = formatdate(\"YYYY Q\", \"2018-01-02T23:12:01Z\")\n").find("\"Q\" is not a date or time token"),
            std::string::npos);
}

TEST(HclLimits, DeepAndLongExpressionsAreRefusedNotCrashed) {
  std::string parens = "v = " + std::string(100, '(') + "1" + std::string(100, ')') + "\n";
  EXPECT_NE(error_of(parens).find("nested more than 64"), std::string::npos);
  std::string sum = "v = 1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  EXPECT_NE(error_of(sum + "\n").find("nested more than 1000 operations"), std::string::npos);
  std::string nots = "v = " + std::string(500, '!') + "true\n";
  EXPECT_NE(error_of(nots).find("nested more than 64"), std::string::npos);
  // A for expression that multiplies its work hits the step cap, not the clock.
  EXPECT_NE(error_of("v = [for a in range(1000): [for b in range(1000): [for c in range(100): "
                     "c]]]\n")
                .find("steps"),
            std::string::npos);
}

}  // namespace
}  // namespace drover::jobspec

namespace drover::jobspec {
namespace {

TEST(HclLimits, FunctionsStayBoundedOnHugeOrDeepInput) {
  // n² would take minutes; these answer at once.
  EXPECT_EQ(value_of("length(distinct(range(200000)))"), 200000);
  EXPECT_EQ(value_of("length(toset(concat(range(100000), range(100000))))"), 100000);
  EXPECT_NE(error_of("v = format(\"%999999999s\", \"x\")\n").find("width or precision over 400"),
            std::string::npos);
  std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_NE(error_of("v = jsondecode(\"" + deep + "\")\n").find("nested more than 64"),
            std::string::npos);
  // A string doubled by each of 30 locals would be a gigabyte: the size cap stops it at 16 MiB.
  std::string doubling = "locals {\n  s0 = \"xxxxxxxxxxxxxxxx\"\n";
  for (int i = 1; i <= 30; ++i)
    doubling += "  s" + std::to_string(i) + " = \"${local.s" + std::to_string(i - 1) +
                "}${local.s" + std::to_string(i - 1) + "}\"\n";
  doubling += "}\n";
  auto f = hcl::evaluate_file(doubling, {}, "");
  ASSERT_FALSE(f.errors.empty());
  EXPECT_NE(f.errors[0].find("value is larger than 16777216 bytes"), std::string::npos)
      << f.errors[0];
  // Each local wrapping the one before would nest past what anything can recurse through.
  std::string wrapping = "locals {\n  w0 = 1\n";
  for (int i = 1; i <= 200; ++i)
    wrapping += "  w" + std::to_string(i) + " = [local.w" + std::to_string(i - 1) + "]\n";
  wrapping += "}\n";
  auto w = hcl::evaluate_file(wrapping, {}, "");
  ASSERT_FALSE(w.errors.empty());
  EXPECT_NE(w.errors[0].find("is nested more than 64 levels deep"), std::string::npos)
      << w.errors[0];
}

TEST(HclLimits, JobFileCapsHoldThroughParseJob) {
  std::string big = "job \"big\" {\n  meta {\n";
  while (big.size() < kMaxJobDocumentBytes) big += "    k" + std::to_string(big.size()) + " = 1\n";
  big += "  }\n}\n";
  auto r = parse_job(big);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems[0].message.find("the limit is 1048576"), std::string::npos);
  auto heredoc = parse_job("job \"h\" {\n  meta = { a = <<EOF\nnever\n");
  ASSERT_FALSE(heredoc.problems.empty());
  EXPECT_NE(heredoc.problems[0].message.find("heredoc <<EOF never ends"), std::string::npos)
      << heredoc.problems[0].message;
  auto nested = parse_job("job \"n\" {\n  meta = " + std::string(80, '(') + "1" +
                          std::string(80, ')') + "\n}\n");
  ASSERT_FALSE(nested.problems.empty());
  EXPECT_NE(nested.problems[0].message.find("nested more than 64"), std::string::npos)
      << nested.problems[0].message;
}

}  // namespace
}  // namespace drover::jobspec
