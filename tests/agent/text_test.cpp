// The helpers shared by the agent and the drivers: UTF-8 and signals (the SDK's, header-only),
// JSON text, base64 and UUIDs (common/).
#include <gtest/gtest.h>

#include <csignal>

#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"
#include "drover/sdk/signals.hpp"
#include "drover/sdk/utf8.hpp"

using drover::sdk::utf8_scrub;
using drover::sdk::utf8_truncate;
using drover::sdk::utf8_valid;

TEST(Utf8, TruncateNeverCutsInsideACharacter) {
  const std::string e = "\xC3\xA9";  // é, two bytes
  std::string s = "a" + e + e;       // 5 bytes
  EXPECT_EQ(utf8_truncate(s, 5), s);
  EXPECT_EQ(utf8_truncate(s, 4), "a" + e);
  EXPECT_EQ(utf8_truncate(s, 2), "a");
  EXPECT_EQ(utf8_truncate(s, 0), "");
  std::string euro = "\xE2\x82\xAC";  // three bytes
  EXPECT_EQ(utf8_truncate(euro + euro, 5), euro);
  EXPECT_TRUE(utf8_valid(utf8_truncate(std::string(300, 'x') + e, 301)));
}

TEST(Utf8, ValidRejectsBrokenOverlongAndSurrogateForms) {
  EXPECT_TRUE(utf8_valid("plain \xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(utf8_valid("\xC3"));              // cut
  EXPECT_FALSE(utf8_valid("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(utf8_valid("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(utf8_valid("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(utf8_valid("\xFF"));
}

TEST(Utf8, ScrubReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(utf8_scrub("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8_scrub("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_TRUE(utf8_valid(utf8_scrub("\xC3")));
}

TEST(JsonText, AStringThatIsNotUtf8IsWrittenWithReplacementsInsteadOfThrowing) {
  nlohmann::json j = {{"msg", std::string("cut \xC3")}};
  std::string text;
  ASSERT_NO_THROW(text = drover::json_text(j));
  auto back = nlohmann::json::parse(text);
  EXPECT_EQ(back["msg"], "cut \xEF\xBF\xBD");
}

TEST(Signals, NamesNumbersAndRealTimeSignals) {
  EXPECT_EQ(drover::sdk::signal_number("SIGTERM"), SIGTERM);
  EXPECT_EQ(drover::sdk::signal_number("term"), SIGTERM);
  EXPECT_EQ(drover::sdk::signal_number("9"), SIGKILL);
  EXPECT_EQ(drover::sdk::signal_number("SIGRTMIN+1"), SIGRTMIN + 1);
  EXPECT_EQ(drover::sdk::signal_number("SIGRTMAX-2"), SIGRTMAX - 2);
  EXPECT_EQ(drover::sdk::signal_number("SIGRTMIN"), SIGRTMIN);
  EXPECT_FALSE(drover::sdk::signal_number("SIGFOO"));
  EXPECT_FALSE(drover::sdk::signal_number("SIGRTMIN+99"));
  EXPECT_FALSE(drover::sdk::signal_number("SIGRTMIN+"));
  EXPECT_FALSE(drover::sdk::signal_number(""));
}

TEST(Base64, RoundTripsEveryLengthAndRefusesWhatIsNotBase64) {
  EXPECT_EQ(drover::base64_encode("/drover/nodes/x"), "L2Ryb3Zlci9ub2Rlcy94");
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
    EXPECT_EQ(drover::base64_decode(drover::base64_encode(s)), s);
  EXPECT_FALSE(drover::base64_decode("abc"));   // not a multiple of four
  EXPECT_FALSE(drover::base64_decode("a*b="));  // not the alphabet
}

TEST(Uuid, RandomVersion4InCanonicalForm) {
  auto a = drover::random_uuid(), b = drover::random_uuid();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  for (std::size_t i : {8u, 13u, 18u, 23u}) EXPECT_EQ(a[i], '-') << a;
  EXPECT_EQ(a[14], '4') << a;
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos) << a;
}
