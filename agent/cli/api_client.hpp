// The CLI's HTTP client for the agent's API: one request per call, the address and token
// applied to each, transport failures and API errors turned into values with one clear message.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "drover/common/result.hpp"

namespace drover::cli {

struct ApiResponse {
  int status = 0;
  std::string body;
};

class ApiClient {
 public:
  // `address` is a URL such as http://127.0.0.1:4646 (a missing scheme means http://);
  // `token`, when not empty, goes out as X-Nomad-Token.
  ApiClient(std::string address, std::string token);

  const std::string& address() const { return address_; }
  const std::string& token() const { return token_; }

  // A failed Result means the request never got an answer (agent down, bad address); any
  // HTTP status, 4xx and 5xx included, is a successful Result.
  Result<ApiResponse> get(const std::string& path) const;
  Result<ApiResponse> post(const std::string& path, const std::string& body,
                           const std::string& content_type) const;
  Result<ApiResponse> put(const std::string& path, const std::string& body,
                          const std::string& content_type) const;
  Result<ApiResponse> del(const std::string& path) const;

  // GET whose 2xx body goes to `on_data` chunk by chunk as it arrives (return false to stop);
  // a non-2xx body is collected into the returned response instead. `read_timeout` bounds the
  // wait for each chunk (a followed log may be quiet for long).
  Result<ApiResponse> stream(const std::string& path,
                             const std::function<bool(const char*, std::size_t)>& on_data,
                             std::chrono::seconds read_timeout) const;

  // GET/POST/DELETE that expect a 2xx JSON answer; anything else becomes an error whose
  // message is the agent's "error" and, one per line below it, its "problems".
  Result<nlohmann::json> get_json(const std::string& path) const;
  Result<nlohmann::json> post_json(const std::string& path, const std::string& body,
                                   const std::string& content_type) const;
  Result<nlohmann::json> del_json(const std::string& path) const;

 private:
  std::string address_;
  std::string token_;
};

// The message for a non-2xx answer: the agent's {"error", "problems"} when the body has them,
// else the status code and the body's first line.
std::string describe_api_error(const ApiResponse& response);

// A 2xx response parsed as JSON (an empty body is null), else describe_api_error.
Result<nlohmann::json> parse_api_json(const ApiResponse& response);

// Percent-encodes a path segment or query value, so an id or task name can never add path
// segments ("../") or query parameters to a request.
std::string url_escape(const std::string& s);

}  // namespace drover::cli
