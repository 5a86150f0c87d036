// RFC 6455 frames and the handshake key (api/websocket.hpp).
#include "api/websocket.hpp"

#include <algorithm>

#include <openssl/sha.h>

#include <utility>

#include "drover/common/encoding.hpp"
#include "drover/sdk/utf8.hpp"

namespace drover::api::ws {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_control(Opcode op) { return static_cast<uint8_t>(op) >= 8; }

bool known(uint8_t op) { return op <= 2 || (op >= 8 && op <= 10); }

}  // namespace

std::string accept_key(std::string_view client_key) {
  std::string text(client_key);
  text.append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

bool valid_client_key(std::string_view key) {
  auto raw = base64_decode(key);
  return key.size() == 24 && raw && raw->size() == 16;
}

std::optional<Message> FrameReader::fail(uint16_t code, std::string why) {
  if (code_ == 0) {
    code_ = code;
    error_ = std::move(why);
  }
  buf_.clear();
  return std::nullopt;
}

std::optional<Message> FrameReader::next() {
  while (!failed()) {
    if (buf_.size() < 2) return std::nullopt;
    const auto* b = reinterpret_cast<const unsigned char*>(buf_.data());
    const bool fin = b[0] & 0x80;
    if (b[0] & 0x70) return fail(kProtocolError, "reserved bits set (no extension was agreed)");
    const uint8_t op = b[0] & 0x0f;
    if (!known(op)) return fail(kProtocolError, "unknown opcode " + std::to_string(op));
    const bool masked = b[1] & 0x80;
    if (masked != masked_)
      return fail(kProtocolError, masked_ ? "a client's frame must be masked" : "a server's frame must not be masked");
    uint64_t len = b[1] & 0x7f;
    std::size_t at = 2;
    if (len == 126) {
      if (buf_.size() < 4) return std::nullopt;
      len = (uint64_t{b[2]} << 8) | b[3];
      at = 4;
    } else if (len == 127) {
      if (buf_.size() < 10) return std::nullopt;
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | b[i];
      if (len >> 63) return fail(kProtocolError, "frame length has its top bit set");
      at = 10;
    }
    const Opcode opcode = static_cast<Opcode>(op);
    if (is_control(opcode) && (len > 125 || !fin))
      return fail(kProtocolError, "a control frame must be whole and at most 125 bytes");
    // Refused from the header alone: an oversized frame is never buffered.
    const std::size_t held = is_control(opcode) ? 0 : message_.size();
    if (len > max_ || held + len > max_)
      return fail(kTooBig, "message larger than " + std::to_string(max_) + " bytes");
    const std::size_t mask_at = at;
    if (masked) at += 4;
    if (buf_.size() < at + len) return std::nullopt;
    std::string payload = buf_.substr(at, static_cast<std::size_t>(len));
    if (masked)
      for (std::size_t i = 0; i < payload.size(); ++i) payload[i] ^= buf_[mask_at + (i % 4)];
    buf_.erase(0, at + static_cast<std::size_t>(len));

    if (is_control(opcode)) {
      if (opcode == Opcode::Close && payload.size() == 1)
        return fail(kProtocolError, "a close frame's payload is a 2-byte code, then a reason");
      return Message{opcode, std::move(payload)};
    }
    if (opcode == Opcode::Continuation) {
      if (!in_message_) return fail(kProtocolError, "a continuation frame without a message to continue");
    } else {
      if (in_message_) return fail(kProtocolError, "a new message began before the last one ended");
      in_message_ = true;
      message_op_ = opcode;
      message_.clear();
    }
    message_ += payload;
    if (!fin) continue;
    in_message_ = false;
    if (message_op_ == Opcode::Text && !drover::sdk::utf8_valid(message_))
      return fail(kInvalidData, "a text message must be UTF-8");
    return Message{message_op_, std::exchange(message_, {})};
  }
  return std::nullopt;
}

std::string encode_frame(Opcode op, std::string_view payload,
                         std::optional<std::array<uint8_t, 4>> mask) {
  std::string out;
  out.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(op)));
  const uint8_t m = mask ? 0x80 : 0;
  const uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(m | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(m | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(m | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  if (!mask) return out.append(payload);
  for (uint8_t k : *mask) out.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ (*mask)[i % 4]));
  return out;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xff));
  // Cut at a character boundary: the reason must stay UTF-8.
  std::size_t n = 0;
  while (n < reason.size()) {
    std::size_t len = drover::sdk::utf8_char_length(reason, n);
    if (len == 0 || n + len > 123) break;
    n += len;
  }
  return out.append(reason.substr(0, n));
}

bool header_has(std::string_view header, std::string_view token) {
  std::string h(header), t(token);
  std::transform(h.begin(), h.end(), h.begin(), ::tolower);
  std::transform(t.begin(), t.end(), t.begin(), ::tolower);
  return h.find(t) != std::string::npos;
}

}  // namespace drover::api::ws
