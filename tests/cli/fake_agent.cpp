// The fake agent used by the CLI command tests (see fake_agent.hpp).
#include "fake_agent.hpp"

#include <chrono>
#include <sstream>
#include <stdexcept>

#include "cli/cli.hpp"

namespace drover::cli::testing {

FakeAgent::FakeAgent() {
  // Requests are recorded in the order they arrive (pre-routing: a sequential CLI sends the
  // next one only after this one's reply), and filled in once handled (the logger: the body
  // is read by then). The logger runs after the response went out, so the CLI may return
  // before it records the request; counting requests in flight lets requests() wait for it.
  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
    std::lock_guard lock(mu_);
    ++in_flight_;
    slots_[&req] = requests_.size();
    requests_.push_back({req.method, req.path, req.params, req.headers, req.body});
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server_.set_logger([this](const httplib::Request& req, const httplib::Response&) {
    std::lock_guard lock(mu_);
    RecordedRequest full{req.method, req.path, req.params, req.headers, req.body};
    if (auto it = slots_.find(&req); it != slots_.end()) {
      requests_[it->second] = std::move(full);
      slots_.erase(it);
    } else {
      requests_.push_back(std::move(full));
    }
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

CliResult run_cli_against(const std::string& address, std::vector<std::string> args,
                          const std::string& input) {
  args.push_back("-address=" + address);
  std::ostringstream out;
  std::ostringstream err;
  std::istringstream in(input);
  CliResult result;
  result.code = drover::cli::run_cli(args, out, err, nullptr, nullptr, &in);
  result.out = out.str();
  result.err = err.str();
  return result;
}

}  // namespace drover::cli::testing
