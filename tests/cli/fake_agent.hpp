// A fake drover agent for CLI tests: an httplib::Server on a free loopback port that answers
// with the shapes the real agent returns and records every request it was sent.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace drover::cli::testing {

struct RecordedRequest {
  std::string method;
  std::string path;  // decoded, without the query
  httplib::Params params;
  httplib::Headers headers;
  std::string body;
};

class FakeAgent {
 public:
  FakeAgent();
  ~FakeAgent();
  FakeAgent(const FakeAgent&) = delete;
  FakeAgent& operator=(const FakeAgent&) = delete;

  // Register routes on server() first, then start().
  httplib::Server& server() { return server_; }
  void start();
  void stop();

  std::string address() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // Every request answered so far, once those being answered are done.
  std::vector<RecordedRequest> requests() const;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable settled_;
  int in_flight_ = 0;
  std::vector<RecordedRequest> requests_;
  std::map<const httplib::Request*, std::size_t> slots_;  // requests being handled: their place
};

// Serves `json` with status `status` as application/json.
void reply_json(httplib::Response& res, const std::string& json, int status = 200);

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs the CLI with `args` plus -address pointing at `address`; `input` is what the user types
// at its prompts (nothing: stdin at its end).
CliResult run_cli_against(const std::string& address, std::vector<std::string> args,
                          const std::string& input = "");

}  // namespace drover::cli::testing
