// Nomad's exec messages (api/exec_frames.hpp).
#include "api/exec_frames.hpp"

#include <nlohmann/json.hpp>

#include "drover/common/encoding.hpp"

namespace drover::api {

using json = nlohmann::json;

ExecClientFrame parse_exec_client_frame(std::string_view text) {
  ExecClientFrame f;
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    f.error = "a message must be a JSON object";
    return f;
  }
  if (auto in = j.find("stdin"); in != j.end() && !in->is_null()) {
    if (!in->is_object()) {
      f.error = "stdin: must be an object";
      return f;
    }
    if (in->value("close", false) == true) {
      f.kind = ExecClientFrame::Kind::StdinClose;
      return f;
    }
    auto data = in->find("data");
    if (data == in->end() || !data->is_string()) {
      f.error = "stdin.data: must be a base64 string";
      return f;
    }
    auto bytes = base64_decode(data->get_ref<const std::string&>());
    if (!bytes) {
      f.error = "stdin.data: not base64";
      return f;
    }
    f.kind = ExecClientFrame::Kind::Stdin;
    f.data = std::move(*bytes);
    return f;
  }
  if (auto size = j.find("tty_size"); size != j.end() && !size->is_null()) {
    auto h = size->is_object() ? size->find("height") : size->end();
    auto w = size->is_object() ? size->find("width") : size->end();
    if (h == size->end() || w == size->end() || !h->is_number_integer() ||
        !w->is_number_integer() || *h < 0 || *w < 0 || *h > 65535 || *w > 65535) {
      f.error = "tty_size: must be {\"height\": int, \"width\": int}, each 0 to 65535";
      return f;
    }
    f.kind = ExecClientFrame::Kind::TtySize;
    f.height = h->get<int>();
    f.width = w->get<int>();
  }
  return f;
}

ExecHandshake parse_exec_handshake(std::string_view text) {
  ExecHandshake h;
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    h.error = "the first message must be the handshake {\"version\": 1, \"auth_token\": str}";
    return h;
  }
  if (j.value("version", 0) != 1) {
    h.error = "handshake: version must be 1";
    return h;
  }
  if (auto t = j.find("auth_token"); t != j.end()) {
    if (!t->is_string()) {
      h.error = "handshake: auth_token must be a string";
      return h;
    }
    h.token = t->get<std::string>();
  }
  return h;
}

std::string exec_output_frame(bool is_stderr, std::string_view bytes) {
  return json{{is_stderr ? "stderr" : "stdout", {{"data", base64_encode(bytes)}}}}.dump();
}

std::string exec_exited_frame(int exit_code) {
  return json{{"exited", true}, {"result", {{"exit_code", exit_code}}}}.dump();
}

}  // namespace drover::api
