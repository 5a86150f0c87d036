// ExecSession (drover/loader/exec_session.hpp) and DriverPlugin::exec_stream: the agent's
// side of drover_driver_exec_stream_v1.
#include "drover/loader/exec_session.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "drover/common/json_text.hpp"
#include "drover/loader/registry.hpp"
#include "out_strings.hpp"

namespace drover::plugins {
namespace {

drover::Error call_error(const std::string& driver, const char* call, drover_status st,
                         const OutStrings& s) {
  return drover::make_error("driver " + driver + ": " + call + ": " + call_failure(st, s));
}

}  // namespace

ExecSession::ExecSession(std::string driver, const drover_plugin* plugin, void* instance,
                         const drover_exec_stream_v1* calls, void* session,
                         std::array<int, 4> fds, bool tty)
    : driver_(std::move(driver)),
      plugin_(plugin),
      instance_(instance),
      calls_(calls),
      session_(session),
      fds_(fds),
      tty_(tty) {}

ExecSession::~ExecSession() {
  for (int& fd : fds_)
    if (fd >= 0) ::close(std::exchange(fd, -1));
  calls_->close(instance_, session_);
}

void ExecSession::close_input() {
  if (tty_ || fds_[0] < 0) return;
  ::close(std::exchange(fds_[0], -1));
}

void ExecSession::close_output() {
  if (tty_) return;
  for (int i : {1, 2})
    if (fds_[i] >= 0) ::close(std::exchange(fds_[i], -1));
}

Result<std::optional<ExitResult>> ExecSession::wait(std::chrono::milliseconds timeout) {
  OutStrings s(plugin_);
  drover_status st = calls_->wait(instance_, session_, timeout.count(), &s.out, &s.error);
  if (st == DROVER_STILL_RUNNING) return std::optional<ExitResult>();
  if (st != DROVER_OK) return call_error(driver_, "exec wait", st, s);
  auto j = nlohmann::json::parse(s.out ? s.out : "", nullptr, false);
  if (!j.is_object() || !j.contains("ExitCode") || !j["ExitCode"].is_number_integer())
    return drover::make_error("driver " + driver_ + ": exec wait: returned no ExitCode");
  ExitResult r;
  r.exit_code = j["ExitCode"].get<int>();
  if (j.contains("Signal") && j["Signal"].is_number_integer()) r.signal = j["Signal"].get<int>();
  return std::optional<ExitResult>(r);
}

Status ExecSession::resize(int height, int width) {
  OutStrings s(plugin_);
  drover_status st = calls_->resize(instance_, session_, height, width, &s.error);
  if (st != DROVER_OK) return call_error(driver_, "exec resize", st, s);
  return {};
}

Status ExecSession::kill() {
  OutStrings s(plugin_);
  drover_status st = calls_->kill(instance_, session_, &s.error);
  if (st != DROVER_OK) return call_error(driver_, "exec kill", st, s);
  return {};
}

bool DriverPlugin::supports_exec_stream() {
  if (exec_stream_ == nullptr) return false;
  auto caps = capabilities();
  return caps.is_object() && caps.value("Exec", false) == true;
}

Result<std::unique_ptr<ExecSession>> DriverPlugin::exec_stream(const nlohmann::json& handle,
                                                               const ExecRequest& request) {
  if (!supports_exec_stream())
    return drover::make_error("driver " + name() + ": exec: not supported by this driver");
  if (request.argv.empty()) return drover::make_error("driver " + name() + ": exec: no command");
  OutStrings s(plugin_);
  const std::string h = drover::json_text(handle);
  const std::string r = drover::json_text(nlohmann::json{{"Command", request.argv},
                                                         {"Tty", request.tty},
                                                         {"Height", request.height},
                                                         {"Width", request.width}});
  void* session = nullptr;
  int fds[4] = {-1, -1, -1, -1};
  drover_status st = exec_stream_->start(instance_, h.c_str(), r.c_str(), &session, fds, &s.error);
  if (st != DROVER_OK) {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
    return call_error(name(), "exec", st, s);
  }
  return std::make_unique<ExecSession>(name(), plugin_, instance_, exec_stream_, session,
                                       std::array<int, 4>{fds[0], fds[1], fds[2], fds[3]},
                                       request.tty);
}

}  // namespace drover::plugins
