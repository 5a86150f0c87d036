// RequestFramer alone: what the API's connection layer hands to httplib for each framing a
// client may send, fed whole and a byte at a time.
#include "api/http_framing.hpp"
#include "drover/sdk/utf8.hpp"

#include <gtest/gtest.h>

using drover::sdk::first_invalid_utf8;
using drover::api::RequestFramer;
using State = RequestFramer::State;

namespace {

RequestFramer framer() { return RequestFramer({.max_head_bytes = 1024, .max_body_bytes = 64}); }

// Feeds `bytes` one at a time; returns the state after the last.
State trickle(RequestFramer& f, std::string_view bytes) {
  State st = f.state();
  for (char c : bytes) st = f.feed(std::string_view(&c, 1));
  return st;
}

}  // namespace

TEST(HttpFraming, ChunkedBodyIsDecodedAndGetsOneContentLength) {
  auto f = framer();
  EXPECT_EQ(trickle(f,
                    "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"),
            State::Ready);
  EXPECT_EQ(f.take_request(),
            "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde");
}

TEST(HttpFraming, ChunkedBodyPastTheCapIsRefusedAtTheChunkThatPassesIt) {
  auto f = framer();
  f.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" + std::string(32, 'a') +
         "\r\n");
  EXPECT_EQ(f.state(), State::NeedMore);
  EXPECT_EQ(f.feed("21\r\n"), State::Refused);
  EXPECT_EQ(f.status(), 413);
  auto g = framer();
  EXPECT_EQ(g.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"),
            State::Refused);
}

TEST(HttpFraming, ContentLengthPastTheCapIsRefusedBeforeTheBody) {
  auto f = framer();
  EXPECT_EQ(f.feed("POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n"), State::Refused);
  EXPECT_EQ(f.status(), 413);
}

TEST(HttpFraming, CompressedAndAmbiguousBodiesAreRefused) {
  struct Case {
    std::string headers;
    int status;
  };
  for (const auto& c :
       std::vector<Case>{{"Content-Encoding: gzip\r\nContent-Length: 1\r\n", 415},
                         {"Content-Encoding: identity, br\r\n", 415},
                         {"Content-Length: 1\r\nContent-Length: 2\r\n", 400},
                         {"Content-Length: 1, 2\r\n", 400},
                         {"Content-Length: -1\r\n", 400},
                         {"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n", 400},
                         {"Transfer-Encoding: gzip, chunked\r\n", 501},
                         {"Transfer-Encoding: chunked, chunked\r\n", 501},
                         {" folded: x\r\n", 400},
                         {"Bad Name: x\r\n", 400},
                         {"Expect: something\r\n", 417}}) {
    auto f = framer();
    EXPECT_EQ(f.feed("POST / HTTP/1.1\r\n" + c.headers + "\r\n"), State::Refused) << c.headers;
    EXPECT_EQ(f.status(), c.status) << c.headers << f.reason();
  }
  auto same = framer();
  EXPECT_EQ(same.feed("POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\nx"),
            State::Ready);
}

TEST(HttpFraming, PipelinedRequestsComeOutOneByOne) {
  auto f = framer();
  EXPECT_EQ(f.feed("GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /c "
                   "HTTP/1.1\r\n"),
            State::Ready);
  EXPECT_EQ(f.take_request(), "GET /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(f.state(), State::Ready);
  EXPECT_EQ(f.take_request(), "POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(f.state(), State::NeedMore);
  EXPECT_TRUE(f.started());
  EXPECT_EQ(f.feed("\r\n"), State::Ready);
  EXPECT_EQ(f.take_request(), "GET /c HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpFraming, FormTypeIsDroppedAndContinueIsAnsweredByTheConnection) {
  auto f = framer();
  f.feed(
      "POST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Expect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_TRUE(f.wants_continue());
  EXPECT_EQ(f.feed("a=b"), State::Ready);
  EXPECT_EQ(f.take_request(), "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\na=b");
}

TEST(HttpFraming, HeadPastItsCapIsRefused) {
  auto f = framer();
  EXPECT_EQ(f.feed("GET / HTTP/1.1\r\nX: " + std::string(2000, 'a')), State::Refused);
  EXPECT_EQ(f.status(), 431);
}

TEST(HttpFraming, BodyThatIsNotUtf8IsRefusedNamingTheByte) {
  auto f = framer();
  EXPECT_EQ(f.feed("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab\xff"
                   "c"),
            State::Refused);
  EXPECT_EQ(f.status(), 400);
  EXPECT_NE(f.reason().find("UTF-8 (at byte 2)"), std::string::npos) << f.reason();
}

TEST(HttpFraming, Utf8CheckFollowsRfc3629) {
  EXPECT_FALSE(first_invalid_utf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_EQ(first_invalid_utf8("\xc0\xaf"), 0u);            // overlong
  EXPECT_EQ(first_invalid_utf8("a\xed\xa0\x80"), 1u);       // surrogate
  EXPECT_EQ(first_invalid_utf8("ab\xf4\x90\x80\x80"), 2u);  // past U+10FFFF
  EXPECT_EQ(first_invalid_utf8("\xe2\x82"), 0u);            // cut short
}
