// The exec websocket (api/exec_endpoint.hpp): the HTTP checks, the upgrade, and the session
// relay between the websocket and the command's descriptors, on the worker that took the
// request (as a followed log holds one). Sessions are capped so that they never take every
// worker.
#include "api/exec_endpoint.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "api/acl.hpp"
#include "api/exec_frames.hpp"
#include "api/http_api.hpp"
#include "api/http_server.hpp"
#include "api/json_reply.hpp"
#include "api/request_facts.hpp"
#include "api/websocket.hpp"
#include "api/ws_upgrade.hpp"
#include "drover/loader/registry.hpp"
#include "runner/alloc_manager.hpp"

namespace drover::api {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kMaxSessions = 8;                    // of the API's 16 workers
constexpr std::size_t kMaxMessageBytes = 1 << 20;  // one client message, base64 included
constexpr std::size_t kMaxPendingInput = 1 << 20;  // typed ahead of what the command read
constexpr std::size_t kReadChunk = 32 * 1024;
constexpr auto kHandshakeTimeout = 10s;
// After the command exits, what it left in its output is still sent; a process it started
// in the background may hold the output open, so the relay stops once it is quiet this long.
constexpr auto kDrainQuiet = 200ms;

std::atomic<int> sessions{0};

struct ExecParams {
  std::string alloc;   // the id or a unique prefix
  std::string job_id;  // an action's: the job the alloc must be of
  std::string task;
  std::vector<std::string> command;  // an action's is looked up in the alloc's job
  std::string action;
  bool tty = false;
  bool ws_handshake = false;
};

Status tty_flags(const httplib::Request& req, ExecParams& p) {
  for (auto [name, out] : {std::pair<const char*, bool*>{"tty", &p.tty}, {"ws_handshake", &p.ws_handshake}}) {
    auto v = req.get_param_value(name);
    if (v.empty() || v == "false") continue;
    if (v != "true") return make_error(std::string(name) + ": must be true or false", Errc::Invalid);
    *out = true;
  }
  return {};
}

// GET /v1/job/:job/action?action=A&allocID=ID&task=T (Nomad's `job action`): the alloc's id
// and the action's name instead of a command.
Result<ExecParams> action_params(const httplib::Request& req) {
  ExecParams p;
  p.job_id = req.matches[1];
  for (auto [name, out] : {std::pair<const char*, std::string*>{"action", &p.action},
                           {"allocID", &p.alloc},
                           {"task", &p.task}})
    if ((*out = req.get_param_value(name)).empty())
      return make_error(std::string(name) + ": required", Errc::Invalid);
  if (auto st = tty_flags(req, p); !st) return st.error();
  return p;
}

// The query's fields; an error names the one at fault.
Result<ExecParams> exec_params(const httplib::Request& req) {
  ExecParams p;
  p.alloc = req.matches[1];
  p.task = req.get_param_value("task");
  if (p.task.empty()) return make_error("task: required", Errc::Invalid);
  auto cmd = json::parse(req.get_param_value("command"), nullptr, false);
  if (cmd.is_discarded() || !cmd.is_array() || cmd.empty() ||
      !std::all_of(cmd.begin(), cmd.end(), [](const json& a) { return a.is_string(); }))
    return make_error("command: must be a JSON array of strings, not empty (e.g. [\"/bin/sh\"])",
                      Errc::Invalid);
  for (std::size_t i = 0; i < cmd.size(); ++i) {
    const auto& a = cmd[i].get_ref<const std::string&>();
    if (a.find('\0') != std::string::npos)
      return make_error("command[" + std::to_string(i) + "]: must not contain a NUL byte",
                        Errc::Invalid);
    p.command.push_back(a);
  }
  if (p.command[0].empty()) return make_error("command[0]: must not be empty", Errc::Invalid);
  if (auto st = tty_flags(req, p); !st) return st.error();
  return p;
}

// The relay of one session, on the connection taken over after the 101.
class Relay {
 public:
  explicit Relay(UpgradedConnection& conn) : conn_(conn) {}

