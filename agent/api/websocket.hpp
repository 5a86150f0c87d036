// RFC 6455 websockets, the part the agent's API needs (`alloc exec`, docs/nomad-compat.md):
// the handshake's accept key, and frames read and written as bytes, with no socket here, so
// the unit tests and a fuzz target drive it alone. Client frames must be masked (section 5.1),
// messages are bounded, fragments are joined, control frames may come between fragments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace drover::api::ws {

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view client_key);
// Whether the key is what a client must send: the base64 of 16 bytes.
bool valid_client_key(std::string_view key);

enum class Opcode : uint8_t { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };

// Close codes (RFC 6455, section 7.4.1).
constexpr uint16_t kNormalClose = 1000;
constexpr uint16_t kGoingAway = 1001;
constexpr uint16_t kProtocolError = 1002;
constexpr uint16_t kInvalidData = 1007;
constexpr uint16_t kPolicyViolation = 1008;
constexpr uint16_t kTooBig = 1009;
constexpr uint16_t kInternalError = 1011;

// A whole message (its fragments joined) or one control frame.
struct Message {
  Opcode opcode = Opcode::Text;
  std::string payload;
};

// Reads frames as the bytes arrive. After an error it stays failed: the connection is to be
// closed with close_code() and error() as the reason.
class FrameReader {
 public:
  // clients_mask: frames must be masked (a server reading a client); false for a client.
  explicit FrameReader(std::size_t max_message_bytes, bool clients_mask = true)
      : max_(max_message_bytes), masked_(clients_mask) {}

  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next message; nullopt when more bytes are needed or it failed (see failed()).
  std::optional<Message> next();
  bool failed() const { return code_ != 0; }
  uint16_t close_code() const { return code_; }
  const std::string& error() const { return error_; }

 private:
  std::optional<Message> fail(uint16_t code, std::string why);

  std::size_t max_;
  bool masked_;
  std::string buf_;
  // A fragmented message being joined.
  bool in_message_ = false;
  Opcode message_op_ = Opcode::Text;
  std::string message_;
  uint16_t code_ = 0;
  std::string error_;
};

// One frame with FIN set. A client masks with `mask`; a server sends none.
std::string encode_frame(Opcode op, std::string_view payload,
                         std::optional<std::array<uint8_t, 4>> mask = std::nullopt);
// A close frame's payload: the code (big-endian) and a reason cut to fit 125 bytes.
std::string close_payload(uint16_t code, std::string_view reason);

// Whether an HTTP header's value names `token`, in any case ("Upgrade: websocket",
// "Connection: keep-alive, Upgrade").
bool header_has(std::string_view header, std::string_view token);

}  // namespace drover::api::ws
