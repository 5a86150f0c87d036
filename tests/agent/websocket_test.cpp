// The websocket framing alone (api/websocket.hpp): RFC 6455's own examples, masking, fragments
// with control frames between them, and every refusal with its close code.
#include "api/websocket.hpp"

#include <gtest/gtest.h>

namespace ws = drover::api::ws;

namespace {

constexpr std::array<uint8_t, 4> kMask{0x37, 0xfa, 0x21, 0x3d};

// A client's frame with the FIN bit and opcode given.
std::string client_frame(uint8_t first_byte, std::string_view payload) {
  std::string f = ws::encode_frame(ws::Opcode::Text, payload, kMask);
  f[0] = static_cast<char>(first_byte);
  return f;
}

}  // namespace

TEST(WebSocket, AcceptKeyIsTheRfcsExample) {
  EXPECT_EQ(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_FALSE(ws::valid_client_key("c2hvcnQ="));  // 5 bytes
  EXPECT_FALSE(ws::valid_client_key(""));
  EXPECT_FALSE(ws::valid_client_key("not base64 at all!!!!!!!"));
}

TEST(WebSocket, MaskedTextFrameIsTheRfcsHello) {
  // RFC 6455 section 5.7: a masked "Hello".
  const std::string bytes = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  EXPECT_EQ(ws::encode_frame(ws::Opcode::Text, "Hello", kMask), bytes);
  ws::FrameReader r(1024);
  r.feed(bytes);
  auto m = r.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->opcode, ws::Opcode::Text);
  EXPECT_EQ(m->payload, "Hello");
  EXPECT_FALSE(r.next());
  EXPECT_FALSE(r.failed());
}

TEST(WebSocket, ServerFramesAreUnmaskedWithEachLengthForm) {
  EXPECT_EQ(ws::encode_frame(ws::Opcode::Text, "Hello"), std::string("\x81\x05Hello"));
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u, 200000u}) {
    std::string payload(n, 'x');
    std::string f = ws::encode_frame(ws::Opcode::Binary, payload);
    ws::FrameReader client(1 << 20, /*clients_mask=*/false);
    // Fed a byte at a time at the start, as a slow network would.
    for (std::size_t i = 0; i < 12 && i < f.size(); ++i) {
      client.feed(f.substr(i, 1));
      if (i + 1 < f.size()) {
        EXPECT_FALSE(client.next()) << n;
      }
    }
    if (f.size() > 12) client.feed(f.substr(12));
    auto m = client.next();
    ASSERT_TRUE(m) << n;
    EXPECT_EQ(m->payload.size(), n);
    EXPECT_EQ(m->opcode, ws::Opcode::Binary);
  }
}

TEST(WebSocket, FragmentsAreJoinedAndAPingBetweenThemIsItsOwnMessage) {
  ws::FrameReader r(1024);
  r.feed(client_frame(0x01, "Hel"));  // text, FIN clear
  r.feed(client_frame(0x89, "are you there"));  // ping, between the fragments
  r.feed(client_frame(0x80, "lo"));   // continuation, FIN
  auto ping = r.next();
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->opcode, ws::Opcode::Ping);
  EXPECT_EQ(ping->payload, "are you there");
  auto text = r.next();
  ASSERT_TRUE(text);
  EXPECT_EQ(text->opcode, ws::Opcode::Text);
  EXPECT_EQ(text->payload, "Hello");
}

TEST(WebSocket, AnUnmaskedClientFrameIsAProtocolError) {
  ws::FrameReader r(1024);
  r.feed(ws::encode_frame(ws::Opcode::Text, "Hello"));
  EXPECT_FALSE(r.next());
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.close_code(), ws::kProtocolError);
  EXPECT_NE(r.error().find("masked"), std::string::npos);
}

TEST(WebSocket, AnOversizedMessageIsRefusedFromItsHeaderAlone) {
  ws::FrameReader r(100);
  std::string f = ws::encode_frame(ws::Opcode::Text, std::string(1000, 'a'), kMask);
  r.feed(f.substr(0, 8));  // the header only: refused before the payload arrives
  EXPECT_FALSE(r.next());
  EXPECT_EQ(r.close_code(), ws::kTooBig);
  // Fragments that add up past the cap are refused too.
  ws::FrameReader joined(100);
  joined.feed(client_frame(0x01, std::string(60, 'a')));
  joined.feed(client_frame(0x80, std::string(60, 'a')));
  EXPECT_FALSE(joined.next());
  EXPECT_EQ(joined.close_code(), ws::kTooBig);
  // A 64-bit length with its top bit set is malformed, not merely big.
  ws::FrameReader huge(100);
  huge.feed(std::string("\x81\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10));
  EXPECT_FALSE(huge.next());
  EXPECT_EQ(huge.close_code(), ws::kProtocolError);
}

TEST(WebSocket, MalformedFramesAreRefusedWithTheirReason) {
  struct Case {
    std::string bytes;
    uint16_t code;
  };
  const Case cases[] = {
      {client_frame(0xc1, "x"), ws::kProtocolError},                       // RSV1 set
      {client_frame(0x83, "x"), ws::kProtocolError},                       // opcode 3
      {client_frame(0x80, "x"), ws::kProtocolError},                       // lone continuation
      {client_frame(0x09, "x"), ws::kProtocolError},                       // fragmented ping
      {client_frame(0x89, std::string(126, 'x')), ws::kProtocolError},     // control > 125
      {client_frame(0x81, "\xff\xfe"), ws::kInvalidData},                  // text not UTF-8
      {client_frame(0x88, "x"), ws::kProtocolError},                       // 1-byte close
      {client_frame(0x01, "a") + client_frame(0x81, "b"), ws::kProtocolError},  // interleaved
  };
  for (const auto& c : cases) {
    ws::FrameReader r(1024);
    r.feed(c.bytes);
    EXPECT_FALSE(r.next());
    EXPECT_TRUE(r.failed());
    EXPECT_EQ(r.close_code(), c.code) << r.error();
    EXPECT_FALSE(r.error().empty());
    // A failed reader stays failed.
    r.feed(client_frame(0x81, "fine"));
    EXPECT_FALSE(r.next());
  }
}

TEST(WebSocket, ClosePayloadIsTheCodeAndAReasonCutAtACharacter) {
  EXPECT_EQ(ws::close_payload(1000, ""), std::string("\x03\xe8", 2));
  std::string reason(200, 'a');
  reason.replace(121, 3, "\xe2\x82\xac");  // a 3-byte character across the 123-byte cut
  auto p = ws::close_payload(1008, reason);
  EXPECT_EQ(p.size(), 2u + 121u);
  ws::FrameReader r(1024);
  r.feed(ws::encode_frame(ws::Opcode::Close, p, kMask));
  auto m = r.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->opcode, ws::Opcode::Close);
}
