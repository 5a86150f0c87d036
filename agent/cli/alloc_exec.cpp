// exec_interactive (alloc_exec.hpp): the websocket handshake by hand over a socket (TLS with
// OpenSSL for an https address, trusting $DROVER_CACERT), RFC 6455 frames from
// api/websocket.hpp, Nomad's JSON messages, and the terminal in raw mode.
#include "cli/alloc_exec.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <ostream>

#include "api/peer_socket.hpp"
#include "api/websocket.hpp"
#include "drover/common/encoding.hpp"

namespace drover::cli {
namespace {

namespace ws = api::ws;
using json = nlohmann::json;

// A connection to the agent (api/peer_socket.hpp), verified by $DROVER_CACERT and with the
// client certificate of $DROVER_CLIENT_CERT and $DROVER_CLIENT_KEY when they are set.
using Conn = api::PeerSocket;

api::PeerTls tls_from_env() {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  return {env("DROVER_CACERT"), env("DROVER_CLIENT_CERT"), env("DROVER_CLIENT_KEY")};
}

// Our terminal in raw mode for the session (keys go to the remote terminal as typed, ^C
// included), put back as it was however the session ends.
class RawTerminal {
 public:
  explicit RawTerminal(bool wanted) {
    if (!wanted || !::isatty(0) || ::tcgetattr(0, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(0, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};

int winch_pipe[2] = {-1, -1};
void on_winch(int) {
  int e = errno;
  (void)!::write(winch_pipe[1], "w", 1);
  errno = e;
}

std::optional<std::pair<int, int>> terminal_size() {
  winsize w{};
  for (int fd : {0, 1, 2})
    if (::ioctl(fd, TIOCGWINSZ, &w) == 0 && w.ws_row > 0 && w.ws_col > 0)
      return std::make_pair(static_cast<int>(w.ws_row), static_cast<int>(w.ws_col));
  return std::nullopt;
}

std::array<uint8_t, 4> random_mask() {
  std::array<uint8_t, 4> m{};
  RAND_bytes(m.data(), static_cast<int>(m.size()));
  return m;
}

std::string random_key() {
  unsigned char raw[16];
  RAND_bytes(raw, sizeof raw);
  return base64_encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
}

bool send_text(Conn& c, const std::string& text) {
  return c.write_all(ws::encode_frame(ws::Opcode::Text, text, random_mask()));
}

// Reads the reply to the upgrade: 101, or the agent's refusal as an error message.
Result<std::string> read_upgrade_reply(Conn& c, const std::string& key) {
  std::string buf;
  char tmp[4096];
  while (buf.find("\r\n\r\n") == std::string::npos) {
    long n = c.read(tmp, sizeof tmp);
    if (n <= 0) return make_error("the agent closed the connection during the websocket handshake");
    buf.append(tmp, static_cast<std::size_t>(n));
    if (buf.size() > 65536) return make_error("the agent's reply to the upgrade is too long");
  }
  auto end = buf.find("\r\n\r\n");
  std::string head = buf.substr(0, end);
  std::string rest = buf.substr(end + 4);
  auto sp = head.find(' ');
  int status = sp == std::string::npos ? 0 : std::atoi(head.c_str() + sp + 1);
  if (status == 101) {
    if (head.find("Sec-WebSocket-Accept: " + ws::accept_key(key)) == std::string::npos)
      return make_error("the agent's websocket handshake has a wrong Sec-WebSocket-Accept");
    return rest;
  }
  std::size_t length = 0;
  if (auto cl = head.find("Content-Length: "); cl != std::string::npos)
    length = std::strtoul(head.c_str() + cl + 16, nullptr, 10);
  while (rest.size() < length && rest.size() < 65536) {
    long n = c.read(tmp, sizeof tmp);
    if (n <= 0) break;
    rest.append(tmp, static_cast<std::size_t>(n));
  }
  ApiResponse r;
  r.status = status;
  r.body = rest;
  return make_error(describe_api_error(r));
}

}  // namespace

int exec_interactive(Context& ctx, const InteractiveExec& o) {
  Conn conn;
  if (auto st = conn.connect(ctx.api.address(), tls_from_env()); !st) {
    // Worded as every other command words it (cli/api_client.cpp).
    std::string why = st.message();
    if (why.rfind("cannot reach ", 0) == 0) why.insert(13, "the drover agent at ");
    return print_error(ctx, why);
  }
  const std::string key = random_key();
  std::string target =
      o.action.empty()
          ? "/v1/client/allocation/" + url_escape(o.alloc_id) + "/exec?task=" + url_escape(o.task) +
                "&command=" + url_escape(json(o.command).dump())
          : "/v1/job/" + url_escape(o.job_id) + "/action?action=" + url_escape(o.action) +
                "&allocID=" + url_escape(o.alloc_id) + "&task=" + url_escape(o.task);
  target += std::string("&tty=") + (o.tty ? "true" : "false");
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + conn.host_header() +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                        key + "\r\nSec-WebSocket-Version: 13\r\n";
  if (!ctx.api.token().empty()) request += "X-Nomad-Token: " + ctx.api.token() + "\r\n";
  if (!conn.write_all(request + "\r\n"))
    return print_error(ctx, "cannot send the exec request to " + ctx.api.address());
  auto leftover = read_upgrade_reply(conn, key);
  if (!leftover) return print_error(ctx, leftover.message());

  ws::FrameReader reader(16 << 20, /*clients_mask=*/false);
  reader.feed(*leftover);
  RawTerminal raw(o.tty && o.stdin_open);
  if (o.tty) {
    if (::pipe2(winch_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
      struct sigaction sa {};
      sa.sa_handler = on_winch;
      sa.sa_flags = SA_RESTART;
      ::sigaction(SIGWINCH, &sa, nullptr);
    }
    if (auto size = terminal_size())
      send_text(conn, json{{"tty_size", {{"height", size->first}, {"width", size->second}}}}.dump());
  }
  bool stdin_open = o.stdin_open;
  if (!stdin_open) send_text(conn, R"({"stdin":{"close":true}})");
  std::optional<int> exit_code;
  std::string close_reason;
  bool closed = false;
  while (!closed) {
    while (auto m = reader.next()) {
      if (m->opcode == ws::Opcode::Close) {
        if (m->payload.size() > 2) close_reason = m->payload.substr(2);
        (void)conn.write_all(ws::encode_frame(ws::Opcode::Close, m->payload.substr(0, 2), random_mask()));
        closed = true;
        break;
      }
      if (m->opcode == ws::Opcode::Ping) {
        (void)conn.write_all(ws::encode_frame(ws::Opcode::Pong, m->payload, random_mask()));
        continue;
      }
      if (m->opcode != ws::Opcode::Text) continue;
      auto j = json::parse(m->payload, nullptr, false);
      if (!j.is_object()) continue;
      for (const char* stream : {"stdout", "stderr"}) {
        if (!j.contains(stream) || !j[stream].is_object() || !j[stream].contains("data")) continue;
        auto bytes = base64_decode(j[stream].value("data", ""));
        if (!bytes) continue;
        std::ostream& to = std::string(stream) == "stdout" ? ctx.out : ctx.err;
        to << *bytes;
        to.flush();
      }
      if (j.value("exited", false) && j.contains("result") && j["result"].is_object())
        exit_code = j["result"].value("exit_code", 0);
    }
    if (closed) break;
    if (reader.failed()) {
      close_reason = reader.error();
      break;
    }
    pollfd p[3] = {{conn.fd(), POLLIN, 0},
                   {stdin_open ? 0 : -1, POLLIN, 0},
                   {winch_pipe[0], POLLIN, 0}};
    if (!conn.pending() && ::poll(p, 3, -1) < 0 && errno != EINTR) break;
    if (conn.pending() || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[16384];
      long n = conn.read(buf, sizeof buf);
      if (n <= 0) break;
      reader.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[8192];
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n > 0) {
        send_text(conn, json{{"stdin", {{"data", base64_encode(std::string_view(buf, static_cast<std::size_t>(n)))}}}}.dump());
      } else if (n == 0 || errno != EINTR) {
        stdin_open = false;
        send_text(conn, R"({"stdin":{"close":true}})");
      }
    }
    if (p[2].revents & POLLIN) {
      char drain[64];
      while (::read(winch_pipe[0], drain, sizeof drain) > 0) {
      }
      if (auto size = terminal_size())
        send_text(conn, json{{"tty_size", {{"height", size->first}, {"width", size->second}}}}.dump());
    }
  }
  if (exit_code) return *exit_code;
  return print_error(ctx, "the exec session ended without the command's exit code" +
                              (close_reason.empty() ? std::string() : ": " + close_reason));
}

}  // namespace drover::cli
