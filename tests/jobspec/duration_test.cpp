// Durations as users write them in job files ("10s", "1h30m"), and the errors they get.
#include <gtest/gtest.h>

#include "jobspec/parse.hpp"

namespace drover::jobspec {
namespace {

using namespace std::chrono_literals;

struct Good {
  const char* text;
  Duration want;
};

TEST(Duration, ParsesGoSyntax) {
  const Good cases[] = {
      {"10s", 10s},
      {"5m", 5min},
      {"1h30m", 90min},
      {"250ms", 250ms},
      {"1.5s", 1500ms},
      {"2h", 2h},
      {"0", 0s},
      {"0s", 0s},
      {"100ns", 100ns},
      {"7us", 7us},
      {"7\xC2\xB5s", 7us},
      {"1h0m0.5s", 1h + 500ms},
      {".5s", 500ms},
      {"-5s", -5s},
      {"+3m", 3min},
      {"24h", 24h},
      {"1m30s250ms", 1min + 30s + 250ms},
  };
  for (const auto& c : cases) {
    auto d = parse_duration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.message();
    EXPECT_EQ(d->count(), c.want.count()) << c.text;
  }
}

TEST(Duration, RefusesBadTextNamingIt) {
  const char* cases[] = {"",
                         "10",
                         "5x",
                         "1d",
                         "s",
                         "1.s.",
                         "ten seconds",
                         "10 s",
                         "-",
                         "1h-5m",
                         "99999999999999999999h"};
  for (const char* c : cases) {
    auto d = parse_duration(c);
    ASSERT_FALSE(d.ok()) << c;
    EXPECT_NE(d.message().find(std::string("\"") + c + "\""), std::string::npos) << d.message();
  }
}

TEST(Duration, ExplainsUnitProblems) {
  EXPECT_NE(parse_duration("10").message().find("missing unit"), std::string::npos);
  EXPECT_NE(parse_duration("1d").message().find("unknown unit \"d\""), std::string::npos);
}

TEST(Duration, FormatsShortestTextThatReadsBack) {
  EXPECT_EQ(format_duration(90min), "1h30m");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(24h), "24h");
  for (Duration d : {Duration(1), Duration(1h + 1ns), Duration(-5s), Duration(7us)}) {
    auto back = parse_duration(format_duration(d));
    ASSERT_TRUE(back.ok()) << format_duration(d);
    EXPECT_EQ(back->count(), d.count());
  }
}

}  // namespace
}  // namespace drover::jobspec