  bool send_text(const std::string& text) { return send(ws::Opcode::Text, text); }
  void close(uint16_t code, std::string_view reason) {
    if (closed_) return;
    closed_ = true;
    (void)send(ws::Opcode::Close, ws::close_payload(code, reason));
  }
  bool closed() const { return closed_; }

  // The next text message within `timeout`, answering pings; nullopt when the client went
  // away, closed, or broke the protocol (the close is sent).
  std::optional<std::string> read_text(Clock::duration timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto m = next_message()) {
        if (m->opcode == ws::Opcode::Text) return m->payload;
        continue;
      }
      if (gone_ || closed_) return std::nullopt;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        close(ws::kPolicyViolation, "no handshake message in time");
        return std::nullopt;
      }
      pollfd p{conn_.fd(), POLLIN, 0};
      if (!conn_.pending()) ::poll(&p, 1, static_cast<int>(left.count()));
      if (!fill()) return std::nullopt;
    }
  }

  // Reads what the socket has into the frame reader; false once the client is gone.
  bool fill() {
    char buf[16384];
    for (;;) {
      long n = conn_.read_some(buf, sizeof buf);
      if (n == UpgradedConnection::kWouldBlock) return true;
      if (n <= 0) {
        gone_ = true;
        return false;
      }
      reader_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      if (n < static_cast<long>(sizeof buf) && !conn_.pending()) return true;
    }
  }

  // A whole data message; control frames are answered here. nullopt: none buffered (or the
  // session is over: gone_ or closed_).
  std::optional<ws::Message> next_message() {
    while (!closed_) {
      auto m = reader_.next();
      if (!m) {
        if (reader_.failed()) close(reader_.close_code(), reader_.error());
        return std::nullopt;
      }
      switch (m->opcode) {
        case ws::Opcode::Ping:
          send(ws::Opcode::Pong, m->payload);
          continue;
        case ws::Opcode::Pong:
          continue;
        case ws::Opcode::Close:
          close(ws::kNormalClose, "");
          return std::nullopt;
        default:
          return m;
      }
    }
    return std::nullopt;
  }

  bool gone() const { return gone_; }

 private:
  bool send(ws::Opcode op, std::string_view payload) {
    if (gone_) return false;
    if (!conn_.write_all(ws::encode_frame(op, payload))) {
      gone_ = true;
      return false;
    }
    return true;
  }

  UpgradedConnection& conn_;
  ws::FrameReader reader_{kMaxMessageBytes};
  bool closed_ = false;
  bool gone_ = false;
};

