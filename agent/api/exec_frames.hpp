// The JSON messages of Nomad's `alloc exec` websocket (docs/nomad-compat.md, "alloc exec"),
// each one websocket text message. From the client: {"stdin": {"data": base64}},
// {"stdin": {"close": true}}, {"tty_size": {"height": H, "width": W}}, and first, when the
// URL says ws_handshake=true, {"version": 1, "auth_token": str}. From the agent:
// {"stdout": {"data": base64}}, {"stderr": {"data": base64}}, then
// {"exited": true, "result": {"exit_code": N}}.
#pragma once

#include <string>
#include <string_view>

namespace drover::api {

struct ExecClientFrame {
  enum class Kind { Stdin, StdinClose, TtySize, Other } kind = Kind::Other;
  std::string data;  // Stdin: the bytes, decoded
  int height = 0, width = 0;
  std::string error;  // set when the message is malformed; names the field
};

// A message that is not JSON, or a field of the wrong type, is an error naming it; an object
// with none of the known keys (Nomad's clients send {} as a heartbeat) is Kind::Other.
ExecClientFrame parse_exec_client_frame(std::string_view text);

// The token of a ws_handshake message; an error names the field.
struct ExecHandshake {
  std::string token;
  std::string error;
};
ExecHandshake parse_exec_handshake(std::string_view text);

std::string exec_output_frame(bool is_stderr, std::string_view bytes);
std::string exec_exited_frame(int exit_code);

}  // namespace drover::api
