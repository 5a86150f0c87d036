// The fake agent used by the CLI command tests (see fake_agent.hpp).
#include "fake_agent.hpp"

#include <chrono>
#include <sstream>
#include <stdexcept>

#include "cli/cli.hpp"

namespace drover::cli::testing {

FakeAgent::FakeAgent() {
  // The logger runs after the response went out, so the CLI may return before it records the
  // request; counting requests in flight from pre-routing lets requests() wait for it.
  server_.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
    std::lock_guard lock(mu_);
    ++in_flight_;
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server_.set_logger([this](const httplib::Request& req, const httplib::Response&) {
    std::lock_guard lock(mu_);
    requests_.push_back({req.method, req.path, req.params, req.headers, req.body});
    --in_flight_;
    settled_.notify_all();
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("fake agent: cannot bind a loopback port");
}

FakeAgent::~FakeAgent() { stop(); }

void FakeAgent::start() {
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // The socket already listens (bind_to_any_port), but stop() only works once the accept
  // loop runs.
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void FakeAgent::stop() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::vector<RecordedRequest> FakeAgent::requests() const {
  std::unique_lock lock(mu_);
  settled_.wait_for(lock, std::chrono::seconds(5), [this] { return in_flight_ == 0; });
  return requests_;
}

void reply_json(httplib::Response& res, const std::string& json, int status) {
  res.status = status;
  res.set_content(json, "application/json");
}

CliResult run_cli_against(const std::string& address, std::vector<std::string> args) {
  args.push_back("-address=" + address);
  std::ostringstream out;
  std::ostringstream err;
  CliResult result;
  result.code = drover::cli::run_cli(args, out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

}  // namespace drover::cli::testing