// Moves bytes between the websocket and the command until it has exited and its output is
// sent, or the client goes away (the command is then killed by the session's end).
void pump(Relay& relay, UpgradedConnection& conn, plugins::ExecSession& s) {
  int out_fds[2] = {s.stdout_fd(), s.stderr_fd()};
  // Nothing here may block: a command that does not read its input must not stop its output
  // (with a terminal, input and output are the one master).
  for (int fd : {s.input_fd(), out_fds[0], out_fds[1]})
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string pending_input;
  bool input_closing = false;
  std::optional<plugins::ExitResult> exit;
  Clock::time_point quiet_since{};  // since when no output came, while `quiet`
  bool quiet = false;

  auto check_exit = [&] {
    if (exit) return;
    auto r = s.wait(0ms);
    if (!r) {
      spdlog::warn("exec: {}", r.message());
      exit = plugins::ExitResult{-1, 0, false, r.message()};
    } else if (*r) {
      exit = **r;
    }
  };

  while (!relay.closed() && !relay.gone()) {
    if (conn.stopping()) {
      relay.close(ws::kGoingAway, "the agent is stopping");
      return;
    }
    // Client messages already buffered are handled before waiting again.
    while (auto m = relay.next_message()) {
      if (m->opcode != ws::Opcode::Text) continue;  // Nomad's messages are text
      auto f = parse_exec_client_frame(m->payload);
      if (!f.error.empty()) {
        relay.close(ws::kInvalidData, f.error);
        return;
      }
      if (f.kind == ExecClientFrame::Kind::Stdin && !input_closing) {
        pending_input += f.data;
      } else if (f.kind == ExecClientFrame::Kind::StdinClose) {
        input_closing = true;
      } else if (f.kind == ExecClientFrame::Kind::TtySize && f.height > 0 && f.width > 0) {
        if (auto st = s.resize(f.height, f.width); !st) spdlog::warn("exec: {}", st.message());
      }
    }
    if (relay.closed() || relay.gone()) return;
    if (pending_input.empty() && input_closing) s.close_input();

    const bool outputs_open = out_fds[0] >= 0 || out_fds[1] >= 0;
    if (exit && (!outputs_open || (quiet && Clock::now() - quiet_since >= kDrainQuiet))) {
      relay.send_text(exec_exited_frame(exit->exit_code));
      relay.close(ws::kNormalClose, "");
      return;
    }

    std::vector<pollfd> p;
    // Typed-ahead input beyond the cap waits in the socket: the client is slowed down.
    p.push_back({conn.fd(), static_cast<short>(pending_input.size() < kMaxPendingInput ? POLLIN : 0), 0});
    const std::size_t first_out = p.size();
    for (int fd : out_fds) p.push_back({fd, POLLIN, 0});
    const std::size_t in_at = p.size();
    p.push_back({pending_input.empty() ? -1 : s.input_fd(), POLLOUT, 0});
    const std::size_t exit_at = p.size();
    p.push_back({exit ? -1 : s.exit_fd(), POLLIN, 0});
    int timeout = 500;  // how soon a stopping server is noticed
    if (!exit && s.exit_fd() < 0) timeout = 100;  // no exit fd: wait is asked now and then
    if (exit) timeout = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(kDrainQuiet).count());
    if (conn.pending()) timeout = 0;  // bytes already read (TLS) wait for no socket event
    int r = ::poll(p.data(), p.size(), timeout);
    if (r < 0 && errno != EINTR) return;

    if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) || conn.pending()) {
      if (!relay.fill() && relay.gone()) return;
    }
    bool got_output = false;
    for (std::size_t i = 0; i < 2; ++i) {
      const auto& pf = p[first_out + i];
      if (pf.fd < 0 || !(pf.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[kReadChunk];
      ssize_t n = ::read(pf.fd, buf, sizeof buf);
      if (n > 0) {
        got_output = true;
        if (!relay.send_text(exec_output_frame(i == 1, std::string_view(buf, static_cast<std::size_t>(n)))))
          return;
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        // EOF, or EIO on a terminal's master once nothing holds its other side.
        out_fds[i] = -1;
      }
    }
    if (out_fds[0] < 0 && out_fds[1] < 0) s.close_output();
    if (!pending_input.empty() && (p[in_at].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(s.input_fd(), pending_input.data(), pending_input.size());
      if (n > 0) {
        pending_input.erase(0, static_cast<std::size_t>(n));
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        pending_input.clear();  // the command closed its input: what was typed is dropped
        input_closing = true;
      }
    }
    if (!exit && (p[exit_at].revents || s.exit_fd() < 0 || (out_fds[0] < 0 && out_fds[1] < 0))) {
      check_exit();
      // Its output ended first: the exit follows at once (the driver's wait blocks briefly).
      if (!exit && out_fds[0] < 0 && out_fds[1] < 0 && s.exit_fd() < 0) {
        auto w = s.wait(100ms);
        if (w && *w) exit = **w;
      }
    }
    if (exit) {
      if (got_output) {
        quiet = false;
      } else if (!quiet) {
        quiet = true;
        quiet_since = Clock::now();
      }
    }
  }
}

void run_session(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                 Result<ExecParams> params) {
  if (!params) return reply_error(res, 400, params.message());
  const std::optional<std::string> key = websocket_key(req, res);
  if (!key) return;
  // Where the client's ws_handshake carries its token, nothing is looked up or started before
  // it is checked (not even whether the alloc exists).
  const bool token_later = ctx.acl != nullptr && exec_token_in_first_message(
      req.method, req.path, req.get_header_value("Upgrade"), req.get_param_value("ws_handshake"),
      request_token(req.get_header_value("X-Nomad-Token"), req.get_header_value("Authorization")));
  // A refusal as the HTTP status it would have had: Internal (the driver cannot run the
  // command) and Unsupported (it cannot exec at all) are the caller's to fix.
  auto status_of = [](const Error& e) {
    return e.code == Errc::Internal || e.code == Errc::Unsupported ? 400 : http_status(e.code);
  };
  std::string alloc_id;
  if (!token_later) {
    auto id = ctx.allocs->resolve_alloc_id(params->alloc);
    if (!id) return reply_error(res, id.error());
    alloc_id = *id;
  }

  const SessionSlot slot(sessions, kMaxSessions);
  if (!slot.held())
    return reply_error(res, 429, "too many exec sessions on this agent (the limit is " +
                                     std::to_string(kMaxSessions) + ")");

  plugins::ExecRequest request{params->command, params->tty, 0, 0};
  auto start = [&]() -> Result<std::unique_ptr<plugins::ExecSession>> {
    if (!params->action.empty()) {
      auto argv = ctx.allocs->action_command(alloc_id, params->job_id, params->task, params->action);
      if (!argv) return argv.error();
      request.argv = std::move(*argv);
    }
    return ctx.allocs->exec_stream(alloc_id, params->task, request);
  };
  Result<std::unique_ptr<plugins::ExecSession>> session = make_error("not started");
  if (!token_later) {
    session = start();
    if (!session) return reply_error(res, status_of(session.error()), session.message());
  }

  UpgradedConnection* conn = accept_websocket(res, *key);
  if (conn == nullptr) return;
  Relay relay(*conn);
  if (params->ws_handshake) {
    auto first = relay.read_text(kHandshakeTimeout);
    if (!first) return;
    auto hs = parse_exec_handshake(*first);
    if (!hs.error.empty()) return relay.close(ws::kPolicyViolation, hs.error);
    if (token_later) {
      // Named briefly: a close frame's reason holds 123 bytes.
      if (auto refusal = authorize(*ctx.acl, exec_facts(req, hs.token), "this agent",
                                   alloc_namespace_lookup(ctx)))
        return relay.close(ws::kPolicyViolation, refusal->message.substr(0, 123));
    }
  }
  if (token_later) {
    // Application close codes (4000-4999, RFC 6455 7.4.2): 4000 + the HTTP status.
    auto id = ctx.allocs->resolve_alloc_id(params->alloc);
    if (!id) return relay.close(static_cast<uint16_t>(4000 + status_of(id.error())), id.error().message);
    alloc_id = *id;
    session = start();
    if (!session)
      return relay.close(static_cast<uint16_t>(4000 + status_of(session.error())), session.message());
  }
  const std::string who = "alloc " + alloc_id + " task " + params->task;
  if (params->action.empty())
    spdlog::info("exec: {} started {} (tty {})", who, request.argv[0], params->tty);
  else
    spdlog::info("exec: {} started action {}: {} (tty {})", who, params->action, request.argv[0],
                 params->tty);
  pump(relay, *conn, **session);
  spdlog::info("exec: {} ended", who);
}

}  // namespace

bool exec_token_in_first_message(std::string_view method, std::string_view path,
                                 std::string_view upgrade, std::string_view ws_handshake,
                                 std::string_view header_token) {
  const bool exec = (path.starts_with("/v1/client/allocation/") && path.ends_with("/exec")) ||
                    (path.starts_with("/v1/job/") && path.ends_with("/action"));
  return method == "GET" && exec && ws::header_has(upgrade, "websocket") && ws_handshake == "true" && header_token.empty();
}

void register_exec_endpoint(httplib::Server& server, const ApiContext& ctx) {
  server.Get(R"(/v1/client/allocation/([^/]+)/exec)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    run_session(ctx, req, res, exec_params(req));
  });
}

void register_action_endpoint(httplib::Server& server, const ApiContext& ctx) {
  server.Get(R"(/v1/job/(.+)/action)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    run_session(ctx, req, res, action_params(req));
  });
}

}  // namespace drover::api
